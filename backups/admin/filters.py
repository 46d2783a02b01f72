"""Change-list filters that stay cheap on a million items: index-walked value lists, a created_at range."""
import datetime as dt

from django.contrib import admin, messages
from django.db import connections


def distinct_column_values(queryset, column, limit):
    """The distinct non-NULL values of ``column``, in order, at most ``limit`` of them.

    A loose index scan: each step asks the column's index for the next larger value, so the cost
    is one index probe per distinct value instead of ``SELECT DISTINCT`` reading every row.
    """
    connection = connections[queryset.db]
    quote = connection.ops.quote_name
    table, column = quote(queryset.model._meta.db_table), quote(column)
    sql = (
        f"WITH RECURSIVE walk(value, n) AS ("
        f" SELECT MIN({column}), 1 FROM {table}"
        f" UNION ALL"
        f" SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > walk.value), n + 1"
        f" FROM walk WHERE walk.value IS NOT NULL AND n < %s"
        f") SELECT value FROM walk WHERE value IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [row[0] for row in cursor.fetchall()]


class IndexedValuesFilter(admin.AllValuesFieldListFilter):
    """``AllValuesFieldListFilter`` for an indexed column of an open vocabulary (resource type, AZ).

    The stock filter runs ``SELECT DISTINCT`` over the whole table on every page load; this one
    walks the column's index (``distinct_column_values``). NULL is always offered for a nullable
    column rather than paying a query to learn whether one exists.
    """

    MAX_VALUES = 200

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        values = distinct_column_values(model._default_manager.all(), field.column, self.MAX_VALUES)
        self.lookup_choices = values + ([None] if field.null else [])


class CreatedAtRangeFilter(admin.ListFilter):
    """Items created from one UTC day to another, both inclusive (``created_from``/``created_to``).

    Days are read as ``YYYY-MM-DD`` and turned into ``created_at >= from 00:00`` and
    ``created_at < (to + 1 day) 00:00`` so that the ``created_at`` index answers them. A value
    that is not a date is reported (in the filter and as a message) and that bound is not applied.
    """

    title = "created at (UTC days)"
    template = "admin/backups/created_at_range_filter.html"
    field_name = "created_at"
    parameter_from = "created_from"
    parameter_to = "created_to"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.days = {}
        self.raw = {}
        self.errors = []
        for name in self.expected_parameters():
            if name not in params:
                continue
            raw = params.pop(name)[-1]
            self.raw[name] = raw
            if raw == "":
                continue
            self.used_parameters[name] = raw
            try:
                self.days[name] = dt.date.fromisoformat(raw)
            except ValueError:
                label = "from" if name == self.parameter_from else "to"
                self.errors.append(
                    f"Created {label}: {raw!r} is not a day; use YYYY-MM-DD. This bound was not applied."
                )
        for error in self.errors:
            messages.error(request, error)

    def expected_parameters(self):
        return [self.parameter_from, self.parameter_to]

    def has_output(self):
        return True

    def queryset(self, request, queryset):
        start = self.days.get(self.parameter_from)
        end = self.days.get(self.parameter_to)
        if start is not None:
            queryset = queryset.filter(**{f"{self.field_name}__gte": _midnight(start)})
        if end is not None and end < dt.date.max:
            queryset = queryset.filter(**{f"{self.field_name}__lt": _midnight(end + dt.timedelta(days=1))})
        return queryset

    def choices(self, changelist):
        own = {*self.expected_parameters(), "p"}
        yield {
            "selected": bool(self.used_parameters),
            "hidden": [(name, value) for name, value in changelist.params.items() if name not in own],
            "from": self.raw.get(self.parameter_from, ""),
            "to": self.raw.get(self.parameter_to, ""),
            "parameter_from": self.parameter_from,
            "parameter_to": self.parameter_to,
            "errors": self.errors,
            "clear_query_string": changelist.get_query_string(remove=self.expected_parameters()),
        }


def _midnight(day):
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.timezone.utc)
