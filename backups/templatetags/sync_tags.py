"""The mirror's freshness on the pages: a banner per project, and an item's origin (backups.sync)."""
from django import template
from django.conf import settings
from django.utils import timezone

from backups.sync import freshness

register = template.Library()


@register.filter
def duration(value):
    """A ``timedelta`` as ``15 min``, ``2 h``, ``1 d 6 h``."""
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min"), (seconds, "s")) if n]
    return " ".join(parts[:2]) or "0 s"


@register.inclusion_tag("backups/_sync_freshness.html")
def sync_freshness(project, all_projects=False):
    """When each source of ``project`` last synced; with ``all_projects``, only the stale sources."""
    now = timezone.now()
    sources = freshness.states() if all_projects else freshness.for_project(project)
    rows = [{"state": state, "stale": state.stale(now)} for state in sources]
    if all_projects:
        rows = [row for row in rows if row["stale"]]
    return {"rows": rows, "all_projects": all_projects, "any_stale": any(row["stale"] for row in rows)}


@register.inclusion_tag("backups/_item_origin.html")
def item_origin(item):
    """Where an item comes from: its source (and when it last saw it, or since when it is gone)."""
    return {
        "item": item,
        "source": freshness.by_pk(item.source_id) if item.source_id else None,
        "retention_days": settings.SYNC_GONE_RETENTION_DAYS,
    }
