"""List semantics shared by API and pages: filters, sort, marker paging, parameters, querysets."""
