"""Faults on the way to an upstream: retries, Retry-After, give-ups, aborted walks, overlapping runs.

The upstream is the CBR fake (``tests.upstreams.cbr``), a real server on loopback; faults are queued
on it (``tests.upstreams.server.Fault``) and consumed by the requests they match.
"""
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from backups.models import CheckpointItem
from backups.sync import lease
from backups.sync.models import RunStatus, SyncRun
from backups.sync.walk import Busy, SourceRun
from tests.sync.helpers import FAST_RETRIES, command, run, source
from tests.upstreams.cbr import CBRUpstream, backup
from tests.upstreams.server import Fault, status

pytestmark = pytest.mark.django_db

PROJECT = "cbr-project"
BODY_503 = '{"error_code": "CBR.5003", "error_msg": "the service is busy, try again later"}'


@pytest.fixture(autouse=True)
def fast_retries(settings):
    for name, value in FAST_RETRIES.items():
        setattr(settings, name, value)


@pytest.fixture
def cbr(monkeypatch):
    monkeypatch.setenv("UP_TOKEN", "good-token")
    with CBRUpstream({PROJECT: [backup(i) for i in range(120)]}, tokens={"good-token"}) as upstream:
        yield upstream


@pytest.fixture
def src(cbr):
    return source("cbr", kind="cbr", endpoint=cbr.url, project_id=PROJECT, page_size=50)


class Sleeps(list):
    """A ``sleep`` that records how long the retries would wait, and waits a tenth of it."""

    def __call__(self, seconds):
        self.append(seconds)
        time.sleep(min(seconds, 1.0) / 10)


def list_requests(cbr):
    return [path for _, path, _ in cbr.requests if "/backups" in path]


def test_429_is_retried_after_the_retry_after_it_gives(cbr, src):
    cbr.faults.add(status(429, Retry_After="2"), when=lambda path: "marker=" in path)
    sleeps = Sleeps()
    result = run(src, sleep=sleeps)
    assert result.status == RunStatus.SUCCEEDED, result.error
    assert (result.throttled, result.retries, result.items_created) == (1, 1, 120)
    assert sleeps == [2.0]


def test_retry_after_as_an_http_date_is_honoured_and_capped(cbr, src, settings):
    settings.SYNC_RETRY_AFTER_MAX = 3
    cbr.faults.add(status(429, Retry_After="Wed, 21 Oct 2099 07:28:00 GMT"))
    sleeps = Sleeps()
    assert run(src, sleep=sleeps).status == RunStatus.SUCCEEDED
    assert sleeps == [3]


@pytest.mark.parametrize("code", [500, 502, 503, 504])
def test_server_errors_are_retried_with_growing_waits(cbr, src, code):
    cbr.faults.add(*[status(code, BODY_503)] * 3)
    sleeps = Sleeps()
    result = run(src, sleep=sleeps)
    assert result.status == RunStatus.SUCCEEDED and result.retries == 3 and result.throttled == 0
    # multiplier 0.01 s doubled per retry (0.01, 0.02, 0.04), plus up to 0.01 s of jitter, at most 0.05 s.
    for attempt, wait in enumerate(sleeps):
        assert 0.01 * 2**attempt <= wait <= min(0.05, 0.01 * 2**attempt + 0.01)


def test_a_timeout_is_retried(cbr, src, settings):
    settings.SYNC_TIMEOUT = 0.5
    cbr.faults.add(Fault(delay=1.5), when=lambda path: "marker=" in path)
    result = run(src, sleep=Sleeps())
    assert result.status == RunStatus.SUCCEEDED and result.retries == 1 and result.items_created == 120


@pytest.mark.parametrize("fault", [Fault(reset=True), Fault(cut=True)], ids=["reset", "cut mid-body"])
def test_a_cut_connection_is_retried(cbr, src, fault):
    cbr.faults.add(fault, when=lambda path: "marker=" in path)
    result = run(src, sleep=Sleeps())
    assert result.status == RunStatus.SUCCEEDED and result.retries == 1 and result.items_created == 120


