"""Every write path leaves an item's stored ``document`` current (backups.services.documents)."""
import copy
from types import SimpleNamespace

import pytest
from django.contrib import admin as django_admin

from backups.admin import CheckpointItemAdmin, ReplicationRecordAdmin, VolumeBackupAdmin
from backups.document.jsontext import dumps
from backups.document.parse import parse_item
from backups.document.render import render_item
from backups.models import CheckpointItem, ReplicationRecord, VolumeBackup
from backups.services.upsert import upsert_items

from ..factories import create_items, item_dict

pytestmark = pytest.mark.django_db


def rendered_from_the_database(item_id):
    """What the document must be: the item and its children as stored now, rendered afresh."""
    item = CheckpointItem.objects.get(pk=item_id)
    return dumps(render_item(item, list(item.volume_backups.all()), list(item.replication_records.all())))


def a_replication_record(item):
    return ReplicationRecord(item=item, position=99, record_id="rr-new", status="available")


def save_item(item):
    item.status = "error"
    item.save()


def save_item_with_update_fields(item):
    item.name = "Renamed"
    item.save(update_fields=["name"])


def create_volume_backup(item):
    VolumeBackup.objects.create(item=item, position=99, name="new disk")


def save_volume_backup(item):
    volume_backup = item.volume_backups.first()
    volume_backup.name = "renamed disk"
    volume_backup.save()


def delete_volume_backup(item):
    item.volume_backups.first().delete()


def create_replication_record(item):
    a_replication_record(item).save()


def save_replication_record(item):
    record = item.replication_records.get(position=99)
    record.status = "failed"
    record.save()


def delete_replication_record(item):
    item.replication_records.get(position=99).delete()


def admin_bulk_delete_of_volume_backups(item):
    VolumeBackupAdmin(VolumeBackup, django_admin.site).delete_queryset(None, item.volume_backups.all())


def admin_bulk_delete_of_replication_records(item):
    ReplicationRecordAdmin(ReplicationRecord, django_admin.site).delete_queryset(
        None, item.replication_records.all()
    )


def admin_save_related_after_a_stale_write(item):
    form = SimpleNamespace(instance=item, save_m2m=lambda: None)
    CheckpointItemAdmin(CheckpointItem, django_admin.site).save_related(None, form, [], True)


def bulk_upsert_replacing_the_item(item):
    data = item_dict()
    data["id"] = item.pk
    data["name"] = "replaced by an import"
    data["extend_info"]["volume_backups"] = copy.deepcopy(data["extend_info"]["volume_backups"][:1])
    upsert_items(item.project_id, [parse_item(data)])


def stale_document(item):
    CheckpointItem.objects.filter(pk=item.pk).update(document="{}")  # a write that bypasses the models


#: What a path needs first; the document is compared with its state after that.
PREPARE = {
    save_replication_record: create_replication_record,
    delete_replication_record: create_replication_record,
    admin_bulk_delete_of_replication_records: create_replication_record,
    admin_save_related_after_a_stale_write: stale_document,
}

WRITE_PATHS = [
    save_item,
    save_item_with_update_fields,
    create_volume_backup,
    save_volume_backup,
    delete_volume_backup,
    create_replication_record,
    save_replication_record,
    delete_replication_record,
    admin_bulk_delete_of_volume_backups,
    admin_bulk_delete_of_replication_records,
    admin_save_related_after_a_stale_write,
    bulk_upsert_replacing_the_item,
]


@pytest.mark.parametrize("write", WRITE_PATHS, ids=[write.__name__ for write in WRITE_PATHS])
def test_every_write_path_leaves_the_stored_document_current(write):
    [item_id] = create_items("p", item_dict())
    if write in PREPARE:
        PREPARE[write](CheckpointItem.objects.get(pk=item_id))
    before = CheckpointItem.objects.get(pk=item_id).document
    write(CheckpointItem.objects.get(pk=item_id))
    stored = CheckpointItem.objects.get(pk=item_id).document
    assert stored == rendered_from_the_database(item_id)
    assert stored != before, "the write changed the item, so its document must have changed"
