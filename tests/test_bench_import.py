"""The import bench's database part (``bench/database_part.py``): the rows an import wrote, loaded
again with no Python per item, are the same rows, with every index and constraint back and the
planner's statistics refreshed, so that the bench compares the import with its own database work."""

import io

import orjson
import pytest
from django.core.management import call_command
from django.db import connection

from backups.models import CheckpointItem, ReplicationRecord, VolumeBackup
from backups.services import deferred_indexes
from bench import database_part
from bench.dataset import item_dicts
from tests.services.test_deferred_indexes import schema_snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]

TABLES = deferred_indexes.TABLES


def table_rows():
    """Every row of the item tables, as text, in a stable order."""
    rows = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f'SELECT t::text FROM "{table}" t ORDER BY 1')
            rows[table] = [row[0] for row in cursor.fetchall()]
    return rows


def test_the_database_part_loads_the_imports_rows_as_the_import_left_them(tmp_path):
    items = [item for _, item in item_dicts(300, 1, seed=11)]
    items[0]["extend_info"]["dec"] = "yes"  # a value kept as given (as_given) travels too
    path = tmp_path / "items.json"
    path.write_bytes(orjson.dumps({"checkpoint_items": items}))
    call_command("import_checkpoint_items", str(path), project="p1", stdout=io.StringIO(), batch_size=100)
    imported, schema = table_rows(), schema_snapshot()
    assert len(imported[CheckpointItem._meta.db_table]) == 300
    assert imported[ReplicationRecord._meta.db_table] and imported[VolumeBackup._meta.db_table]

    with connection.cursor() as cursor:
        database_part.export(cursor.cursor, tmp_path / "rows")
        for table in reversed(TABLES):  # children first
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred foreign key checks, run now
    figures = database_part.load(tmp_path / "rows", deferred_indexes.DEFER_FROM_BYTES)

    assert table_rows() == imported
    assert schema_snapshot() == schema
    assert figures["rows"] == {table: len(rows) for table, rows in imported.items()}
    assert set(figures["analyzed"]) == set(TABLES)  # empty tables before: their statistics are new
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [TABLES[0]])
        assert cursor.fetchone()[0] == 300


def test_the_database_part_refuses_tables_that_hold_rows(tmp_path):
    items = [item for _, item in item_dicts(20, 1, seed=12)]
    path = tmp_path / "items.json"
    path.write_bytes(orjson.dumps({"checkpoint_items": items}))
    call_command("import_checkpoint_items", str(path), project="p1", stdout=io.StringIO())
    with connection.cursor() as cursor:
        database_part.export(cursor.cursor, tmp_path / "rows")
    with pytest.raises(SystemExit, match="not empty"):
        database_part.load(tmp_path / "rows", deferred_indexes.DEFER_FROM_BYTES)
    assert CheckpointItem.objects.count() == 20
