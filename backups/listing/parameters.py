"""The list's query string, read by each parameter's owner, for the API and the browse pages alike.

Owners: ``backups.listing.filtersets.CheckpointItemFilterSet`` (filters and ``all_tenants``),
``backups.listing.ordering`` (``sort``), ``backups.listing.keyset`` (``limit``, ``marker``,
``offset``). ``ListParameters.read`` only asks each of them and collects what they refuse: the
parameters nobody owns (``unknown``) and one message per invalid parameter (``errors``).

* The API (``backups.api.viewsets``) turns that into one 400, ``problem()``: unknown parameters
  are reported first and alone; otherwise every invalid parameter is named, joined by ``; ``.
* The browse pages (``for_page=True``) also read their two page-only parameters, ``project`` (the
  API's path ``{project_id}``) and ``q`` (the quick search, ``filtersets.quick_search``); their
  ``limit`` defaults to 25 rows, not 1000; each message is shown beside its field, the unknown
  parameters' under ``"__all__"``.

``unknown_parameter_message`` is the one "Unknown parameter" message, also for the requests that
take no parameters (one item, the OpenAPI description).
"""
from dataclasses import dataclass

from django import forms

from . import keyset
from .filtersets import CheckpointItemFilterSet, StringField, quick_search
from .keyset import PaginationError, Paging
from .ordering import Ordering, SortError

SORT_PARAMETER = "sort"
PROJECT_PARAMETER = "project"
SEARCH_PARAMETER = "q"
PAGE_ONLY_PARAMETERS = (PROJECT_PARAMETER, SEARCH_PARAMETER)
DEFAULT_PAGE_SIZE = 25


def unknown_parameter_message(names, allowed=None):
    """``Unknown parameter 'a', 'b': allowed parameters are …`` (at most five names, 64 characters each)."""
    quoted = ", ".join(f"'{name[:64]}'" for name in list(names)[:5])
    if allowed is None:
        return f"Unknown parameter {quoted}: this request takes no parameters"
    return f"Unknown parameter {quoted}: allowed parameters are {', '.join(sorted(allowed))}"


@dataclass
class ListParameters:
    params: object
    filterset: CheckpointItemFilterSet
    ordering: Ordering
    paging: Paging
    known: frozenset
    unknown: list
    errors: dict
    search: str = ""
    for_page: bool = False

    @classmethod
    def read(cls, params, *, for_page=False, validate_paging=True):
        """Ask every owner about ``params`` (a ``QueryDict``); never raises.

        With ``validate_paging=False`` (the count) ``sort``, ``limit``, ``marker`` and ``offset``
        are accepted and their values ignored.
        """
        default_limit = DEFAULT_PAGE_SIZE if for_page else keyset.DEFAULT_LIMIT
        filterset = CheckpointItemFilterSet(params)
        page_only = PAGE_ONLY_PARAMETERS if for_page else ()
        known = frozenset(filterset.parameter_names | {SORT_PARAMETER, *keyset.PARAMETERS, *page_only})
        unknown = sorted(name for name in params if name not in known)
        errors = {"__all__": unknown_parameter_message(unknown, known)} if for_page and unknown else {}
        errors.update(filterset.errors_by_parameter() if not filterset.is_valid() else {})
        ordering, paging = Ordering.parse(None), Paging(limit=default_limit)
        if validate_paging:
            try:
                ordering = Ordering.parse(params.get(SORT_PARAMETER))
            except SortError as error:
                errors[SORT_PARAMETER] = str(error)
            try:
                paging = Paging.from_params(params, default_limit=default_limit)
            except PaginationError as error:
                errors[error.parameter] = str(error)
        search = ""
        if for_page:
            try:
                search = StringField(required=False).clean(params.get(SEARCH_PARAMETER, ""))
            except forms.ValidationError as error:
                errors[SEARCH_PARAMETER] = " ".join(error.messages)
        return cls(params, filterset, ordering, paging, known, unknown, errors, search, for_page)

    @property
    def valid(self):
        return not self.unknown and not self.errors

    @property
    def all_tenants(self):
        return self.valid and bool(self.filterset.form.cleaned_data.get("all_tenants"))

    @property
    def sort_given(self):
        return bool((self.params.get(SORT_PARAMETER) or "").strip())

    def filter(self, scope):
        """``scope`` narrowed by the filters (and the pages' quick search); only when ``valid``."""
        queryset = self.filterset.filter_queryset(scope)
        return quick_search(queryset, self.search) if self.search else queryset

    def cleaned_value(self, name):
        return self.filterset.form.cleaned_data.get(name) if self.valid else None

    def problem(self):
        """The API's one 400 message, or ``None``: the unknown parameters first and alone."""
        if self.unknown:
            return unknown_parameter_message(self.unknown, self.known)
        return "; ".join(self.error_messages()) if self.errors else None

    def error_messages(self):
        """Every invalid parameter's message, naming the parameter and its value."""
        return [
            f"Invalid {name} '{self.params.get(name, '')[:40]}': {message}"
            if name in self.filterset.parameter_names
            else message  # sort and paging messages already name the parameter and value
            for name, message in self.errors.items()
            if name != "__all__"
        ]

    def api_params(self):
        """The API's parameters of this page, in declaration order, empty ones left out."""
        names = [*self.filterset.filters, SORT_PARAMETER, *keyset.PARAMETERS]
        params = {name: self.params.get(name) for name in names if self.params.get(name)}
        params.setdefault("limit", str(self.paging.limit))  # the page's default is not the API's
        return params
