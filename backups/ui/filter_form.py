"""``FilterForm``: the FilterSet's parameters as the page's form controls, with each one's error."""
from backups import choices
from backups.listing.keyset import PARAMETERS as PAGING_PARAMETERS
from backups.listing.parameters import SEARCH_PARAMETER, SORT_PARAMETER

from .sorting import SORT_MENU


class FilterForm:
    """The filter form of one page request: text inputs and select boxes, main ones and "More filters".

    Built from the request's ``ListParameters``: each control is a FilterSet parameter (the API's
    name), so the form's GET is an API query.
    """

    #: Controls that are select boxes rather than text inputs: name -> ((value, label), ...).
    SELECTS = {
        "status": tuple(choices.ItemStatus.choices),
        "image_type": tuple(choices.ImageType.choices),
        "dec": (("true", "Yes"), ("false", "No")),
    }
    PLACEHOLDERS = {
        "start_time": "e.g. 2017-04-18T01:21 (UTC)",
        "end_time": "e.g. 2017-04-18T23:59 (UTC)",
        "resource_type": "e.g. OS::Nova::Server",
        "ip": "e.g. 192.168.0.10",
    }
    #: Filters shown above the fold; the others sit in "More filters".
    MAIN = ("status", "start_time", "end_time")

    def __init__(self, query):
        self.query = query
        self.fields = [self.field(name, filter_) for name, filter_ in query.filterset.filters.items()
                       if name != "all_tenants"]  # all_tenants: a checkbox beside the project picker

    def field(self, name, filter_):
        """One control: name, label, value, choices, placeholder, error, and whether it is a main one."""
        query = self.query
        value = query.params.get(name, "")
        select = self.SELECTS.get(name)
        if select is not None and value and value not in {v for v, _ in select}:
            select = (*select, (value, value))  # keep an invalid value visible beside its error
        return {
            "name": name,
            "id": f"f-{name}",
            "label": query.filterset.form[name].label or filter_.label or name,
            "value": value,
            "choices": select,
            "placeholder": self.PLACEHOLDERS.get(name, ""),
            "error": query.errors.get(name),
            "main": name in self.MAIN,
        }

    def context(self):
        """The template's view of the form: controls, search, all_tenants, sort, limit, errors."""
        query = self.query
        sort_value = query.params.get(SORT_PARAMETER, "")
        sort_menu = list(SORT_MENU)
        if sort_value and sort_value not in {value for value, _ in sort_menu}:
            sort_menu.append((sort_value, sort_value))
        more = [f for f in self.fields if not f["main"]]
        return {
            "fields": [f for f in self.fields if f["main"]],
            "more_fields": more,
            "more_open": any(f["value"] or f["error"] for f in more),
            "search": query.params.get(SEARCH_PARAMETER, ""),
            "search_error": query.errors.get(SEARCH_PARAMETER),
            "all_tenants_checked": (query.params.get("all_tenants") or "").lower() in {"true", "1"},
            "all_tenants_error": query.errors.get("all_tenants"),
            "sort_value": sort_value,
            "sort_menu": sort_menu,
            "sort_error": query.errors.get(SORT_PARAMETER),
            "limit_value": query.params.get("limit", ""),
            "paging_errors": [query.errors[name] for name in PAGING_PARAMETERS if name in query.errors],
            "general_error": query.errors.get("__all__"),
            "has_errors": bool(query.errors),
        }
