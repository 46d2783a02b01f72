"""The two list APIs a source walks: CSBS ``checkpoint_items`` and CBR ``backups``, page by page.

Both are walked the same way (``backups.sync.walk``): ``sort=id:asc`` with ``limit`` and
``marker``; each page comes back as items in the CSBS shape (CBR's mapped by
``backups.sync.cbr``). After a complete walk the upstream's own count is asked: CSBS's
``…/checkpoint_items/count``, CBR's ``count`` of the list answer (the last page's, no extra request).
"""

from dataclasses import dataclass

from backups.choices import SourceKind

from .cbr import csbs_item
from .http import UpstreamError


@dataclass
class Page:
    items: list  # CSBS-shaped items, in the upstream's order
    count: int | None = None  # the upstream's total, when the list answer carries one


def _list_of(data, key, url):
    items = data.get(key)
    if not isinstance(items, list):
        raise UpstreamError(
            f"the answer of {url} has no {key!r} list", url=url, status=200, body=str(data)[:500]
        )
    return items


class CSBSList:
    def __init__(self, client, project_id):
        self.client = client
        self.path = f"/v1/{project_id}/checkpoint_items"

    def page(self, marker, limit):
        params = [("limit", limit), ("sort", "id:asc")] + ([("marker", marker)] if marker else [])
        data = self.client.get_json(self.path, params)
        return Page(_list_of(data, "checkpoint_items", self.path))

    def count(self, last_page):
        data = self.client.get_json(self.path + "/count", [])
        count = data.get("count")
        if isinstance(count, bool) or not isinstance(count, int):
            raise UpstreamError(
                f"{self.path}/count answered no integer count", status=200, body=str(data)[:500]
            )
        return count


class CBRList:
    def __init__(self, client, project_id):
        self.client = client
        self.path = f"/v3/{project_id}/backups"

    def page(self, marker, limit):
        params = [("limit", limit), ("sort", "id:asc")] + ([("marker", marker)] if marker else [])
        data = self.client.get_json(self.path, params)
        count = data.get("count")
        return Page(
            [csbs_item(backup) for backup in _list_of(data, "backups", self.path)],
            count if isinstance(count, int) and not isinstance(count, bool) else None,
        )

    def count(self, last_page):
        return last_page.count


def list_api(source, client):
    return {SourceKind.CSBS: CSBSList, SourceKind.CBR: CBRList}[source.kind](client, source.project_id)
