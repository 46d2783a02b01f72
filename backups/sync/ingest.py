"""The sync's one seam onto the ingest path: parse an upstream item, render it, write a page.

Every synced item goes through the same rule as an import (``backups.schema.parse_item``) and the
same writer (``backups.services.upsert_items``), so a mirrored item is stored and served exactly as
an imported one would be. Only this module names them: when the ingest path moves or changes, the
sync follows here.
"""

from types import SimpleNamespace

from backups.models import CheckpointItem
from backups.schema import ItemInvalid, parse_item
from backups.services import Origin, upsert_items

__all__ = ["ItemInvalid", "document_of", "parse", "write"]


def parse(data):
    """A ``ParsedItem`` of one upstream item in the CSBS shape; raises ``ItemInvalid``."""
    return parse_item(data)


def document_of(project_id, parsed):
    """The API JSON the item would be stored with (``CheckpointItem.derive``, its one home)."""
    item = SimpleNamespace(project_id=project_id, **parsed.fields)
    volume_backups = [SimpleNamespace(**row) for row in parsed.volume_backups]
    replication_records = [SimpleNamespace(**row) for row in parsed.replication_records]
    CheckpointItem.derive(item, volume_backups, replication_records)
    return item.document


def write(project_id, parsed_items, *, source_id):
    """Upsert ``parsed_items`` as the source's (and not gone); ``(created, updated)``."""
    if not parsed_items:
        return 0, 0
    return upsert_items(project_id, parsed_items, Origin(source_id=source_id))
