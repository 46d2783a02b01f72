"""The querysets behind the API and the pages: what a caller may see, and one item."""
from backups.models import ID_LENGTH, CheckpointItem


def checkpoint_item_scope(project_id, *, all_tenants=False):
    """The items a request may see: the path's project, or every project with ``all_tenants``."""
    if all_tenants:
        return CheckpointItem.objects.all()
    return CheckpointItem.objects.filter(project_id=project_id)


def checkpoint_item_document(project_id, item_id):
    """The stored API JSON of one item of ``project_id``, or ``None`` (also for other projects)."""
    if len(item_id) > ID_LENGTH or "\x00" in item_id:
        return None
    return (
        CheckpointItem.objects.filter(project_id=project_id, pk=item_id)
        .values_list("document", flat=True)
        .first()
    )
