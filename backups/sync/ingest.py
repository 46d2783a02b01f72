"""The sync's one seam onto the ingest path: parse an upstream item, write a page of them.

Every synced item goes through the same rule as an import (``backups.document.parse.parse_item``)
and the same writer (``backups.services.upsert.upsert_items``, which renders the stored document
through ``backups.services.documents``), so a mirrored item is stored and served exactly as an
imported one would be. Only this module names them: when the ingest path moves or changes, the
sync follows here.
"""
from backups.document.parse import ItemInvalid, parse_item
from backups.services.upsert import Origin, upsert_items

__all__ = ["ItemInvalid", "parse", "write"]


def parse(data):
    """A ``ParsedItem`` of one upstream item in the CSBS shape; raises ``ItemInvalid``."""
    return parse_item(data)


def write(project_id, parsed_items, *, source_id):
    """Upsert ``parsed_items`` as the source's (and not gone); ``(created, updated)``."""
    if not parsed_items:
        return 0, 0
    return upsert_items(project_id, parsed_items, Origin(source_id=source_id))
