"""The one writer of an item's derived columns: its stored API JSON (``document``) and search forms.

``CheckpointItem.document`` is the item rendered by ``backups.document.schema.render_item`` with its
volume backups and replication records, so that a page of the list is a join of stored strings.
It must be current after every write; every write path calls this module:

* ``derive`` sets the columns before a row is written: ``CheckpointItem.save`` and the bulk
  upsert (``backups.services.upsert``, on model instances or plain attribute objects alike);
* ``refresh_document`` re-renders one item from the database after its children changed: the
  children's ``save``/``delete`` and the admin's ``save_related``;
* ``refresh_documents`` does it for several items: the admin's bulk delete of children (a
  queryset delete bypasses the models' ``delete``).

``tests/services/test_documents.py`` checks that each of these paths leaves the document current.
"""
from backups.document.schema import dumps, render_item


def fold(text):
    """The case-insensitive search form of a name (the ``name``/``resource_name`` filters)."""
    return (text or "").casefold()


def derive(item, volume_backups, replication_records):
    """Set ``item``'s derived columns (search forms, ``document``) from its fields and these children."""
    item.name_folded = fold(item.name)
    item.resource_name_folded = fold(item.resource_name)
    item.document = dumps(render_item(item, volume_backups, replication_records))


def stored_children(item):
    """``(volume_backups, replication_records)`` as stored, in order; empty when unsaved."""
    if item._state.adding:
        return [], []
    return list(item.volume_backups.all()), list(item.replication_records.all())


def refresh_document(item):
    """Re-render ``item`` from the database (after its children changed) and store the result."""
    derive(item, *stored_children(item))
    type(item).objects.filter(pk=item.pk).update(
        name_folded=item.name_folded,
        resource_name_folded=item.resource_name_folded,
        document=item.document,
    )


def refresh_documents(items):
    """``refresh_document`` for each item of a queryset or list."""
    for item in items:
        refresh_document(item)
