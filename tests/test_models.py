"""The models: the stored document stays current on every write; strings collate by code point."""
import json

import pytest
from django.db import connection

from backups.models import CheckpointItem, ReplicationRecord, VolumeBackup

from .factories import create_items, item_dict

pytestmark = pytest.mark.django_db


def document(item_id):
    return json.loads(CheckpointItem.objects.get(pk=item_id).document)


def test_saving_an_item_rerenders_its_document():
    [item_id] = create_items("p", item_dict())
    item = CheckpointItem.objects.get(pk=item_id)
    item.status = "error"
    item.fail_reason = "disk full"
    item.save()
    assert document(item_id)["status"] == "error"
    assert document(item_id)["extend_info"]["fail_reason"] == "disk full"
    assert CheckpointItem.objects.get(pk=item_id).name_folded == item.name.casefold()


def test_save_with_update_fields_still_rerenders():
    [item_id] = create_items("p", item_dict())
    item = CheckpointItem.objects.get(pk=item_id)
    item.name = "Renamed"
    item.save(update_fields=["name"])
    assert document(item_id)["name"] == "Renamed"
    assert CheckpointItem.objects.get(pk=item_id).name_folded == "renamed"


def test_changing_a_volume_backup_rerenders_the_item():
    [item_id] = create_items("p", item_dict())
    volume_backup = VolumeBackup.objects.get(item_id=item_id, position=1)
    volume_backup.size = 2048
    volume_backup.save()
    assert document(item_id)["extend_info"]["volume_backups"][1]["size"] == 2048
    volume_backup.delete()
    assert len(document(item_id)["extend_info"]["volume_backups"]) == 1


def test_adding_a_replication_record_rerenders_the_item():
    [item_id] = create_items("p", item_dict())
    ReplicationRecord.objects.create(item_id=item_id, position=0, record_id="r1", status="success",
                                     destination_region="cn-north-4")
    [record] = document(item_id)["replication_records"]
    assert record["id"] == "r1" and record["destination_region"] == "cn-north-4" and record["extra_info"] is None


@pytest.mark.postgres_only
@pytest.mark.parametrize("column", ["id", "name", "status"])
def test_sorted_string_columns_use_the_c_collation_on_postgresql(column):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_name = 'backups_checkpointitem' AND column_name = %s",
            [column],
        )
        assert cursor.fetchone() == ("C",)


@pytest.mark.postgres_only
@pytest.mark.parametrize("model", [CheckpointItem, VolumeBackup, ReplicationRecord])
def test_every_string_column_of_the_item_tables_uses_the_c_collation(model):
    """Code-point order on both databases, and index builds that compare with ``memcmp``
    (``backups.model_fields.CodePointCharField``): no varchar column keeps the server's locale."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, collation_name FROM information_schema.columns "
            "WHERE table_name = %s AND data_type = 'character varying' ORDER BY column_name",
            [model._meta.db_table],
        )
        columns = cursor.fetchall()
    assert columns and [name for name, collation in columns if collation != "C"] == []


def test_models_and_migrations_agree():
    """Every model change has its migration: ``makemigrations --check`` finds nothing to write."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.postgres_only
def test_the_item_tables_have_no_pattern_ops_twins():
    """Django's ``varchar_pattern_ops`` twins serve ``LIKE 'x%'`` under a locale; our key columns are
    ``COLLATE "C"``, where the plain btree does, and an import would build them for nothing
    (migration 0010)."""
    from backups.sync.models import Sighting

    tables = [m._meta.db_table for m in (CheckpointItem, VolumeBackup, ReplicationRecord, Sighting)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = ANY(%s::regclass[]) "
            "AND pg_get_indexdef(indexrelid) ~ '_pattern_ops'",
            [tables],
        )
        assert cursor.fetchall() == []


@pytest.mark.postgres_only
@pytest.mark.parametrize("model", [VolumeBackup, ReplicationRecord])
def test_a_child_table_is_found_by_item_through_its_position_constraint(model):
    """The (item, position) constraint leads with ``item_id``: no second index on it alone."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass",
            [model._meta.db_table],
        )
        definitions = [row[0] for row in cursor.fetchall()]
    leading = [d for d in definitions if "(item_id" in d]
    assert len(leading) == 1 and "UNIQUE" in leading[0] and '(item_id, "position")' in leading[0]


@pytest.mark.postgres_only
def test_documents_are_compressed_with_lz4_where_the_server_has_it():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        if not cursor.fetchone()[0]:
            pytest.skip("this PostgreSQL is built without lz4: documents keep pglz")
        cursor.execute(
            "SELECT attcompression FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'document'",
            [CheckpointItem._meta.db_table],
        )
        assert cursor.fetchone() == ("l",)


@pytest.mark.postgres_only
def test_analyze_leaves_the_documents_out():
    """No query reads the stored document but the page itself: ANALYZE computes no statistics of it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attstattarget FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'document'",
            [CheckpointItem._meta.db_table],
        )
        assert cursor.fetchone() == (0,)
