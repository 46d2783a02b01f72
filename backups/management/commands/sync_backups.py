"""``sync_backups [NAME ...] [--dry-run] [--watch]``: mirror upstream sources into the inventory.

Without names, every enabled source. Prints a line per page (pages, items, rate) and a summary per
source; exits non-zero when any source failed (the others still run). ``--dry-run`` writes
nothing and lists what would be created, updated and marked gone. ``--watch`` keeps running each
source on its interval (``backups.sync.watch``). The walk's rules: ``backups.sync.walk``.
"""

import threading

from django.core.management.base import BaseCommand, CommandError

from backups.choices import RunStatus
from backups.sync.http import UpstreamError
from backups.sync.models import SyncSource
from backups.sync.walk import Busy, SourceRun, dry_run
from backups.sync.watch import stop_on_signals, watch

SHOWN = 10  # ids listed per category in --dry-run


def _n(value):
    return f"{value:,}"


def describe(error):
    return error.describe() if isinstance(error, UpstreamError) else f"{type(error).__name__}: {error}"


class Command(BaseCommand):
    help = "Mirror CSBS/CBR sources into the inventory (all enabled sources without names)."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", metavar="NAME")
        parser.add_argument("--dry-run", action="store_true", help="write nothing; say what would change")
        parser.add_argument(
            "--restart", action="store_true", help="walk from the start, even after an interrupted run"
        )
        parser.add_argument("--quiet", action="store_true", help="no line per page, summaries only")
        parser.add_argument("--watch", action="store_true", help="keep running each source on its interval")
        parser.add_argument("--cycles", type=int, help="with --watch: stop after N passes")
        parser.add_argument("--for", dest="seconds", type=float, help="with --watch: stop after SECONDS")

    def handle(self, *args, names, dry_run, restart, quiet, watch, cycles, seconds, **options):
        self.quiet = quiet
        self.select(names)  # unknown names fail before anything runs
        if watch:
            if dry_run:
                raise CommandError("--watch and --dry-run do not go together")
            return self.watch(names, restart, cycles, seconds)
        failed = [source.name for source in self.select(names) if not self.run_one(source, dry_run, restart)]
        if failed:
            raise CommandError(f"{len(failed)} source(s) failed: {', '.join(failed)}")

    def select(self, names):
        if not names:
            return list(SyncSource.objects.filter(enabled=True))
        sources = {s.name: s for s in SyncSource.objects.filter(name__in=names)}
        unknown = [name for name in names if name not in sources]
        if unknown:
            raise CommandError(
                f"no source named {', '.join(unknown)}: add it with add_sync_source, "
                f"or pick one of {', '.join(SyncSource.objects.values_list('name', flat=True)) or '(none)'}"
            )
        return [sources[name] for name in dict.fromkeys(names)]

    def watch(self, names, restart, cycles, seconds):
        self.stop = threading.Event()
        with stop_on_signals(self.stop):
            passes = watch(
                lambda: self.select(names),
                lambda s: self.run_one(s, False, restart),
                stop=self.stop,
                cycles=cycles,
                seconds=seconds,
            )
        self.stdout.write(f"watch: stopped after {passes} pass(es)")

    # --- one source ------------------------------------------------------------------------------

    def run_one(self, source, dry, restart):
        """Run (or dry-run) ``source``, print its summary; ``False`` if it failed."""
        self.stdout.write(
            f"{source.name}: {source.kind} project {source.project_id} at {source.endpoint_url()}"
            + (" (dry run: nothing is written)" if dry else "")
        )
        on_progress = None if self.quiet else self.progress
        if dry:
            try:
                report = dry_run(source, on_progress=on_progress)
            except Exception as error:  # noqa: BLE001 - reported; the other sources go on
                self.stdout.write(f"{source.name}: FAILED (dry run): {describe(error)}")
                return False
            self.print_dry_run(report)
            return True
        stop = getattr(self, "stop", None)
        try:
            run = SourceRun(
                source, restart=restart, on_progress=on_progress, should_stop=stop.is_set if stop else None
            ).execute()
        except Busy as busy:
            self.stdout.write(f"{source.name}: skipped: {busy}")
            return True
        self.print_run(run)
        return run.status == RunStatus.SUCCEEDED

    def progress(self, source, progress):
        self.stdout.write(
            f"{source.name}: page {progress.pages}, {_n(progress.seen)} items "
            f"(+{_n(progress.created)} new, {_n(progress.updated)} updated, "
            f"{_n(progress.unchanged)} unchanged), "
            f"{progress.rate:,.0f} items/s"
        )

    def print_run(self, run):
        seconds = run.duration.total_seconds() if run.duration else 0
        resumed = f", resumed after {run.resumed_from.cursor!r}" if run.resumed_from else ""
        counts = (
            f"{run.pages} pages, {_n(run.items_seen)} items: {_n(run.items_created)} created, "
            f"{_n(run.items_updated)} updated, {_n(run.items_unchanged)} unchanged, "
            f"{_n(run.items_marked_gone)} marked gone, {_n(run.items_purged)} purged, "
            f"{_n(run.items_rejected)} rejected, {_n(run.conflicts)} conflicts; "
            f"{run.requests} requests, {run.retries} retries, {run.throttled} × 429"
        )
        if run.status == RunStatus.SUCCEEDED:
            rate = run.items_seen / seconds if seconds else 0
            check = (
                f"upstream count {_n(run.upstream_count)} "
                + ("MISMATCH" if run.count_mismatch else "matches")
                + f" the walk's {_n(run.walk_items)}"
            )
            self.stdout.write(
                f"{run.source.name}: succeeded in {seconds:.1f} s ({rate:,.0f} items/s){resumed}; "
                f"{counts}; {check}"
            )
            if run.gone_skipped:
                self.stdout.write(f"{run.source.name}: {run.gone_skipped}")
        else:
            where = (f"cursor {run.cursor!r} (the next run resumes there)" if run.cursor and not run.complete
                     else "the next run walks from the start")
            self.stdout.write(
                f"{run.source.name}: {run.status.upper()} after {seconds:.1f} s{resumed}; {counts}; {where}\n"
                f"{run.error}"
            )
        for problem in run.problems[:5]:
            self.stdout.write(f"{run.source.name}:   {problem}")

    def print_dry_run(self, report):
        name = report.source.name
        self.stdout.write(
            f"{name}: would create {_n(len(report.created))}, update {_n(len(report.updated))}, "
            f"mark gone {_n(len(report.gone))} ({_n(report.unchanged)} unchanged, "
            f"{_n(len(report.conflicts))} conflicts, {_n(len(report.rejected))} rejected; "
            f"{report.pages} pages, upstream count {report.upstream_count})"
        )
        for label, ids in (
            ("create", report.created),
            ("update", report.updated),
            ("mark gone", report.gone),
        ):
            if ids:
                more = f" … and {_n(len(ids) - SHOWN)} more" if len(ids) > SHOWN else ""
                self.stdout.write(f"{name}:   would {label}: {', '.join(ids[:SHOWN])}{more}")
        for item_id, owner in report.conflicts[:SHOWN]:
            self.stdout.write(f"{name}:   conflict: {item_id} belongs to {owner}")
        for item_id, message in report.rejected[:SHOWN]:
            self.stdout.write(f"{name}:   rejected: {item_id}: {message}")
        if report.gone_skipped:
            self.stdout.write(f"{name}: {report.gone_skipped}")
