"""List semantics shared by the API and the browse pages: filters, sort, marker paging, parameters, querysets."""
