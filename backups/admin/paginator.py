"""A change-list paginator that never runs a full ``COUNT(*)`` over a big table.

Django's admin counts the filtered change list on every page load; on a million rows that count
costs more than the page itself. This paginator answers ``count`` in one of three ways, named by
``count_kind`` so that the templates can say which:

* ``"estimate"`` — the list is unfiltered and PostgreSQL's planner statistics
  (``pg_class.reltuples``, kept by autovacuum/ANALYZE) put the table above ``COUNT_CAP`` rows: the
  estimate is used and no row is read. The last pages of an estimate may come out short or empty.
* ``"at least"`` — a filter or search matches more than ``COUNT_CAP`` rows: counting stops there
  (``SELECT COUNT(*) FROM (… LIMIT COUNT_CAP + 1)``) and paging stops at ``COUNT_CAP`` rows; the
  admin narrows the filter to see further.
* ``"exact"`` — at most ``COUNT_CAP`` rows match, counted exactly by the same capped query.
"""
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


def table_row_estimate(queryset):
    """PostgreSQL's estimate of the rows in the queryset's table, or ``None`` when there is none."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    # -1: the table was never vacuumed or analyzed, so PostgreSQL knows nothing yet.
    if row is None or row[0] is None or row[0] < 0:
        return None
    return row[0]


class CheapCountPaginator(Paginator):
    """``Paginator`` whose ``count`` is an estimate or a capped count (see the module docstring)."""

    COUNT_CAP = 10_000

    count_kind = "exact"

    @cached_property
    def count(self):
        queryset = self.object_list
        if not queryset.query.where:
            estimate = table_row_estimate(queryset)
            if estimate is not None and estimate > self.COUNT_CAP:
                self.count_kind = "estimate"
                return estimate
        # The order is irrelevant to a count and would stop the database from using the cheapest index.
        counted = queryset.order_by()[: self.COUNT_CAP + 1].count()
        if counted > self.COUNT_CAP:
            self.count_kind = "at least"
            return self.COUNT_CAP
        self.count_kind = "exact"
        return counted

    @property
    def count_label(self):
        """The count as the change list shows it: ``"12"``, ``"about 1,000,000"``, ``"more than 10,000"``."""
        count = self.count
        if self.count_kind == "estimate":
            return f"about {count:,}"
        if self.count_kind == "at least":
            return f"more than {count:,}"
        return f"{count:,}"
