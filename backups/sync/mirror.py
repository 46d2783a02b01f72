"""What one page of a walk does to the inventory, and what a complete walk may conclude.

A page's items are sorted into: **unchanged** (this source listed the very same item last time:
its digest matches the item's ``Sighting``, so it is neither parsed nor written — only its
``seen_at`` moves), **created** (a new id), **updated** (an item of this source that changed
upstream, or had been marked gone), **conflicts** (the id belongs to another project, another
source, an import or an admin edit: a source never overwrites another origin's item, it reports
it), **rejected** (the ingest rule refused the item; if this source already holds that id, it
still counts as seen, so it is not marked gone for being unreadable). The page is written in one
transaction with the run's cursor (``backups.sync.walk``).

Only a complete walk may mark items gone: items of THIS source that no page of the walk saw (no
sighting since the walk began). Items of other sources, imports and admin edits are never
touched. Gone items older than ``SYNC_GONE_RETENTION_DAYS`` are purged.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta

import orjson
from django.conf import settings

from backups.models import CheckpointItem

from . import ingest
from .models import Sighting

PROBLEMS_KEPT = 20  # per run: the first rejected and conflicting ids, for a reader


def digest(data):
    """A stable digest of one upstream item (keys sorted), to tell an unchanged item at a glance."""
    try:
        text = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # an integer beyond 64 bits: the standard library writes it
        text = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.blake2b(text, digest_size=16).hexdigest()


@dataclass
class PageSort:
    """A page's items sorted by what writing them would do."""

    created: list = field(default_factory=list)  # ParsedItem
    updated: list = field(default_factory=list)  # ParsedItem
    unchanged: list = field(default_factory=list)  # ids
    seen_rejected: list = field(default_factory=list)  # ids of ours the ingest rule refused
    conflicts: list = field(default_factory=list)  # (id, owner)
    rejected: list = field(default_factory=list)  # (id or position, message)
    duplicates: list = field(default_factory=list)  # ids given twice on the page
    digests: dict = field(default_factory=dict)  # id -> digest, of the created and updated

    def problems(self):
        return (
            [{"id": i, "conflict": owner} for i, owner in self.conflicts]
            + [{"id": i, "rejected": message} for i, message in self.rejected]
            + [{"id": i, "duplicate": "given twice on one page; the first kept"} for i in self.duplicates]
        )


def _owner(project_id, source_id):
    return f"project {project_id}" + (f", source #{source_id}" if source_id else ", an import or admin edit")


def _entries(items, result):
    """``(id, data)`` of the page's items, each id once; items without an id are rejected at once."""
    entries, ids = [], set()
    for position, data in enumerate(items):
        item_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(item_id, str) or not item_id:
            try:
                ingest.parse(data)
                message = "no usable id"
            except ingest.ItemInvalid as error:
                message = str(error)
            result.rejected.append((f"#{position}", message))
        elif item_id in ids:
            result.duplicates.append(item_id)
        else:
            ids.add(item_id)
            entries.append((item_id, data))
    return entries


def sort_page(source, items):
    """Sort ``items`` (CSBS-shaped dicts) against what is stored: one query, two when something changed."""
    result = PageSort()
    entries = _entries(items, result)
    sightings = Sighting.objects.filter(source=source, item_id__in=[item_id for item_id, _ in entries])
    known = dict(sightings.values_list("item_id", "digest"))
    changed = []
    for item_id, data in entries:
        item_digest = digest(data)
        if known.get(item_id) == item_digest:
            result.unchanged.append(item_id)
        else:
            changed.append((item_id, data, item_digest))
    owners = {}
    if changed:
        owners = {
            pk: (project_id, source_id)
            for pk, project_id, source_id in CheckpointItem.objects.filter(
                pk__in=[item_id for item_id, _, _ in changed]
            ).values_list("pk", "project_id", "source_id")
        }
    for item_id, data, item_digest in changed:
        owner = owners.get(item_id)
        if owner is not None and owner != (source.project_id, source.pk):
            result.conflicts.append((item_id, _owner(*owner)))
            continue
        try:
            parsed = ingest.parse(data)
        except ingest.ItemInvalid as error:
            result.rejected.append((item_id, str(error)))
            if owner is not None:
                result.seen_rejected.append(item_id)
            continue
        (result.created if owner is None else result.updated).append(parsed)
        result.digests[item_id] = item_digest
    return result


def write_page(source, page, now):
    """Write a sorted page as the source's, seen ``now`` (in the caller's transaction)."""
    ingest.write(source.project_id, page.created + page.updated, source_id=source.pk)
    if page.digests:
        Sighting.objects.bulk_create(
            [Sighting(item_id=i, source=source, seen_at=now, digest=d) for i, d in page.digests.items()],
            update_conflicts=True, unique_fields=["item"], update_fields=["source", "seen_at", "digest"],
        )
    touched = page.unchanged + page.seen_rejected
    if touched:
        Sighting.objects.filter(source=source, item_id__in=touched).update(seen_at=now)


def unseen(source, walk_started_at):
    """This source's live items that the walk (begun at ``walk_started_at``) did not see."""
    return CheckpointItem.objects.filter(source=source, gone_at__isnull=True).exclude(
        sighting__seen_at__gte=walk_started_at
    )


def mark_gone(source, walk_started_at, now):
    """After a complete walk: mark what it did not see as gone; return how many."""
    ids = list(unseen(source, walk_started_at).values_list("pk", flat=True))
    for start in range(0, len(ids), 1000):
        batch = ids[start : start + 1000]
        CheckpointItem.objects.filter(pk__in=batch).update(gone_at=now)
        Sighting.objects.filter(item_id__in=batch).update(digest="")  # if it comes back, it is rewritten
    return len(ids)


def purge(source, now):
    """Delete this source's items gone for longer than the retention; return how many items."""
    cutoff = now - timedelta(days=settings.SYNC_GONE_RETENTION_DAYS)
    _, per_model = CheckpointItem.objects.filter(source=source, gone_at__lt=cutoff).delete()
    return per_model.get(CheckpointItem._meta.label, 0)
