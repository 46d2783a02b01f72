"""``limit``, ``marker`` and ``offset``: keyset paging of the list, for the API and the browse pages.

* ``limit``: an integer 1–1000, default 1000. A larger value is refused rather than capped: the
  real client stops at the first page shorter than the ``limit`` it asked for, so a silent cap
  would lose items.
* ``marker``: the id of the last item of the previous page. The page starts right after that
  item *in the current sort order*: the page is selected by the lexicographic keyset condition
  (``backups.listing.ordering.Ordering.after``) on the marker row's sort values, never by counting
  rows up to it, so any depth costs the same. The marker row's values are read *inside the page's
  query*, a subquery per sort key (``marker_values``), so that a marker page costs one query like
  a first page. The marker must be an item the caller may see (its project, or any with
  ``all_tenants``); it need not match the filters. An unknown or invisible marker makes every
  subquery NULL and the page empty; only then is the marker looked up (a second query), and it
  is refused with 400, the same message for both, so ids of other projects are not revealed.
* ``offset``: an integer ≥ 0, default 0; skips that many items after the marker position (or from
  the start). Unlike the marker it costs rows skipped.

Each page is a list of rows (the API asks for ``id`` and the stored ``document``; the browse
pages for their columns); a page is full when it has ``limit`` items, and only then has the API a
next page link.

The page's query is ``page_queryset``: the browse pages run it with ``keyset_page``, the API
compiles it once per query shape (``backups.listing.selectors.ItemQuery.page``, through
``backups.api.pagination.MarkerPagination``, the DRF pagination class); both refuse an unknown
marker with ``refuse_unknown_marker``. ``keyset_page`` with ``neighbours=True`` (the pages) also
says whether a next page exists (it reads ``limit + 1`` rows) and where the previous page starts: it
walks the reversed ordering (``Ordering.reversed``) from the page's first row for ``limit + 1``
ids; the one past ``limit`` is the previous page's marker, fewer means the first page. So every
page, backwards included, is an ordinary marker URL.
"""
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.exceptions import FullResultSet
from django.db.models import Subquery
from django.db.models.expressions import RawSQL

from backups.models import ID_LENGTH, is_item_id

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
class Paging:
    """``limit``, ``marker`` and ``offset`` of one request, validated."""

    limit: int = DEFAULT_LIMIT
    marker: str | None = None
    offset: int = 0

    @classmethod
    def from_params(cls, params, *, default_limit=DEFAULT_LIMIT):
        """Read ``limit``/``marker``/``offset`` from a ``QueryDict``; raise ``PaginationError``."""
        limit = _integer(params, "limit", default_limit, 1, MAX_LIMIT)
        offset = _integer(params, "offset", 0, 0, MAX_OFFSET)
        return cls(limit=limit, offset=offset).with_marker(params.get("marker"))

    def with_marker(self, marker):
        """This paging with ``marker`` (as given, empty or ``None``: no marker); raise ``MarkerNotFound``."""
        marker = marker or None
        if marker is not None and not is_item_id(marker):
            raise MarkerNotFound(marker[:ID_LENGTH])
        return Paging(limit=self.limit, marker=marker, offset=self.offset)


@dataclass(frozen=True)
class Page:
    rows: list
    limit: int
    has_next: bool = False
    has_previous: bool = False
    previous_marker: str | None = None

    @property
    def is_full(self):
        return len(self.rows) == self.limit

    @property
    def last_id(self):
        return self.rows[-1]["id"] if self.rows else None

    @property
    def next_marker(self):
        return self.last_id if self.has_next else None


def next_page_query(params):
    """The query string of the next page but its marker: ``params`` without ``marker`` and ``offset``.

    Each parameter once, with its last value (the one that counts), in the order given; the
    marker already positions the next page, so the offset goes.
    """
    return urlencode({name: value for name, value in params.items() if name not in ("marker", "offset")})


def with_marker(query, marker):
    """``query`` (``next_page_query``) with ``marker`` set, last."""
    return f"{query}&{urlencode({'marker': marker})}" if query else urlencode({"marker": marker})


def marker_values(scope, ordering, marker):
    """``{alias: value}`` of the marker row for ``Ordering.after``, or ``None`` without a marker.

    Each value is a subquery of the marker row in ``scope`` (NULL when it is not there), to be
    run inside the page's query; ``id``'s value is the marker itself.
    """
    if marker is None:
        return None
    if len(scope.query.alias_map) > 1:  # a scope that joins: the ORM's own subquery
        row = scope.filter(pk=marker).order_by()

        def lookup(key):
            return Subquery(row.annotate(**{key.alias: key.expression()}).values(key.alias)[:1])
    else:
        lookup = _MarkerRow(scope, marker).value
    return {key.alias: marker if key.key == "id" else lookup(key) for key in ordering.keys}


