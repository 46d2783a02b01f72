"""One run of one source: a full walk of its list API into the inventory, recorded as a ``SyncRun``.

The walk (``sort=id:asc``, ``limit`` = the source's page size, ``marker`` = the last id of the
previous page) goes on until a short page. Each page is written in one transaction together with
the run's cursor and counters, so whatever happens next, the inventory and the cursor agree:
a run that fails or is interrupted leaves a cursor, and the next run of the source resumes there
(keeping the walk's start, so pages seen before the interruption still count as seen).

A page whose last id is a marker the walk already used (the upstream ignores ``marker``, or loops)
aborts the run. After the last page, the upstream's count is compared with the items the walk saw;
a mismatch is recorded. Items are marked gone only when the walk completed AND the upstream counts
no more items than the walk saw: fewer seen than counted is the trace of a walk that skipped
items, and then marking would wipe live data (the reason is recorded on the run instead).

``--dry-run`` walks from the start, writes nothing (no run, no lease, no item) and reports what a
run would create, update and mark gone.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from . import lease, mirror
from .auth import auth_for
from .http import Counters, UpstreamClient, UpstreamError
from .models import RunStatus, SyncRun
from .upstreams import list_api

SAMPLE_IDS = 10


class WalkAborted(Exception):
    """The upstream's paging cannot be trusted (a repeated marker, a page without ids)."""


class Interrupted(Exception):
    """Asked to stop (SIGTERM/SIGINT in --watch, or a caller's ``should_stop``)."""


class Busy(Exception):
    """Another run holds the source's lease."""


@dataclass
class Progress:
    """What the walk did so far, for a progress line."""

    pages: int = 0
    seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def rate(self):
        elapsed = time.monotonic() - self.started
        return self.seen / elapsed if elapsed > 0 else 0.0


class Walker:
    """The page loop shared by a run and a dry run.

    While the caller writes one page, the next one is already being fetched (its marker is the
    page's last id, known as soon as the page arrives): the upstream's time and ours overlap. Only
    the fetching thread uses the HTTP client; the database stays in the caller's thread.
    """

    def __init__(self, source, client, *, marker="", should_stop=None):
        self.source, self.api = source, list_api(source, client)
        self.marker = marker
        self.markers = {marker} - {""}
        self.should_stop = should_stop or (lambda: False)
        self.last_page = None

    def pages(self):
        """Yield ``(page, next marker)`` until a short page."""
        limit = self.source.page_size
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sync-{self.source.name}") as fetcher:
            pending = fetcher.submit(self.api.page, self.marker, limit)
            try:
                while True:
                    page = pending.result()
                    self.last_page = page
                    marker = self._next_marker(page)
                    last = len(page.items) < limit
                    if not last and not self.should_stop():
                        pending = fetcher.submit(self.api.page, marker, limit)
                    yield page, marker
                    self.marker = marker
                    if last:
                        return
                    if self.should_stop():
                        raise Interrupted(f"stopped before the page after marker {self.marker!r}")
            finally:
                pending.cancel()

    def _next_marker(self, page):
        if not page.items:
            return self.marker
        last = page.items[-1]
        last_id = last.get("id") if isinstance(last, dict) else None
        if not isinstance(last_id, str) or not last_id:
            raise WalkAborted(f"the page after marker {self.marker!r} ends with an item without an id")
        if last_id in self.markers:
            raise WalkAborted(
                f"the page after marker {self.marker!r} ends at {last_id!r} again: the upstream does not "
                "advance (it ignores marker or sort), so the walk stops before it loops"
            )
        self.markers.add(last_id)
        return last_id

    def count(self):
        return self.api.count(self.last_page)


def _resumable(previous):
    return (
        previous is not None
        and previous.status in (RunStatus.FAILED, RunStatus.INTERRUPTED)
        and not previous.complete
        and previous.cursor
    )


