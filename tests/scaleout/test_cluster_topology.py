"""``scripts/cluster``'s topology end to end: nginx → two gunicorn → PgBouncer → primary + replica.

One topology for the module, in a temporary state folder (not the developer's ``var/cluster``),
with a small demo seed. It checks what a user and an operator see through nginx, what the pieces
do when a database freezes behind PgBouncer, and that ``down`` leaves no process behind.
"""

import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
import requests

from backups.testing.pgcluster import bin_dir
from cluster.processes import alive
from cluster.topology import APP_SERVERS, Topology

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

BOUND = 3 + 1 + 2 + 1  # DB_QUERY_TIMEOUT + client grace + DB_CONNECT_TIMEOUT + slack, in seconds


def make_base_dir(prefix):
    """A temp folder that the ``postgres`` and ``nobody`` users (PgBouncer, nginx's workers) may traverse."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o711)
    return folder


def _require(program):
    if shutil.which(program) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{program} is not installed: CI must install it (.ci/run)")
        pytest.skip(f"{program} is not installed")


@pytest.fixture(scope="module")
def topology():
    for program in ("pgbouncer", "nginx"):
        _require(program)
    if bin_dir() is None:
        _require("initdb")
    base = make_base_dir("cluster-test-")  # the postgres and nobody users must traverse it
    topology = Topology(state_dir=base / "state")
    topology.up(items=200, log=lambda *_: None)
    try:
        yield topology
    finally:
        topology.down(log=lambda *_: None)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def api(topology):
    session = requests.Session()
    session.headers["X-Auth-Token"] = topology.state["token"]
    yield lambda path="", **kw: session.get(
        f"{topology.base_url}/v1/{topology.state['project']}/checkpoint_items{path}", timeout=30, **kw)


def test_the_api_answers_through_nginx_with_reads_on_the_replica(topology, api):
    response = api("?limit=3")
    assert response.status_code == 200
    assert len(response.json()["checkpoint_items"]) == 3
    ready = requests.get(f"{topology.base_url}/readyz", timeout=10).json()
    assert (ready["status"], ready["primary"], ready["reads_on"]) == ("ready", "ok", "replica")
    assert requests.get(f"{topology.base_url}/healthz", timeout=10).json() == {"status": "ok"}


def test_a_support_user_logs_in_and_browses_through_nginx(topology):
    session = requests.Session()
    session.get(f"{topology.base_url}/accounts/login/", timeout=10)
    response = session.post(f"{topology.base_url}/accounts/login/", timeout=10, data={
        "username": "support", "password": "support", "csrfmiddlewaretoken": session.cookies["csrftoken"]})
    assert response.status_code == 200 and "sessionid" in session.cookies
    page = session.get(f"{topology.base_url}/?project={topology.state['project']}", timeout=10)
    assert page.status_code == 200 and "checkpoint" in page.text.lower()
    static = session.get(f"{topology.base_url}/static/backups/browse.css", timeout=10)
    assert static.status_code == 200  # collected, served by WhiteNoise with DEBUG=0


def test_metrics_are_refused_through_nginx_and_need_the_token_on_an_app_server(topology, api):
    api()
    assert requests.get(f"{topology.base_url}/metrics", timeout=10).status_code == 404
    app = topology.app_url("app1")
    assert requests.get(f"{app}/metrics", timeout=10).status_code == 403
    scraped = requests.get(f"{app}/metrics", timeout=10,
                           headers={"Authorization": f"Bearer {topology.state['metrics_token']}"})
    assert scraped.status_code == 200
    assert 'backups_db_queries_total{database="replica"}' in scraped.text
    assert "backups_http_request_duration_seconds_bucket" in scraped.text


def test_a_killed_app_server_costs_no_failed_request(topology, api):
    topology.stop_process("app1", signal.SIGKILL)
    try:
        assert [api("?limit=1").status_code for _ in range(20)] == [200] * 20
    finally:
        topology.start_app("app1")


def test_reads_survive_a_frozen_primary_and_readyz_says_it_in_bounded_time(topology, api):
    assert api("?limit=1").status_code == 200
    with topology.primary().frozen():
        assert api("?limit=1").status_code == 200  # served by the replica
        started = time.monotonic()
        ready = requests.get(f"{topology.base_url}/readyz", timeout=30)
        elapsed = time.monotonic() - started
        assert ready.status_code == 503 and ready.json()["primary"].startswith("unreachable")
        assert elapsed < BOUND, elapsed


def test_a_frozen_replica_behind_pgbouncer_costs_a_bounded_wait_and_no_error(topology, api):
    assert api("?limit=1").status_code == 200
    with topology.replica().frozen():
        started = time.monotonic()
        statuses = [api("?limit=1").status_code for _ in range(4)]
        elapsed = time.monotonic() - started
    assert statuses == [200] * 4
    assert elapsed < 2 * BOUND, elapsed  # at most one wait per app server, then reads on the primary


@pytest.fixture
def base_dir():
    base = make_base_dir("cluster-test-")
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_down_stops_every_process_and_removes_the_folder(base_dir):
    _require("pgbouncer")
    _require("nginx")
    tmp_path = base_dir
    topology = Topology(state_dir=tmp_path / "state")
    topology.up(items=50, log=lambda *_: None)
    pids = dict(topology.pids)
    postmasters = [topology.primary().pid, topology.replica().pid]
    assert set(pids) == {"pgbouncer", "nginx", *APP_SERVERS} and all(postmasters)
    topology.down(log=lambda *_: None)
    assert not (tmp_path / "state").exists()
    assert [pid for pid in [*pids.values(), *postmasters] if alive(pid)] == []  # (a zombie is not alive)
    leftovers = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(tmp_path).encode() in (entry / "cmdline").read_bytes() and alive(int(entry.name)):
                    leftovers.append(entry.name)
            except OSError:
                pass
    assert leftovers == []
