"""``add_sync_source`` and ``sync_backups`` as from the shell, and ``--watch``."""
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest

from backups.sync.models import AuthMethod, RunStatus, SyncRun, SyncSource
from backups.sync.watch import watch
from tests.conftest import REPO_DIR
from tests.sync.helpers import FAST_RETRIES, command, source
from tests.upstreams.cbr import CBRUpstream, backup

pytestmark = pytest.mark.django_db

PROJECT = "cbr-project"


@pytest.fixture(autouse=True)
def fast_retries(settings):
    for name, value in FAST_RETRIES.items():
        setattr(settings, name, value)


@pytest.fixture
def cbr(monkeypatch):
    monkeypatch.setenv("UP_TOKEN", "secret-token-value")
    with CBRUpstream({PROJECT: [backup(i) for i in range(60)]}, tokens={"secret-token-value"}) as upstream:
        yield upstream


# --- add_sync_source ---------------------------------------------------------------------------------


def test_add_sync_source_with_the_documented_interface_then_the_same_name_updates_it():
    code, output = command("add_sync_source", "prod-csbs", "--kind", "csbs", "--endpoint", "http://127.0.0.1:8001",
                           "--project-id", "p1", "--token-env", "PROD_TOKEN")
    assert code == 0 and output.startswith("created source prod-csbs: csbs, project p1, http://127.0.0.1:8001, auth token (token_env=PROD_TOKEN)")
    code, output = command("add_sync_source", "prod-csbs", "--page-size", "200", "--interval", "2h", "--disable")
    assert code == 0 and output.startswith("updated source prod-csbs")
    src = SyncSource.objects.get()
    assert (src.endpoint, src.token_env, src.page_size, src.interval, src.enabled) == (
        "http://127.0.0.1:8001", "PROD_TOKEN", 200, timedelta(hours=2), False)


def test_switching_to_iam_password_forgets_the_token_variable_and_defaults_the_endpoints_from_the_region():
    command("add_sync_source", "s", "--kind", "cbr", "--region", "ap-southeast-1", "--project-id", "p1",
            "--token-env", "T")
    code, output = command("add_sync_source", "s", "--username-env", "U", "--password-env", "P", "--domain-env", "D")
    assert code == 0, output
    src = SyncSource.objects.get()
    assert (src.auth_method, src.token_env, src.password_env) == (AuthMethod.PASSWORD, "", "P")
    assert src.endpoint_url() == "https://cbr.ap-southeast-1.myhuaweicloud.com"
    assert src.iam_url() == "https://iam.ap-southeast-1.myhuaweicloud.com/v3"
    code, _ = command("add_sync_source", "s", "--ak-env", "AK", "--sk-env", "SK")
    assert code == 0 and SyncSource.objects.get().auth_method == AuthMethod.AKSK


@pytest.mark.parametrize("args, message", [
    (["--kind", "csbs", "--endpoint", "http://h", "--project-id", "p"], "say how to authenticate: --token-env VAR"),
    (["--endpoint", "http://h", "--project-id", "p", "--token-env", "T", "--ak-env", "A"], "give the options of one authentication method"),
    (["--endpoint", "http://h", "--project-id", "p/../x", "--token-env", "T"], "--project-id 'p/../x': 1-64 of A-Z"),
    (["--endpoint", "http://h", "--project-id", "p", "--token-env", "T", "--page-size", "1001"], "page_size: Ensure this value is less than or equal to 1000."),
    (["--project-id", "p", "--token-env", "T"], "endpoint: Give an endpoint, or a region to derive it from."),
    (["--endpoint", "http://h", "--project-id", "p", "--token-env", "not a name"], "token_env: An environment variable's name"),
    (["--endpoint", "http://h", "--project-id", "p", "--password-env", "P"], "username_env: Required for auth method password"),
    (["--endpoint", "http://h", "--project-id", "p", "--token-env", "T", "--interval", "soon"], "'soon' is not a duration"),
])
def test_add_sync_source_refuses_what_cannot_work_and_saves_nothing(args, message):
    code, output = command("add_sync_source", "bad", *args)
    assert code == 1 and message in output, output
    assert not SyncSource.objects.exists()


# --- sync_backups ------------------------------------------------------------------------------------


def test_sync_backups_prints_progress_and_a_summary_and_never_the_secret(cbr):
    source("cbr", kind="cbr", endpoint=cbr.url, project_id=PROJECT, page_size=25)
    code, output = command("sync_backups")
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0] == f"cbr: cbr project {PROJECT} at {cbr.url}"
    assert lines[1].startswith("cbr: page 1, 25 items (+25 new, 0 updated, 0 unchanged), ") and lines[1].endswith(" items/s")
    assert lines[3].startswith("cbr: page 3, 60 items (+60 new")
    assert lines[4].startswith("cbr: succeeded in ") and "3 pages, 60 items: 60 created, 0 updated, 0 unchanged, 0 marked gone" in lines[4]
    assert lines[4].endswith("upstream count 60 matches the walk's 60")
    assert "secret-token-value" not in output
    assert "secret-token-value" not in str(list(SyncRun.objects.values()))


