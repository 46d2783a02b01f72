"""Planner statistics after bulk writes: every bulk writer leaves them current for what it wrote.

PostgreSQL's autovacuum analyzes a table only after 10 % of it changed *and* on its own clock (a
minute or more later), so right after an import the planner may still believe a project of 20,000
items has 23: the first page of it then sorts every row instead of walking the tenant index
(33 ms instead of 0.15 ms, measured). So a bulk writer (the import, ``seed_demo``, the sync at the
end of a walk) counts the rows it wrote per table and calls ``refresh_statistics``, which runs
``ANALYZE`` on each table where those rows are a meaningful share — ``SHARE`` (10 %, autovacuum's
own default) of what the statistics knew, or a table never analyzed. Small writes into big tables
leave it to autovacuum.

It runs in the writer's transaction: PostgreSQL's ``ANALYZE`` samples the transaction's own new
rows, and its statistics commit (or roll back) with them. SQLite's planner reads ``sqlite_stat1``
the same way (without it, it guesses ten rows per index key), so there ``ANALYZE`` runs too.
"""
from django.db import connection

#: Rows written, as a share of the table's known rows, from which the statistics are refreshed.
SHARE = 0.10


def known_rows(cursor, table):
    """The row count the planner's statistics hold for ``table``, or ``None`` if never analyzed."""
    if connection.vendor == "postgresql":
        # reltuples is -1 until the first VACUUM or ANALYZE (PostgreSQL 14+).
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
        return None if row is None or row[0] < 0 else row[0]
    cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
    if cursor.fetchone() is None:
        return None
    # The first number of any of the table's rows is its row count.
    cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s LIMIT 1", [table])
    row = cursor.fetchone()
    return None if row is None else int(row[0].split()[0])


def refresh_statistics(written):
    """``ANALYZE`` each table of ``written`` (``{model: rows written}``) where the rows matter.

    Returns the names of the tables analyzed.
    """
    analyzed = []
    with connection.cursor() as cursor:
        for model, rows in written.items():
            if rows <= 0:
                continue
            table = model._meta.db_table
            known = known_rows(cursor, table)
            if known is not None and rows < SHARE * known:
                continue
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
            analyzed.append(table)
    return analyzed


class WrittenRows:
    """Rows written per model over a bulk write of many batches (``add`` each batch's counts)."""

    def __init__(self):
        self.rows = {}

    def add(self, counts):
        for model, rows in counts.items():
            self.rows[model] = self.rows.get(model, 0) + rows

    def refresh(self):
        return refresh_statistics(self.rows)
