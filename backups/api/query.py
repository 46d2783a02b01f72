"""The query string of the list and count: each parameter read by its owner, unknown ones refused.

Owners: ``backups.filters.CheckpointItemFilterSet`` (filters and ``all_tenants``),
``backups.sorting`` (``sort``), ``backups.pagination`` (``limit``, ``marker``, ``offset``). This
module only asks each of them and turns their complaints into one 400 that names every invalid or
unknown parameter.
"""
from dataclasses import dataclass

from .. import pagination
from ..filters import CheckpointItemFilterSet
from ..pagination import MarkerPagination, PaginationError
from ..sorting import Ordering, SortError
from .errors import InvalidParameter

SORT_PARAMETER = "sort"


@dataclass
class ListQuery:
    filterset: CheckpointItemFilterSet
    ordering: Ordering
    pagination: MarkerPagination

    @property
    def all_tenants(self):
        return bool(self.filterset.form.cleaned_data.get("all_tenants"))

    def filter(self, scope):
        return self.filterset.filter_queryset(scope)

    @classmethod
    def from_params(cls, params, *, validate_paging=True):
        """Validate ``params`` (a ``QueryDict``); raise ``InvalidParameter`` naming what is wrong.

        With ``validate_paging=False`` (the count) ``sort``, ``limit``, ``marker`` and ``offset``
        are accepted and ignored.
        """
        filterset = CheckpointItemFilterSet(params)
        known = filterset.parameter_names | {SORT_PARAMETER, *pagination.PARAMETERS}
        unknown = sorted(name for name in params if name not in known)
        if unknown:
            names = ", ".join(f"'{name[:64]}'" for name in unknown[:5])
            raise InvalidParameter(
                f"Unknown parameter {names}: allowed parameters are {', '.join(sorted(known))}"
            )
        problems = [
            f"Invalid {name} '{params.get(name, '')[:40]}': {message}"
            for name, message in (filterset.errors_by_parameter().items() if not filterset.is_valid() else ())
        ]
        ordering, paging = Ordering.parse(None), MarkerPagination()
        if validate_paging:
            try:
                ordering = Ordering.parse(params.get(SORT_PARAMETER))
            except SortError as error:
                problems.append(str(error))
            try:
                paging = MarkerPagination.from_params(params)
            except PaginationError as error:
                problems.append(str(error))
        if problems:
            raise InvalidParameter("; ".join(problems))
        return cls(filterset, ordering, paging)