def previous_run(source):
    """The source's latest run; a 'running' one whose lease has expired is closed as interrupted."""
    previous = source.runs.order_by("-started_at", "-pk").first()
    if previous is not None and previous.status == RunStatus.RUNNING:
        previous.status = RunStatus.INTERRUPTED
        previous.finished_at = timezone.now()
        previous.error = (previous.error + "\n" if previous.error else "") + "abandoned: its process stopped"
        previous.save(update_fields=["status", "finished_at", "error"])
    return previous


COUNTERS = (
    "pages",
    "walk_items",
    "items_seen",
    "items_created",
    "items_updated",
    "items_unchanged",
    "items_rejected",
    "conflicts",
)


class SourceRun:
    """``execute()`` runs the source once and returns its ``SyncRun`` (raises ``Busy``)."""

    def __init__(
        self, source, *, environ=None, restart=False, should_stop=None, on_progress=None, sleep=time.sleep
    ):
        self.source, self.environ, self.restart = source, environ, restart
        self.should_stop, self.on_progress, self.sleep = should_stop, on_progress, sleep
        self.counters = Counters()
        self.progress = Progress()

    def execute(self):
        owner = lease.new_owner()
        if not lease.acquire(self.source, owner):
            held = lease.holder(self.source)
            raise Busy(
                f"source {self.source.name!r} is being synced by another run"
                + (f" (lease until {held[1]:%Y-%m-%d %H:%M:%S} UTC)" if held else "")
            )
        try:
            run = self._start()
            self._walk(run, owner)
            return run
        finally:
            lease.release(self.source, owner)

    def _start(self):
        previous = previous_run(self.source)
        now = timezone.now()
        resume = previous if (_resumable(previous) and not self.restart) else None
        return SyncRun.objects.create(
            source=self.source,
            started_at=now,
            resumed_from=resume,
            walk_started_at=resume.walk_started_at if resume else now,
            cursor=resume.cursor if resume else "",
            walk_items=resume.walk_items if resume else 0,
        )

    def _walk(self, run, owner):
        client = None
        try:
            client = UpstreamClient(
                self.source.endpoint_url(),
                auth_for(self.source, self.environ),
                counters=self.counters,
                sleep=self.sleep,
            )
            walker = Walker(self.source, client, marker=run.cursor, should_stop=self.should_stop)
            for page, marker in walker.pages():
                self._write(run, owner, page, marker)
            run.complete = True
            run.save(update_fields=["complete"])
            self._conclude(run, walker.count())
        except (UpstreamError, WalkAborted, lease.LeaseLost) as error:
            self._finish(
                run, RunStatus.FAILED, error.describe() if isinstance(error, UpstreamError) else str(error)
            )
        except (Interrupted, KeyboardInterrupt, SystemExit) as error:
            self._finish(run, RunStatus.INTERRUPTED, f"interrupted: {error}" if str(error) else "interrupted")
            if not isinstance(error, Interrupted):
                raise
        except Exception as error:  # a bug or the database: recorded, and the other sources go on
            self._finish(run, RunStatus.FAILED, f"{type(error).__name__}: {error}")
        finally:
            if client is not None:
                client.close()

    def _write(self, run, owner, page, marker):
        now = timezone.now()
        with transaction.atomic():
            lease.renew(self.source, owner)
            sorted_page = mirror.sort_page(self.source, page.items)
            mirror.write_page(self.source, sorted_page, now)
            run.cursor = marker
            run.pages += 1
            run.walk_items += len(page.items)
            run.items_seen += len(page.items)
            run.items_created += len(sorted_page.created)
            run.items_updated += len(sorted_page.updated)
            run.items_unchanged += len(sorted_page.unchanged)
            run.items_rejected += len(sorted_page.rejected)
            run.conflicts += len(sorted_page.conflicts)
            room = mirror.PROBLEMS_KEPT - len(run.problems)
            if room > 0:
                run.problems = run.problems + sorted_page.problems()[:room]
            self._save_counters(run, "cursor", "problems", *COUNTERS)
        self.progress.pages, self.progress.seen = run.pages, run.items_seen
        self.progress.created, self.progress.updated = run.items_created, run.items_updated
        self.progress.unchanged = run.items_unchanged
        if self.on_progress:
            self.on_progress(self.source, self.progress)

    def _conclude(self, run, upstream_count):
        now = timezone.now()
        run.upstream_count = upstream_count
        run.count_mismatch = upstream_count is not None and upstream_count != run.walk_items
        with transaction.atomic():
            if upstream_count is not None and upstream_count > run.walk_items:
                run.gone_skipped = (
                    f"the upstream counts {upstream_count} items but the walk saw {run.walk_items}: "
                    "it may have skipped some, so nothing was marked gone"
                )
            else:
                run.items_marked_gone = mirror.mark_gone(self.source, run.walk_started_at, now)
            run.items_purged = mirror.purge(self.source, now)
            self.source.data_as_of, self.source.last_success_at = run.walk_started_at, now
            self.source.save(update_fields=["data_as_of", "last_success_at"])
            run.status, run.finished_at = RunStatus.SUCCEEDED, now
            self._save_counters(
                run,
                "upstream_count",
                "count_mismatch",
                "gone_skipped",
                "items_marked_gone",
                "items_purged",
                "status",
                "finished_at",
            )

    def _finish(self, run, status, error):
        """Close a run that did not complete: its committed pages and cursor stay as they are."""
        run.refresh_from_db()  # drop what a rolled-back page had counted
        run.status, run.finished_at, run.error = status, timezone.now(), error
        self._save_counters(run, "status", "finished_at", "error")

    def _save_counters(self, run, *fields):
        run.requests, run.retries, run.throttled = (
            self.counters.requests,
            self.counters.retries,
            self.counters.throttled,
        )
        run.save(update_fields=[*fields, "requests", "retries", "throttled"])


