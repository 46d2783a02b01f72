"""The CSV export: every row of the current filter in the current sort, streamed.

Rows come from ``values_list(...).iterator(chunk_size=2000)``; text cells that a spreadsheet would
run as a formula (starting with ``= + - @``, tab or carriage return) are prefixed with ``'``.
"""
import csv
import datetime as dt

from backups.document.timestamps import format_timestamp

#: CSV header -> model field.
CSV_COLUMNS = (
    ("id", "id"),
    ("name", "name"),
    ("status", "status"),
    ("project", "project_id"),
    ("resource_id", "resource_id"),
    ("resource_name", "resource_name"),
    ("resource_type", "resource_type"),
    ("az", "resource_az"),
    ("image_type", "image_type"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
    ("protected_at", "protected_at"),
    ("size", "size"),
    ("fail_op", "fail_op"),
    ("fail_reason", "fail_reason"),
    ("eip", "eip"),
    ("private_ip", "private_ip"),
    ("checkpoint_id", "checkpoint_id"),
    ("policy_id", "policy_id"),
)


CSV_CHUNK_SIZE = 2000


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """One CSV cell: times as the API writes them; text that a spreadsheet would evaluate, quoted."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return format_timestamp(value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose ``write`` hands the line back, so ``csv.writer`` can stream."""

    def write(self, value):
        return value


def csv_lines(queryset, ordering):
    """The header, then one line per item of ``queryset`` in ``ordering``, read 2000 rows at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow([header for header, _ in CSV_COLUMNS])
    rows = ordering.apply(queryset).values_list(*(name for _, name in CSV_COLUMNS))
    for row in rows.iterator(chunk_size=CSV_CHUNK_SIZE):
        yield writer.writerow([csv_cell(value) for value in row])


def csv_filename(access, query, now):
    scope = "all-projects" if query.all_tenants else access.project
    return f"checkpoint_items-{scope}-{now.strftime('%Y%m%dT%H%M%SZ')}.csv"
