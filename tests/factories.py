"""Test data through the one import path: CSBS item dicts → parse.parse_item → services.upsert_items."""
import copy
import itertools
import json
import uuid

from backups.document.parse import parse_item
from backups.services.upsert import upsert_items

from .conftest import SAMPLE_RESPONSE_PATH

_SAMPLE = json.loads(SAMPLE_RESPONSE_PATH.read_text(encoding="utf-8"))["checkpoint_items"][0]
_counter = itertools.count(1)


def item_dict(**overrides):
    """A CSBS item like the seed's sample, with a fresh id; ``extend_info``/``backup_data`` keys
    may be given as ``extend_info__key=value`` / ``backup_data__key=value``."""
    item = copy.deepcopy(_SAMPLE)
    item["id"] = str(uuid.UUID(int=next(_counter)))
    for key, value in overrides.items():
        section, _, sub = key.partition("__")
        if sub:
            item[section][sub] = value
        elif value is _DELETE:
            item.pop(key, None)
        else:
            item[key] = value
    return item


_DELETE = object()
DELETE = _DELETE


def create_items(project_id, *items):
    """Import item dicts into ``project_id``; return their ids in the given order."""
    upsert_items(project_id, [parse_item(item) for item in items])
    return [item["id"] for item in items]
