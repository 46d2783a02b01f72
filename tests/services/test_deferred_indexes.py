"""A big first load defers index maintenance (backups.services.deferred_indexes): every index and
constraint is back, as it was, when the file commits; a refused file leaves them untouched."""

import io

import orjson
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from backups.models import CheckpointItem, VolumeBackup
from backups.services import deferred_indexes
from bench.dataset import item_dicts

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]


def schema_snapshot():
    """Every index and constraint of the item tables, by name, with its definition."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [list(deferred_indexes.TABLES)]
        )
        indexes = dict(cursor.fetchall())
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = ANY(%s::regclass[])",
            [list(deferred_indexes.TABLES)],
        )
        return indexes, dict(cursor.fetchall())


def import_items(tmp_path, items, name="load.json"):
    path = tmp_path / name
    path.write_bytes(orjson.dumps({"checkpoint_items": items}))
    call_command("import_checkpoint_items", str(path), project="p1", stdout=io.StringIO(), batch_size=100)


@pytest.fixture
def always_defer(monkeypatch):
    monkeypatch.setattr(deferred_indexes, "DEFER_FROM_BYTES", 0)
    calls = []
    real = deferred_indexes.DeferredIndexes.restore

    def restore(self):
        calls.append(len(self.indexes))
        return real(self)

    monkeypatch.setattr(deferred_indexes.DeferredIndexes, "restore", restore)
    return calls


def test_a_load_into_empty_tables_rebuilds_every_index_and_constraint(tmp_path, always_defer):
    before = schema_snapshot()
    import_items(tmp_path, [item for _, item in item_dicts(500, 1, seed=4)])
    assert always_defer and always_defer[0] > 20  # the path ran, with the item table's indexes
    assert schema_snapshot() == before
    assert CheckpointItem.objects.count() == 500 and VolumeBackup.objects.count() > 0


def test_a_refused_load_leaves_the_indexes_in_place(tmp_path, always_defer):
    before = schema_snapshot()
    items = [item for _, item in item_dicts(300, 1, seed=5)]
    items[250]["status"] = "lost"
    with pytest.raises(CommandError, match="item 250"):
        import_items(tmp_path, items)
    assert schema_snapshot() == before
    assert CheckpointItem.objects.count() == 0


def test_a_repeated_id_is_refused_while_the_indexes_are_deferred(tmp_path, always_defer):
    items = [item for _, item in item_dicts(300, 1, seed=6)]
    items[200]["id"] = items[10]["id"]
    with pytest.raises(CommandError, match="item 200 .*appears earlier in this file"):
        import_items(tmp_path, items)


def test_a_load_into_tables_with_items_keeps_its_indexes(tmp_path, always_defer):
    import_items(tmp_path, [item for _, item in item_dicts(50, 1, seed=7)], name="first.json")
    always_defer.clear()
    import_items(tmp_path, [item for _, item in item_dicts(50, 1, seed=8)], name="second.json")
    assert always_defer == []
    assert CheckpointItem.objects.count() == 100


def test_a_first_load_writes_its_rows_frozen_and_its_pages_all_visible(tmp_path, always_defer):
    """COPY FREEZE into the tables emptied in the same subtransaction: every page is all-visible in
    the visibility map when the file commits, so a count is an index-only scan with no heap fetch
    right after the import, before any VACUUM."""
    import_items(tmp_path, [item for _, item in item_dicts(500, 1, seed=4)])
    with connection.cursor() as cursor:
        for table in deferred_indexes.TABLES:
            cursor.execute("SELECT relpages, relallvisible FROM pg_class WHERE oid = %s::regclass", [table])
            pages, all_visible = cursor.fetchone()
            assert pages > 0 and all_visible == pages, table
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) SELECT COUNT(*) FROM backups_checkpointitem "
            "WHERE project_id = 'p1' AND gone_at IS NULL"
        )
        plan = cursor.fetchone()[0][0]["Plan"]["Plans"][0]
    assert plan["Node Type"] == "Index Only Scan" and plan["Heap Fetches"] == 0


def test_a_small_load_into_tables_with_rows_is_written_as_before(tmp_path, always_defer):
    """Tables that hold rows are never emptied: the path is not taken, their rows stay."""
    import_items(tmp_path, [item for _, item in item_dicts(50, 1, seed=4)], name="first.json")
    first = set(CheckpointItem.objects.values_list("pk", flat=True))
    import_items(tmp_path, [item for _, item in item_dicts(80, 1, seed=5)], name="second.json")
    assert first <= set(CheckpointItem.objects.values_list("pk", flat=True))
    assert len(always_defer) == 1  # only the first load, into empty tables, deferred