def test_without_names_every_enabled_source_runs_and_named_ones_run_in_the_order_given(cbr):
    source("b", kind="cbr", endpoint=cbr.url, project_id=PROJECT)
    source("a", kind="cbr", endpoint=cbr.url, project_id="empty-project")
    source("off", kind="cbr", endpoint=cbr.url, project_id="another", enabled=False)
    code, output = command("sync_backups", "--quiet")
    assert code == 0 and [line.split(":")[0] for line in output.splitlines()] == ["a", "a", "b", "b"]
    code, output = command("sync_backups", "off", "a", "--quiet")
    assert code == 0 and [line.split(":")[0] for line in output.splitlines()] == ["off", "off", "a", "a"]


def test_an_unknown_name_runs_nothing():
    source("known", endpoint="http://127.0.0.1:9", project_id="p")
    code, output = command("sync_backups", "known", "nope")
    assert code == 1 and "no source named nope: add it with add_sync_source, or pick one of known" in output
    assert not SyncRun.objects.exists()


# --- --watch -------------------------------------------------------------------------------------------


def test_watch_runs_each_source_again_once_its_interval_has_passed(cbr):
    source("every-second", kind="cbr", endpoint=cbr.url, project_id=PROJECT, interval=timedelta(seconds=1))
    source("hourly", kind="cbr", endpoint=cbr.url, project_id="empty-project", interval=timedelta(hours=1))
    started = time.monotonic()
    code, output = command("sync_backups", "--watch", "--cycles", "3", "--quiet")
    assert code == 0 and "watch: stopped after 3 pass(es)" in output
    assert SyncRun.objects.filter(source__name="every-second").count() == 3
    assert SyncRun.objects.filter(source__name="hourly").count() == 1
    assert 2.0 <= time.monotonic() - started < 20


def test_watch_is_bounded_in_time_and_stops_when_asked():
    stop = threading.Event()
    started = time.monotonic()
    assert watch(lambda: [], lambda s: None, stop=stop, seconds=0.3) == 0
    assert time.monotonic() - started < 5
    threading.Timer(0.2, stop.set).start()
    assert watch(lambda: [], lambda s: None, stop=stop) == 0  # would sleep 60 s without the stop


@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_a_watching_command_between_pages_and_the_run_resumes_later(cbr, tmp_path):
    """The real command in a subprocess (its own SQLite file): SIGTERM ends the run `interrupted`."""
    database = tmp_path / "watch.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "UP_TOKEN": "secret-token-value"}
    manage = [sys.executable, str(REPO_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, timeout=120)
    subprocess.run([*manage, "add_sync_source", "w", "--kind", "cbr", "--endpoint", cbr.url, "--project-id", PROJECT,
                    "--token-env", "UP_TOKEN", "--page-size", "10", "--interval", "1h"], env=env, check=True, timeout=60)
    from tests.upstreams.server import Fault

    cbr.faults.add(*[Fault(delay=0.5)] * 6)  # slow pages, so that the signal lands mid-walk
    watcher = subprocess.Popen([*manage, "sync_backups", "--watch", "--for", "60"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while len([r for r in cbr.requests if "/backups" in r[1]]) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        watcher.send_signal(signal.SIGTERM)
        output, _ = watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0, output
    assert "w: INTERRUPTED after" in output and "the next run resumes there" in output
    assert "watch: stopped after 1 pass(es)" in output
    done = subprocess.run([*manage, "sync_backups", "w", "--quiet"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "w: succeeded in" in done.stdout and "resumed after" in done.stdout, done.stdout
    with sqlite3.connect(database) as db:
        statuses = [row[0] for row in db.execute("SELECT status FROM backups_syncrun ORDER BY id")]
        assert statuses == [RunStatus.INTERRUPTED, RunStatus.SUCCEEDED]
        assert db.execute("SELECT COUNT(*) FROM backups_checkpointitem").fetchone() == (60,)


def test_seed_demo_clear_also_clears_mirrored_items(cbr):
    from backups.models import CheckpointItem, Sighting

    source("cbr", kind="cbr", endpoint=cbr.url, project_id=PROJECT)
    assert command("sync_backups", "--quiet")[0] == 0 and Sighting.objects.count() == 60
    code, output = command("seed_demo", "--clear", "--items", "5", "--projects", "1", "--no-users")
    assert code == 0, output
    assert CheckpointItem.objects.count() == 5 and not Sighting.objects.exists()