def test_a_source_that_keeps_failing_is_recorded_failed_with_the_upstream_body_and_loses_nothing(cbr, src):
    first = run(src, sleep=Sleeps())
    assert first.items_created == 120
    cbr.backups[PROJECT] = cbr.backups[PROJECT][:80]  # 40 vanish upstream...
    cbr.faults.add(*[status(503, BODY_503)] * 10, when=lambda path: "marker=" in path)
    failed = run(src, sleep=Sleeps())
    assert failed.status == RunStatus.FAILED and failed.retries == 3 and failed.requests == 5
    assert failed.error.startswith(f"HTTP 503 from GET {cbr.url}/v3/{PROJECT}/backups?")
    assert "upstream answered: " + BODY_503 in failed.error
    # ...but the walk did not complete: nothing is marked gone, every item is still served.
    assert CheckpointItem.objects.filter(source=src, gone_at__isnull=True).count() == 120
    assert SyncRun.objects.get(pk=first.pk).status == RunStatus.SUCCEEDED


@pytest.mark.parametrize("code", [400, 403, 404])
def test_client_errors_are_not_retried(cbr, src, code):
    body = f'{{"error_code": "CBR.{code}", "error_msg": "refused"}}'
    cbr.faults.add(status(code, body))
    result = run(src, sleep=Sleeps())
    assert (result.status, result.requests, result.retries, result.pages) == (RunStatus.FAILED, 1, 0, 0)
    assert f"HTTP {code} from GET" in result.error and body in result.error


def test_a_401_with_a_rotated_token_renews_it_once(cbr, src):
    environ, valid, served = {"UP_TOKEN": "old-token"}, {"old-token"}, []

    def check(token):  # the upstream rotates the token between two pages, and so does the operator
        served.append(token)
        if len(served) == 2:
            valid.clear()
            valid.add("new-token")
            environ["UP_TOKEN"] = "new-token"
        return token in valid

    cbr.tokens = check
    result = run(src, environ=environ)
    assert result.status == RunStatus.SUCCEEDED, result.error
    assert served == ["old-token", "old-token", "new-token", "new-token"]
    assert (result.requests, result.retries) == (4, 0)


def test_a_401_that_renewing_cannot_fix_fails_at_once_with_the_body(cbr, src, monkeypatch):
    monkeypatch.setenv("UP_TOKEN", "wrong-token")
    result = run(src)
    assert (result.status, result.requests, result.retries) == (RunStatus.FAILED, 1, 0)
    assert "HTTP 401" in result.error and "APIGW.0301" in result.error


def test_a_missing_environment_variable_fails_the_run_naming_it(src, monkeypatch):
    monkeypatch.delenv("UP_TOKEN")
    result = run(src)
    assert result.status == RunStatus.FAILED and result.requests == 0
    assert result.error == "the environment variable UP_TOKEN (token_env) is not set: export it before running sync_backups"


# --- the walk's own checks -----------------------------------------------------------------------


class IgnoresMarker(CBRUpstream):
    def list_backups(self, project_id, params):
        return super().list_backups(project_id, [(k, v) for k, v in params if k != "marker"])


def test_an_upstream_that_does_not_advance_aborts_the_walk(monkeypatch):
    monkeypatch.setenv("UP_TOKEN", "t")
    with IgnoresMarker({PROJECT: [backup(i) for i in range(120)]}, tokens={"t"}) as cbr:
        result = run(source("loop", kind="cbr", endpoint=cbr.url, project_id=PROJECT, page_size=50))
    assert result.status == RunStatus.FAILED and result.pages == 1 and result.requests == 2
    assert "the upstream does not advance" in result.error


