"""``limit``, ``marker`` and ``offset``: keyset paging of the list, for the API and the browse pages.

* ``limit``: an integer 1–1000, default 1000. A larger value is refused rather than capped: the
  real client stops at the first page shorter than the ``limit`` it asked for, so a silent cap
  would lose items.
* ``marker``: the id of the last item of the previous page. The page starts right after that
  item *in the current sort order*: the marker row's sort values are read (one query) and the
  page is selected by the lexicographic keyset condition (``backups.listing.ordering.Ordering.after``),
  never by counting rows up to it, so any depth costs the same. The marker must be an item the
  caller may see (its project, or any with ``all_tenants``); it need not match the filters. An
  unknown or invisible marker is refused with 400, the same message for both, so ids of other
  projects are not revealed.
* ``offset``: an integer ≥ 0, default 0; skips that many items after the marker position (or from
  the start). Unlike the marker it costs rows skipped.

Each page is a list of the items' stored documents (``CheckpointItem.document``); a page is full
when it has ``limit`` items, and only then has a next page link.
"""
import re
from dataclasses import dataclass

from backups.models import ID_LENGTH

MAX_LIMIT = 1000
DEFAULT_LIMIT = 1000
MAX_OFFSET = 2**62
PARAMETERS = ("limit", "marker", "offset")

_INTEGER = re.compile(r"[0-9]{1,20}", re.ASCII)


class PaginationError(ValueError):
    """A paging parameter is invalid; ``parameter`` names it."""

    def __init__(self, parameter, message):
        super().__init__(message)
        self.parameter = parameter


class MarkerNotFound(PaginationError):
    def __init__(self, marker):
        super().__init__("marker", f"Invalid marker '{marker}': no such checkpoint item")


def _integer(params, name, default, low, high):
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not _INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
        raise PaginationError(name, f"Invalid {name} '{raw[:40]}': must be an integer from {low} to {high}")
    return int(raw)


@dataclass(frozen=True)
class Page:
    ids: list
    documents: list
    limit: int

    @property
    def is_full(self):
        return len(self.documents) == self.limit

    @property
    def last_id(self):
        return self.ids[-1] if self.ids else None


@dataclass(frozen=True)
class MarkerPagination:
    limit: int = DEFAULT_LIMIT
    marker: str | None = None
    offset: int = 0

    @classmethod
    def from_params(cls, params, *, default_limit=DEFAULT_LIMIT):
        """Read ``limit``/``marker``/``offset`` from a ``QueryDict``; raise ``PaginationError``."""
        limit = _integer(params, "limit", default_limit, 1, MAX_LIMIT)
        offset = _integer(params, "offset", 0, 0, MAX_OFFSET)
        marker = params.get("marker") or None
        if marker is not None and (len(marker) > ID_LENGTH or "\x00" in marker):
            raise MarkerNotFound(marker[:ID_LENGTH])
        return cls(limit=limit, marker=marker, offset=offset)

    def marker_values(self, scope, ordering):
        """The marker row's sort values (one query), or ``None`` without a marker."""
        if self.marker is None:
            return None
        row = (
            scope.filter(pk=self.marker)
            .annotate(**ordering.aliases())
            .values(*ordering.aliases())
            .first()
        )
        if row is None:
            raise MarkerNotFound(self.marker)
        return row

    def page(self, queryset, scope, ordering):
        """The page of ``queryset`` (already filtered and scoped) in ``ordering``.

        ``scope`` is the caller's visible set, where the marker is looked up. Costs one query,
        plus one when there is a marker.
        """
        values = self.marker_values(scope, ordering)
        queryset = ordering.apply(queryset)
        if values is not None:
            queryset = queryset.filter(ordering.after(values))
        rows = list(queryset.values_list("id", "document")[self.offset : self.offset + self.limit])
        return Page(ids=[r[0] for r in rows], documents=[r[1] for r in rows], limit=self.limit)
