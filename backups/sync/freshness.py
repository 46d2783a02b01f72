"""How fresh the mirror is, per project: the pages' banner, the admin, and the API's ``X-Data-As-Of``.

A project's data is "as of" the moment the oldest of its sources' last complete, successful walks
began (``SyncSource.data_as_of``: every item of that source was seen upstream after it). A project
with no source (imported data only) makes no claim; neither does one whose sources have not all
completed a walk yet. A source is **stale** when its last success is older than twice its interval
(or it never succeeded).

The sources' state is read in one query and kept per process for ``SYNC_FRESHNESS_TTL`` seconds,
so an API request costs no query for it; saving a source or a run in this process forgets it at once.
"""
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone as django_timezone

from .models import SyncRun, SyncSource

HEADER = "X-Data-As-Of"


@dataclass(frozen=True)
class SourceState:
    pk: int
    name: str
    kind: str
    project_id: str
    enabled: bool
    interval: object  # timedelta
    data_as_of: datetime | None
    last_success_at: datetime | None
    last_status: str | None
    last_run_at: datetime | None
    last_error: str

    def stale(self, now=None):
        now = now or django_timezone.now()
        return self.last_success_at is None or now - self.last_success_at > 2 * self.interval


_cache = {"at": None, "states": ()}


def forget(*, known_empty=False):
    """Drop the cached state; ``known_empty``: take "no source at all" as read (a fresh database)."""
    _cache["at"], _cache["states"] = (time.monotonic(), ()) if known_empty else (None, ())


def states():
    """Every source's state, at most ``SYNC_FRESHNESS_TTL`` seconds old; one query when refreshed."""
    if _cache["at"] is None or time.monotonic() - _cache["at"] > settings.SYNC_FRESHNESS_TTL:
        latest = SyncRun.objects.filter(source=OuterRef("pk")).order_by("-started_at", "-pk")
        rows = SyncSource.objects.annotate(
            last_status=Subquery(latest.values("status")[:1]),
            last_run_at=Subquery(latest.values("started_at")[:1]),
            last_error=Subquery(latest.values("error")[:1]),
        ).values_list(
            "pk", "name", "kind", "project_id", "enabled", "interval", "data_as_of", "last_success_at",
            "last_status", "last_run_at", "last_error",
        )
        _cache["states"] = tuple(SourceState(*row[:-1], (row[-1] or "")[:300]) for row in rows)
        _cache["at"] = time.monotonic()
    return _cache["states"]


def by_pk(pk):
    return next((state for state in states() if state.pk == pk), None)


def for_project(project_id):
    return [state for state in states() if state.project_id == project_id]


def data_as_of(project_id, *, all_tenants=False):
    """When the data of ``project_id`` (all projects' with ``all_tenants``) was confirmed, or ``None``."""
    relevant = list(states()) if all_tenants else for_project(project_id)
    if not relevant or any(state.data_as_of is None for state in relevant):
        return None
    return min(state.data_as_of for state in relevant)


def header_value(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def with_data_as_of(response, project_id, *, all_tenants=False):
    """Add ``X-Data-As-Of`` to an API answer when the project's data has a known age."""
    moment = data_as_of(project_id, all_tenants=all_tenants)
    if moment is not None:
        response[HEADER] = header_value(moment)
    return response


@receiver(post_save, sender=SyncSource)
@receiver(post_delete, sender=SyncSource)
@receiver(post_save, sender=SyncRun)
def _forget_on_change(**kwargs):
    forget()
