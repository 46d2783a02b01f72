"""The detail page of one item: its sections, children, related items and its API JSON verbatim."""
import json
from dataclasses import dataclass

from django.urls import reverse

from backups import choices
from backups.document.jsontext import loads_exact
from backups.document.keys import (
    BACKUP_DATA_KEYS,
    EXTEND_INFO_KEYS,
    ITEM_KEYS,
    POLICY_KEY,
    REPLICATION_RECORD_KEYS,
    VOLUME_BACKUP_KEYS,
)
from backups.listing.selectors import checkpoint_item_with_children

from .links import Links, resource_list_url


def checkpoint_item_for(access, item_id):
    """The item with its children (3 queries), or ``None`` when absent or not the user's to see."""
    return checkpoint_item_with_children(access.visible_items(), item_id)


def pretty_json(value):
    return json.dumps(value, indent=2, ensure_ascii=False)


def api_detail_body(item):
    """The API's detail response for ``item``, pretty-printed: its stored ``document``, verbatim."""
    return pretty_json({"checkpoint_item": json.loads(item.document)})


def visible_related_ids(access, item):
    """Which ids this item points at (copy source, replicas) the user can open: one query."""
    candidates = {item.copy_from} if item.copy_from else set()
    for record in item.replication_records.all():
        candidates |= {record.source_checkpoint_item_id, record.destination_checkpoint_item_id}
    candidates -= {None, "", item.pk}
    if not candidates:
        return set()
    return set(access.visible_items().filter(pk__in=candidates).values_list("pk", flat=True))


#: The item's own keys, as the API names them (``policy_id`` is written only when set).
ITEM_DISPLAY_KEYS = (*ITEM_KEYS, POLICY_KEY)


#: extend_info keys with a table of their own on the page.
DETAIL_SKIP = frozenset({"os_images_data"})


#: Child columns that hold the id of another item, linked when the user may open it.
ITEM_ID_COLUMNS = frozenset({"source_checkpoint_item_id", "destination_checkpoint_item_id"})


@dataclass(frozen=True)
class KeptAsGiven:
    """A value its column cannot hold, shown as the API returns it (``document.parse``: kept as
    given; for filters and sorts the key counts as absent)."""

    value: object


def kept_as_given(obj):
    """``{json path: KeptAsGiven}`` of a row's ``as_given`` column."""
    if not obj.as_given:
        return {}
    return {path: KeptAsGiven(value) for path, value in loads_exact(obj.as_given).items()}


def section_rows(obj, keys, extra=None, skip=frozenset(), *, given=None, path=""):
    """``[(json key, value)]`` of one section of the item, its unlisted keys after the listed ones;
    a value kept as given (``given``, by JSON path: ``path`` + key) in place of its empty column."""
    given = given or {}
    rows = [
        (key.name, given.get(path + key.name) or getattr(obj, key.attr))
        for key in keys
        if key.name not in skip
    ]
    return rows + sorted((extra or {}).items())


def child_row(obj, keys, visible_ids):
    """A volume backup or replication record as table cells; ``extra`` holds its unlisted keys."""
    cells = []
    given = kept_as_given(obj)
    for key in keys:
        value = given.get(key.name) or getattr(obj, key.attr)
        link = (
            reverse("backups:detail", args=[value])
            if key.name in ITEM_ID_COLUMNS and value in visible_ids
            else None
        )
        cells.append({"name": key.name, "value": value, "link": link})
    return {"cells": cells, "extra": obj.extra, "obj": obj, "links": {c["name"]: c["link"] for c in cells}}


def table_of_objects(objects):
    """A list of JSON objects (``os_images_data``) as ``(columns, rows)``, columns in first-seen order."""
    columns = []
    for entry in objects:
        columns += [key for key in entry if key not in columns]
    return {"columns": columns, "rows": [[entry.get(column) for column in columns] for entry in objects]}


def detail_context(request, access, item):
    volume_backups = list(item.volume_backups.all())
    replication_records = list(item.replication_records.all())
    visible_ids = visible_related_ids(access, item)
    given = kept_as_given(item)
    project_links = Links(reverse("backups:list"), {}, item.project_id)
    return {
        "access": access,
        "item": item,
        "status_label": choices.ItemStatus(item.status).label
        if item.status in choices.ItemStatus.values
        else item.status,
        "summary": section_rows(item, ITEM_DISPLAY_KEYS, given=given),
        "backup_data": section_rows(
            item, BACKUP_DATA_KEYS, item.backup_data_extra, given=given, path="backup_data."
        ),
        "extend_info": section_rows(
            item, EXTEND_INFO_KEYS, item.extend_info_extra, skip=DETAIL_SKIP, given=given, path="extend_info."
        ),
        "kept_as_given": sorted(given.items()),
        "item_extra": sorted(item.extra.items()),
        "volume_columns": [key.name for key in VOLUME_BACKUP_KEYS],
        "volume_backups": [child_row(v, VOLUME_BACKUP_KEYS, visible_ids) for v in volume_backups],
        "replication_columns": [key.name for key in REPLICATION_RECORD_KEYS],
        "replication_records": [
            child_row(r, REPLICATION_RECORD_KEYS, visible_ids) for r in replication_records
        ],
        "os_images": table_of_objects(item.os_images_data or []),
        "fail_code": pretty_json(item.fail_code) if item.fail_code else "",
        "raw_json": api_detail_body(item),
        "api_url": request.build_absolute_uri(
            reverse("checkpoint-item-detail", kwargs={"project_id": item.project_id, "item_id": item.pk})
        ),
        "copy_from_url": reverse("backups:detail", args=[item.copy_from])
        if item.copy_from in visible_ids
        else None,
        "same_resource_url": resource_list_url(item.project_id, item.resource_id)
        if item.resource_id
        else None,
        "same_checkpoint_url": project_links.url(checkpoint_id=item.checkpoint_id)
        if item.checkpoint_id
        else None,
        "same_policy_url": project_links.url(policy_id=item.policy_id) if item.policy_id else None,
        "back_url": project_links.url(),
    }
