"""Bulk writes of checkpoint items (import, demo data), keeping ``document`` current.

Single saves keep it current by themselves (``CheckpointItem.save`` and the children's
``save``/``delete``); bulk statements bypass ``save``, so this module renders each item in memory
(``CheckpointItem.derive``) before writing the batch.
"""
from django.db import transaction

from .models import CheckpointItem, ReplicationRecord, VolumeBackup

#: Columns rewritten when an import updates an existing item (everything but the key).
ITEM_UPDATE_FIELDS = [
    f.attname for f in CheckpointItem._meta.concrete_fields if not f.primary_key
]


class ItemConflict(ValueError):
    """An import would take over an item id that belongs to another project."""

    def __init__(self, item_id, owner):
        super().__init__(f"id {item_id!r} already belongs to another project ({owner})")
        self.item_id = item_id
        self.owner = owner


def build_item(project_id, parsed):
    """Unsaved model instances for a ``schema.ParsedItem``, derived columns set."""
    item = CheckpointItem(project_id=project_id, **parsed.fields)
    volume_backups = [VolumeBackup(item=item, **row) for row in parsed.volume_backups]
    replication_records = [ReplicationRecord(item=item, **row) for row in parsed.replication_records]
    item.derive(volume_backups, replication_records)
    return item, volume_backups, replication_records


def upsert_items(project_id, parsed_items):
    """Insert or replace a batch of parsed items of ``project_id``; return ``(created, updated)``.

    Upsert by ``id``: an existing item of the same project is replaced whole (its children too);
    an id owned by another project raises ``ItemConflict``. Runs in the caller's transaction.
    """
    trees = [build_item(project_id, parsed) for parsed in parsed_items]
    ids = [item.pk for item, _, _ in trees]
    owners = dict(CheckpointItem.objects.filter(pk__in=ids).values_list("pk", "project_id"))
    for item_id, owner in owners.items():
        if owner != project_id:
            raise ItemConflict(item_id, owner)
    with transaction.atomic():
        if owners:
            VolumeBackup.objects.filter(item_id__in=list(owners)).delete()
            ReplicationRecord.objects.filter(item_id__in=list(owners)).delete()
        CheckpointItem.objects.bulk_create(
            [item for item, _, _ in trees],
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=ITEM_UPDATE_FIELDS,
        )
        VolumeBackup.objects.bulk_create([v for _, vbs, _ in trees for v in vbs])
        ReplicationRecord.objects.bulk_create([r for _, _, rrs in trees for r in rrs])
    updated = len(owners)
    return len(trees) - updated, updated
