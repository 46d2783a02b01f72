"""The list's query string, read by each parameter's owner, for the API and the browse pages alike.

Owners: ``backups.listing.filtersets.CheckpointItemFilterSet`` (filters and ``all_tenants``),
``backups.listing.ordering`` (``sort``), ``backups.listing.keyset`` (``limit``, ``marker``, ``offset``). This
module only asks each of them and collects what they refuse: the parameters nobody owns
(``unknown``) and one message per invalid parameter (``errors``). The API turns that into one 400
(``backups.api.query``); the browse pages show each message beside its field.
"""
from dataclasses import dataclass

from . import keyset
from .filtersets import CheckpointItemFilterSet
from .keyset import MarkerPagination, PaginationError
from .ordering import Ordering, SortError

SORT_PARAMETER = "sort"


@dataclass
class ListParameters:
    params: object
    filterset: CheckpointItemFilterSet
    ordering: Ordering
    pagination: MarkerPagination
    known: frozenset
    unknown: list
    errors: dict

    @classmethod
    def read(cls, params, *, also_known=(), default_limit=keyset.DEFAULT_LIMIT, validate_paging=True):
        """Ask every owner about ``params`` (a ``QueryDict``); never raises.

        ``also_known`` names parameters the caller reads itself (the pages' ``project``, ``q``).
        With ``validate_paging=False`` (the count) ``sort``, ``limit``, ``marker`` and ``offset``
        are accepted and their values ignored.
        """
        filterset = CheckpointItemFilterSet(params)
        known = frozenset(filterset.parameter_names | {SORT_PARAMETER, *keyset.PARAMETERS, *also_known})
        unknown = sorted(name for name in params if name not in known)
        errors = dict(filterset.errors_by_parameter()) if not filterset.is_valid() else {}
        ordering, paging = Ordering.parse(None), MarkerPagination(limit=default_limit)
        if validate_paging:
            try:
                ordering = Ordering.parse(params.get(SORT_PARAMETER))
            except SortError as error:
                errors[SORT_PARAMETER] = str(error)
            try:
                paging = MarkerPagination.from_params(params, default_limit=default_limit)
            except PaginationError as error:
                errors[error.parameter] = str(error)
        return cls(params, filterset, ordering, paging, known, unknown, errors)

    @property
    def valid(self):
        return not self.unknown and not self.errors

    @property
    def all_tenants(self):
        return self.valid and bool(self.filterset.form.cleaned_data.get("all_tenants"))

    def filter(self, scope):
        return self.filterset.filter_queryset(scope)

    def unknown_message(self):
        names = ", ".join(f"'{name[:64]}'" for name in self.unknown[:5])
        return f"Unknown parameter {names}: allowed parameters are {', '.join(sorted(self.known))}"

    def error_messages(self):
        """Every invalid parameter's message, naming the parameter and its value."""
        return [
            f"Invalid {name} '{self.params.get(name, '')[:40]}': {message}"
            if name in self.filterset.parameter_names
            else message  # sort and paging messages already name the parameter and value
            for name, message in self.errors.items()
        ]
