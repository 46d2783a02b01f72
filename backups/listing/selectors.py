"""The querysets behind the API and the pages: what a caller may see, and one item.

Items a sync source no longer lists (``gone_at`` set, ``backups.sync``) are out of the API's
answers; the browse pages ask for them too (``include_gone``) and mark them.
"""
from backups.models import CheckpointItem, is_item_id


def checkpoint_item_scope(project_id, *, all_tenants=False, include_gone=False):
    """The items a request may see: the path's project, or every project with ``all_tenants``."""
    items = CheckpointItem.objects.all()
    if not include_gone:
        items = items.filter(gone_at__isnull=True)
    if all_tenants:
        return items
    return items.filter(project_id=project_id)


def checkpoint_item_document(project_id, item_id):
    """The stored API JSON of one item of ``project_id``, or ``None`` (other projects, gone items)."""
    if not is_item_id(item_id):
        return None
    # [:1], not .first(): an id is unique, so no ORDER BY (first() would add the model's ordering).
    found = checkpoint_item_scope(project_id).filter(pk=item_id)
    return next(iter(found.values_list("document", flat=True)[:1]), None)


def checkpoint_item_with_children(scope, item_id):
    """One item of ``scope`` with its children prefetched (3 queries), or ``None``."""
    if not is_item_id(item_id):
        return None
    return scope.filter(pk=item_id).prefetch_related("volume_backups", "replication_records").first()
