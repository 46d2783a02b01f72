"""Index maintenance deferred while a big file loads into empty tables (PostgreSQL).

An item costs the server about four times more to insert with the item table's 25 indexes (and
the children's seven and eight) maintained row by row than into bare tables; building each index
once from the loaded rows costs less than half that. So when an import finds the three tables
empty and its file is big (``DEFER_FROM_BYTES``), ``defer_indexes`` drops their indexes and
constraints (foreign keys first, those of other tables that point at them too, such as the sync's
sightings) inside the file's transaction and ``restore`` rebuilds every one
of them with its exact definition (``pg_get_indexdef``, ``pg_get_constraintdef``) before the
commit. DDL is transactional in PostgreSQL: a refused file rolls the drops back with its rows, and
no one ever sees the tables without their indexes. The price: the load holds the tables' ACCESS
EXCLUSIVE lock until it commits, so readers of the (empty) tables wait for it — acceptable for a
first load, which is the only time this path runs.

While deferred, the rows are written *fresh*: ``DeferredIndexes.empty`` truncates the (empty)
tables in the subtransaction that writes them, so that ``write_items(fresh=True)`` may ``COPY``
them ``FREEZE``: committed and visible to all as they are written, their pages all-visible in the
visibility map. Index-only scans work right after the import (no ``VACUUM`` first), the index
builds' scans set no hint bits, no later anti-wraparound ``VACUUM`` rewrites a million rows, and
under ``wal_level=minimal`` the rows are not WAL-logged at all. ``write_items`` also skips its
lookup of stored ids (there are none: the tables were empty, and the import finds an id repeated
within the file by itself).
"""
from django.db import connection

from backups.models import CheckpointItem, ReplicationRecord, VolumeBackup

#: Files smaller than this load with the indexes in place: rebuilding 40 indexes costs more there.
DEFER_FROM_BYTES = 64 << 20
#: Memory for each index build: sorts of a million keys stay in memory.
MAINTENANCE_WORK_MEM = "512MB"
#: The item tables, parents first.
MODELS = (CheckpointItem, VolumeBackup, ReplicationRecord)
TABLES = tuple(model._meta.db_table for model in MODELS)


class DeferredIndexes:
    """The definitions dropped by ``defer_indexes``, to ``restore`` before the commit."""

    def __init__(self, constraints, indexes):
        self.constraints = constraints  # (table, name, definition, type) in creation order
        self.indexes = indexes  # (name, definition)

    def empty(self):
        """``TRUNCATE`` the tables, empty already: they become new in the caller's current
        subtransaction, where ``write_items(fresh=True)`` may then write rows frozen. Called at the
        start of each attempt to write the file (a file read again in-process starts over)."""
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(map(connection.ops.quote_name, TABLES))}")

    def restore(self):
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
            for table, name, definition, kind in self.constraints:
                if kind != "f":  # primary keys and unique constraints: the indexes FKs need
                    cursor.execute(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")
            for _, definition in self.indexes:
                cursor.execute(definition)
            for table, name, definition, kind in self.constraints:
                if kind == "f":
                    cursor.execute(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")


def defer_indexes(file_bytes):
    """Drop the indexes of the empty item tables for a big load; ``DeferredIndexes`` or ``None``.

    Runs in the caller's transaction; does nothing on SQLite, for small files or non-empty tables.
    """
    if connection.vendor != "postgresql" or file_bytes < DEFER_FROM_BYTES:
        return None
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {', '.join(map(qn, TABLES))} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {qn(TABLES[0])})")
        if cursor.fetchone()[0]:
            return None
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype"
            " FROM pg_constraint c WHERE (c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('p', 'u', 'f'))"
            " OR (c.contype = 'f' AND c.confrelid = ANY(%s::regclass[]))"  # e.g. the sync's sightings
            " ORDER BY c.contype = 'f', c.oid",
            [list(TABLES), list(TABLES)],
        )
        constraints = [(table.strip('"'), name, definition, kind) for table, name, definition, kind in cursor]
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS"
            " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u'))"
            " ORDER BY i.indexrelid",
            [list(TABLES)],
        )
        indexes = cursor.fetchall()
        for table, name, _, _ in sorted(constraints, key=lambda c: c[3] != "f"):  # foreign keys first
            cursor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    return DeferredIndexes(constraints, indexes)