class _MarkerRow:
    """``SELECT <sort expression> FROM items WHERE id = marker AND <scope's condition>``, per key.

    Written from the scope's compiled condition and each key's compiled expression rather than as
    a nested queryset (``Subquery``), which the ORM would clone, re-alias and compile again for
    every key: the SQL is the same, its Python cost about half. The subquery names the table
    without an alias, so its columns are its own row's, not the page's; the scope's condition
    must therefore be on the item table alone (``marker_values`` uses ``Subquery`` otherwise).
    """

    def __init__(self, scope, marker):
        query = scope.query
        self.query, self.compiler = query, query.get_compiler(using=scope.db)
        self.table = self.compiler.quote_name_unless_alias(query.get_meta().db_table)
        pk = self.compiler.quote_name_unless_alias(query.get_meta().pk.column)
        conditions, self.params = [f"{self.table}.{pk} = %s"], [marker]
        try:
            where, where_params = self.compiler.compile(query.where)
        except FullResultSet:  # the whole table (all_tenants)
            where, where_params = "", []
        if where:
            conditions.append(f"({where})")
            self.params += list(where_params)
        self.condition = " AND ".join(conditions)

    def value(self, key):
        expression = key.expression().resolve_expression(self.query)
        sql, params = self.compiler.compile(expression)
        return RawSQL(
            f"SELECT {sql} FROM {self.table} WHERE {self.condition}",
            (*params, *self.params),
            output_field=expression.output_field,
        )


def page_queryset(queryset, scope, ordering, marker, columns=("id", "document"), *, sort_values=False):
    """The page's query without its ``LIMIT``/``OFFSET``: ``queryset`` in ``ordering``, after ``marker``.

    ``values(*columns)``, and the sort values too with ``sort_values`` (the pages' neighbours start
    from them). The marker's sort values are read inside the query (``marker_values``, in ``scope``).
    The API compiles it once per shape (``backups.listing.selectors.ItemQuery.page``).
    """
    values = marker_values(scope, ordering, marker)
    if sort_values:
        forward = queryset.annotate(**ordering.aliases()).order_by(*ordering.order_by())
    else:
        forward = ordering.apply(queryset)
    if values is not None:
        forward = forward.filter(ordering.after(values))
    return forward.values(*columns, *(ordering.aliases() if sort_values else ()))


def refuse_unknown_marker(scope, marker):
    """After an empty page: the marker alone is looked up in ``scope``; unknown there: ``MarkerNotFound``."""
    if not scope.filter(pk=marker).exists():
        raise MarkerNotFound(marker)


def keyset_page(queryset, scope, ordering, paging, *, columns=("id", "document"), neighbours=False):
    """The page of ``queryset`` (already filtered and scoped) in ``ordering``, as dicts of ``columns``.

    ``scope`` is the caller's visible set, where the marker is looked up. Queries: the page (with
    the marker's values in it); the marker alone when the page is empty (to refuse an unknown
    one); with ``neighbours`` the ids before the page too (with a marker or offset).
    """
    forward = page_queryset(queryset, scope, ordering, paging.marker, columns, sort_values=neighbours)
    start, stop = paging.offset, paging.offset + paging.limit + (1 if neighbours else 0)
    rows = list(forward[start:stop])
    if not rows and paging.marker is not None:
        refuse_unknown_marker(scope, paging.marker)
    if not neighbours:
        return Page(rows=rows, limit=paging.limit)
    aliases = list(ordering.aliases())
    has_next, rows = len(rows) > paging.limit, rows[: paging.limit]
    has_previous, previous_marker = paging.marker is not None or bool(paging.offset), None
    if has_previous and rows:  # at worst (no rows) back to the first page
        first = {alias: rows[0][alias] for alias in aliases}
        before = _ids_before(queryset, ordering, first, paging.limit + 1)
        has_previous = bool(before)
        previous_marker = before[paging.limit] if len(before) > paging.limit else None
    return Page(rows, paging.limit, has_next, has_previous, previous_marker)


def _ids_before(queryset, ordering, values, count):
    """Up to ``count`` ids before the row whose sort values are ``values``, nearest first."""
    backwards = ordering.reversed()
    return list(
        queryset.annotate(**backwards.aliases())
        .order_by(*backwards.order_by())
        .filter(backwards.after(values))
        .values_list("id", flat=True)[:count]
    )