@dataclass
class DryRunReport:
    """What a run would do; nothing was written."""

    source: object
    pages: int = 0
    seen: int = 0
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: int = 0
    conflicts: list = field(default_factory=list)
    rejected: list = field(default_factory=list)
    gone: list = field(default_factory=list)
    upstream_count: int | None = None
    gone_skipped: str = ""
    counters: Counters = field(default_factory=Counters)


def dry_run(source, *, environ=None, on_progress=None, sleep=time.sleep):
    """Walk ``source`` from the start and say what a run would change; writes nothing."""
    report = DryRunReport(source)
    progress = Progress()
    seen_ids = set()
    with UpstreamClient(
        source.endpoint_url(), auth_for(source, environ), counters=report.counters, sleep=sleep
    ) as client:
        walker = Walker(source, client)
        for page, _ in walker.pages():
            sorted_page = mirror.sort_page(source, page.items)
            report.pages += 1
            report.seen += len(page.items)
            report.created += [item.id for item in sorted_page.created]
            report.updated += [item.id for item in sorted_page.updated]
            report.unchanged += len(sorted_page.unchanged)
            report.conflicts += sorted_page.conflicts
            report.rejected += sorted_page.rejected
            seen_ids.update(sorted_page.digests)
            seen_ids.update(sorted_page.unchanged + sorted_page.seen_rejected)
            progress.pages, progress.seen = report.pages, report.seen
            progress.created, progress.updated = len(report.created), len(report.updated)
            progress.unchanged = report.unchanged
            if on_progress:
                on_progress(source, progress)
        report.upstream_count = walker.count()
    live = source.items.filter(gone_at__isnull=True).values_list("pk", flat=True)
    if report.upstream_count is not None and report.upstream_count > report.seen:
        report.gone_skipped = (
            f"the upstream counts {report.upstream_count} items but the walk saw "
            f"{report.seen}: nothing would be marked gone"
        )
    else:
        report.gone = sorted(set(live.iterator()) - seen_ids)
    return report