def test_a_count_that_exceeds_what_the_walk_saw_marks_nothing_gone(cbr, src):
    run(src)
    cbr.backups[PROJECT] = cbr.backups[PROJECT][:100]

    original = cbr.list_backups

    def overcounting(project_id, params):
        code, headers, body = original(project_id, params)
        return code, headers, body.replace('"count": 100', '"count": 101')

    cbr.list_backups = overcounting
    result = run(src)
    assert result.status == RunStatus.SUCCEEDED and result.count_mismatch
    assert (result.upstream_count, result.walk_items, result.items_marked_gone) == (101, 100, 0)
    assert "nothing was marked gone" in result.gone_skipped
    cbr.list_backups = original
    assert run(src).items_marked_gone == 20


def test_an_interrupted_run_keeps_its_cursor_and_the_next_run_resumes_there(cbr, src):
    pages = []
    stopped = run(src, should_stop=lambda: len(pages) >= 1, on_progress=lambda s, p: pages.append(p.pages))
    assert stopped.status == RunStatus.INTERRUPTED and stopped.pages == 1 and stopped.cursor
    cbr.requests.clear()
    resumed = run(src)
    assert resumed.resumed_from_id == stopped.pk and resumed.items_created == 70
    assert f"marker={stopped.cursor}" in list_requests(cbr)[0]
    assert CheckpointItem.objects.filter(source=src).count() == 120


def test_a_run_whose_process_died_is_closed_and_resumed(cbr, src):
    crashed = SyncRun.objects.create(
        source=src, started_at=timezone.now(), walk_started_at=timezone.now(), cursor=backup(49).id, walk_items=50,
    )
    resumed = run(src)
    crashed.refresh_from_db()
    assert crashed.status == RunStatus.INTERRUPTED and "abandoned" in crashed.error
    assert resumed.resumed_from_id == crashed.pk and resumed.status == RunStatus.SUCCEEDED
    assert resumed.items_created == 70 and resumed.walk_items == 120 == resumed.upstream_count


def test_restart_walks_from_the_start_instead_of_resuming(cbr, src):
    stopped = run(src, should_stop=lambda: SyncRun.objects.filter(pages__gte=1).exists())
    assert stopped.status == RunStatus.INTERRUPTED
    fresh = run(src, restart=True)
    assert fresh.resumed_from is None and fresh.walk_items == 120 and fresh.items_unchanged == 50


# --- one source at a time, several sources in one command ---------------------------------------


def test_two_runs_of_one_source_never_overlap(cbr, src):
    assert lease.acquire(src, "someone-else")
    with pytest.raises(Busy, match="is being synced by another run"):
        SourceRun(src).execute()
    code, output = command("sync_backups", "cbr")
    assert code == 0 and "cbr: skipped: source 'cbr' is being synced by another run" in output
    assert not SyncRun.objects.exists()


def test_an_expired_lease_is_taken_over_and_its_old_holder_can_no_longer_write(src):
    assert lease.acquire(src, "old")
    type(src).objects.filter(pk=src.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert lease.acquire(src, "new")
    with pytest.raises(lease.LeaseLost):
        lease.renew(src, "old")
    lease.renew(src, "new")
    assert not lease.acquire(src, "third")


@pytest.mark.django_db(transaction=True)
def test_racing_runs_take_the_lease_exactly_once(src):
    barrier, winners = threading.Barrier(4), []

    def race(owner):
        barrier.wait()
        try:
            if lease.acquire(src, owner):
                winners.append(owner)
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(f"racer-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(winners) == 1


def test_one_failing_source_does_not_stop_the_others_and_the_command_exits_non_zero(cbr, src):
    source("dead", kind="cbr", endpoint="http://127.0.0.1:9", project_id=PROJECT, page_size=50)
    code, output = command("sync_backups", "dead", "cbr", "--quiet")
    assert code == 1 and "CommandError: 1 source(s) failed: dead" in output
    assert "dead: FAILED after" in output and "ConnectError" in output
    assert "cbr: succeeded in" in output and "120 created" in output
