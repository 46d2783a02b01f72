"""What one page of a walk does to the inventory, and what a complete walk may conclude.

A page's items are sorted into: **created** (a new id), **updated** (an item of this source whose
stored document differs, or that had been marked gone), **unchanged** (same document: only
``last_seen_at`` moves), **conflicts** (the id belongs to another project, another source, an
import or an admin edit: a source never overwrites another origin's item, it reports it),
**rejected** (the ingest rule refused the item; if this source already holds that id, it still
counts as seen, so it is not marked gone for being unreadable). The page is then written in one
transaction with the run's cursor (``backups.sync.walk``).

Only a complete walk may mark items gone: items of THIS source that no page of the walk saw
(``last_seen_at`` before the walk started). Items of other sources, imports and admin edits are
never touched. Gone items older than ``SYNC_GONE_RETENTION_DAYS`` are purged.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Q

from backups.models import CheckpointItem

from . import ingest

PROBLEMS_KEPT = 20  # per run: the first rejected and conflicting ids, for a reader


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

    @property
    def seen(self):
        return len(self.created) + len(self.updated) + len(self.unchanged) + len(self.seen_rejected)

    def problems(self):
        return (
            [{"id": i, "conflict": owner} for i, owner in self.conflicts]
            + [{"id": i, "rejected": message} for i, message in self.rejected]
            + [{"id": i, "duplicate": "given twice on one page; the first kept"} for i in self.duplicates]
        )


def _owner(project_id, source_id):
    return f"project {project_id}" + (f", source #{source_id}" if source_id else ", an import or admin edit")


def sort_page(source, items):
    """Parse ``items`` (CSBS-shaped dicts) and sort them against the stored items; one query."""
    result, parsed, ids = PageSort(), [], set()
    rejected_ids = []
    for position, data in enumerate(items):
        item_id = data.get("id") if isinstance(data, dict) else None
        try:
            item = ingest.parse(data)
        except ingest.ItemInvalid as error:
            result.rejected.append((item_id if isinstance(item_id, str) else f"#{position}", str(error)))
            if isinstance(item_id, str):
                rejected_ids.append(item_id)
            continue
        if item.id in ids:
            result.duplicates.append(item.id)
            continue
        ids.add(item.id)
        parsed.append(item)
    stored = {
        pk: rest
        for pk, *rest in CheckpointItem.objects.filter(pk__in=[*ids, *rejected_ids]).values_list(
            "pk", "project_id", "source_id", "document", "gone_at"
        )
    }
    for item in parsed:
        row = stored.get(item.id)
        if row is None:
            result.created.append(item)
            continue
        project_id, source_id, document, gone_at = row
        if project_id != source.project_id or source_id != source.pk:
            result.conflicts.append((item.id, _owner(project_id, source_id)))
        elif gone_at is None and document == ingest.document_of(source.project_id, item):
            result.unchanged.append(item.id)
        else:
            result.updated.append(item)
    for item_id in rejected_ids:
        row = stored.get(item_id)
        if row is not None and row[0] == source.project_id and row[1] == source.pk:
            result.seen_rejected.append(item_id)
    return result


def write_page(source, page, now):
    """Write a sorted page as the source's, seen ``now`` (in the caller's transaction)."""
    ingest.write(source.project_id, page.created + page.updated, source_id=source.pk, seen_at=now)
    touched = page.unchanged + page.seen_rejected
    if touched:
        CheckpointItem.objects.filter(pk__in=touched, source=source).update(last_seen_at=now)


def unseen(source, walk_started_at):
    """This source's live items that the walk (begun at ``walk_started_at``) did not see."""
    return CheckpointItem.objects.filter(source=source, gone_at__isnull=True).filter(
        Q(last_seen_at__lt=walk_started_at) | Q(last_seen_at__isnull=True)
    )


def mark_gone(source, walk_started_at, now):
    """After a complete walk: mark what it did not see as gone; return how many."""
    return unseen(source, walk_started_at).update(gone_at=now)


def purge(source, now):
    """Delete this source's items gone for longer than the retention; return how many items."""
    cutoff = now - timedelta(days=settings.SYNC_GONE_RETENTION_DAYS)
    doomed = CheckpointItem.objects.filter(source=source, gone_at__lt=cutoff)
    deleted, per_model = doomed.delete()
    return per_model.get(CheckpointItem._meta.label, 0)
