"""The one writer of an item's derived columns: its stored API JSON (``document``) and search forms.

``CheckpointItem.document`` is the item rendered by ``backups.document.render.render_item`` with its
volume backups and replication records, so that a page of the list is a join of stored strings.
It must be current after every write; every write path calls this module:

* ``derive`` sets the columns before a row is written: ``CheckpointItem.save`` and
  ``upsert.build_item``; ``derived_columns`` gives the same values to the bulk upsert
  (``backups.services.upsert``), which renders a parsed item's dicts (``render.render_parsed``);
* ``refresh_document`` re-renders one item from the database after its children changed: the
  children's ``save``/``delete`` and the admin's ``save_related``;
* ``refresh_documents`` does it for several items: the admin's bulk delete of children (a
  queryset delete bypasses the models' ``delete``).

``tests/services/test_documents.py`` checks that each of these paths leaves the document current.
"""
from backups.document.jsontext import dumps
from backups.document.render import render_item


def fold(text):
    """The case-insensitive search form of a name (the ``name``/``resource_name`` filters)."""
    return (text or "").casefold()


def derived_columns(name, resource_name, document):
    """The derived columns' values from an item's name, resource name and rendered ``document``:
    what ``derive`` sets on an object, and what the bulk upsert writes from a parsed item's dicts
    (``render.render_parsed``) without building one."""
    return {
        "name_folded": fold(name),
        "resource_name_folded": fold(resource_name),
        "document": dumps(document),
    }


def derive(item, volume_backups, replication_records):
    """Set ``item``'s derived columns (search forms, ``document``) from its fields and these children."""
    document = render_item(item, volume_backups, replication_records)
    for attr, value in derived_columns(item.name, item.resource_name, document).items():
        setattr(item, attr, value)


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
