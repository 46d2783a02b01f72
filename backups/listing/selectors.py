"""The querysets behind the API and the pages: what a caller may see, and one item."""
from backups.models import CheckpointItem, is_item_id


def checkpoint_item_scope(project_id, *, all_tenants=False):
    """The items a request may see: the path's project, or every project with ``all_tenants``."""
    if all_tenants:
        return CheckpointItem.objects.all()
    return CheckpointItem.objects.filter(project_id=project_id)


def checkpoint_item_document(project_id, item_id):
    """The stored API JSON of one item of ``project_id``, or ``None`` (also for other projects)."""
    if not is_item_id(item_id):
        return None
    return (
        CheckpointItem.objects.filter(project_id=project_id, pk=item_id)
        .values_list("document", flat=True)
        .first()
    )


def checkpoint_item_with_children(scope, item_id):
    """One item of ``scope`` with its children prefetched (3 queries), or ``None``."""
    if not is_item_id(item_id):
        return None
    return scope.filter(pk=item_id).prefetch_related("volume_backups", "replication_records").first()
