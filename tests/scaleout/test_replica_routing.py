"""The database router on a real primary + streaming replica pair (``backups.db.router``).

Which server answered is told by the data: replay is paused on the replica, the item is renamed on
the primary with SQL, and a read that shows the new name came from the primary. The app is gunicorn
(the WSGI entry point, so the web process's bounded waits are on) with a short lag bound and check
interval so that the fallbacks show within seconds. The pair is started by the fixture, not taken
from the suite's database, so this runs alike in both passes; it runs once, in the PostgreSQL pass.
"""

import os
import subprocess
import sys
import time

import pytest
import requests

from tests.conftest import REPO_DIR
from tests.scaleout.live_cluster import DATABASE, PROJECT, App, Pair, form_fields, login

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

ITEM = "90c1d5fa-1b9f-4aeb-b2f4-81c806e98190"
ORIGINAL_NAME = "backup_d32c"
MAX_LAG = 4
QUERY_TIMEOUT = 1
CONNECT_TIMEOUT = 1


@pytest.fixture(scope="module")
def pair():
    pair = Pair()
    try:
        yield pair
    finally:
        pair.remove()


@pytest.fixture(scope="module")
def app(pair):
    app = App({
        "DATABASE_URL": pair.primary.url_for(DATABASE),
        "REPLICA_DATABASE_URL": pair.replica.url_for(DATABASE),
        "REPLICA_MAX_LAG": str(MAX_LAG),
        "REPLICA_CHECK_INTERVAL": "0.2",
        "DB_QUERY_TIMEOUT": str(QUERY_TIMEOUT),
        "DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
    })
    try:
        app.wait_for_reads_on("replica")
        yield app
    finally:
        app.stop()


@pytest.fixture
def api(app, pair):
    session = requests.Session()
    session.headers["X-Auth-Token"] = pair.token
    yield lambda path="": session.get(f"{app.base}/v1/{PROJECT}/checkpoint_items/{ITEM}{path}", timeout=15)


@pytest.fixture(autouse=True)
def _restored(request, pair):
    """Each test leaves the pair streaming, replaying and caught up, with the item's first name."""
    yield
    if "pair" in request.fixturenames:
        pair.primary.thaw()
        pair.replica.thaw()
        if pair.replica.pid is None:
            pair.replica.start()
        if pair.replica.sql("SELECT pg_is_wal_replay_paused()") == "t":
            pair.replica.sql("SELECT pg_wal_replay_resume()")
        pair.rename_on_primary(ITEM, ORIGINAL_NAME)
        pair.caught_up()


def name_in(response):
    assert response.status_code == 200, response.text[:300]
    return response.json()["checkpoint_item"]["name"]


def test_api_reads_are_served_by_the_replica(app, pair, api):
    pair.fresh_then_paused()
    pair.rename_on_primary(ITEM, "renamed-on-primary")

    assert name_in(api()) == ORIGINAL_NAME  # the replica has not replayed the rename

    pair.resume()
    assert name_in(api()) == "renamed-on-primary"


def test_list_pages_run_their_compiled_statement_on_the_replica(app, pair):
    """A page's SQL is compiled on a worker's first request of its shape and reused after: both on the replica."""
    session = requests.Session()
    session.headers["X-Auth-Token"] = pair.token

    def names(**params):
        response = session.get(f"{app.base}/v1/{PROJECT}/checkpoint_items", params=params, timeout=15)
        assert response.status_code == 200, response.text[:300]
        return {item["id"]: item["name"] for item in response.json()["checkpoint_items"]}

    pair.fresh_then_paused()
    pair.rename_on_primary(ITEM, "renamed-on-primary")
    for limit in (10, 9, 8, 7):  # one shape: compiled, then reused, in each worker
        assert names(limit=limit, resource_type="OS::Nova::Server")[ITEM] == ORIGINAL_NAME

    pair.resume()
    assert names(limit=6, resource_type="OS::Nova::Server")[ITEM] == "renamed-on-primary"


def test_a_replica_lagging_beyond_the_bound_sends_reads_to_the_primary(app, pair, api):
    pair.fresh_then_paused()
    pair.rename_on_primary(ITEM, "renamed-while-lagging")
    assert name_in(api()) == ORIGINAL_NAME

    body = app.wait_for_reads_on("primary", timeout=MAX_LAG + 5)
    assert body["replica"]["reason"].startswith("lag ") and body["replica"]["lag_seconds"] > MAX_LAG
    assert body["status"] == "ready"  # reads fall back: the process stays in rotation
    assert name_in(api()) == "renamed-while-lagging"

    pair.resume()
    app.wait_for_reads_on("replica")


def test_the_admin_reads_its_own_save_and_the_client_stays_on_the_primary_for_a_while(app, pair):
    admin = login(app.base)
    change_url = f"{app.base}/admin/backups/checkpointitem/{ITEM}/change/"
    fields = form_fields(admin.get(change_url, timeout=10).text)
    assert ["name", ORIGINAL_NAME] in fields
    pair.fresh_then_paused()

    data = [[name, "saved-in-the-admin" if name == "name" else value] for name, value in fields]
    saved = admin.post(change_url, data=data + [["_continue", "Save"]], timeout=10, allow_redirects=False)
    assert saved.status_code == 302, saved.text[:2000]
    assert "csbs_primary_until" in saved.cookies

    # The redirect target, read right after the save while the replica still has the old name:
    page = admin.get(change_url, timeout=10).text
    assert "saved-in-the-admin" in page
    assert name_in(admin.get(f"{app.base}/v1/{PROJECT}/checkpoint_items/{ITEM}", timeout=10)) == "saved-in-the-admin"

    # The same session without the pin reads the replica, which has not replayed the save.
    admin.cookies.set("csbs_primary_until", None)
    assert name_in(admin.get(f"{app.base}/v1/{PROJECT}/checkpoint_items/{ITEM}", timeout=10)) == ORIGINAL_NAME


def test_a_login_is_read_back_although_the_replica_has_not_replayed_the_session(app, pair):
    pair.fresh_then_paused()
    session = login(app.base)  # the session row exists on the primary only
    assert "csbs_primary_until" in session.cookies
    assert session.get(f"{app.base}/", timeout=10, allow_redirects=False).status_code == 200

    session.cookies.set("csbs_primary_until", None)
    assert session.get(f"{app.base}/", timeout=10, allow_redirects=False).status_code == 302  # to login


def test_a_forged_far_future_pin_is_ignored(app, pair, api):
    pair.fresh_then_paused()
    pair.rename_on_primary(ITEM, "renamed-on-primary")
    session = requests.Session()
    session.headers["X-Auth-Token"] = pair.token
    session.cookies.set("csbs_primary_until", str(int(time.time()) + 3600))
    assert name_in(session.get(f"{app.base}/v1/{PROJECT}/checkpoint_items/{ITEM}", timeout=10)) == ORIGINAL_NAME


def test_a_stopped_replica_sends_reads_to_the_primary_without_an_error(app, pair, api):
    assert name_in(api()) == ORIGINAL_NAME  # the worker's replica connection is open
    pair.replica.stop("fast")

    answers = [api() for _ in range(5)]
    assert [response.status_code for response in answers] == [200] * 5
    assert app.wait_for_reads_on("primary")["replica"]["usable"] is False

    pair.replica.start()
    app.wait_for_reads_on("replica")
    assert name_in(api()) == ORIGINAL_NAME


def test_a_frozen_replica_costs_a_bounded_wait_then_reads_go_to_the_primary(app, pair, api):
    assert name_in(api()) == ORIGINAL_NAME
    workers = app.workers()
    with pair.replica.frozen():
        started = time.monotonic()
        response = api()
        elapsed = time.monotonic() - started
        print(f"\nfrozen replica: {response.status_code} in {elapsed * 1000:.0f} ms")
        assert response.status_code == 200 and name_in(response) == ORIGINAL_NAME
        assert elapsed < QUERY_TIMEOUT + 1 + CONNECT_TIMEOUT + 2
        started = time.monotonic()
        assert api().status_code == 200
        assert time.monotonic() - started < 1  # the replica is marked down: no second wait
    assert app.workers() == workers  # no worker was killed for it
    app.wait_for_reads_on("replica")


@pytest.fixture(scope="module")
def primary_only_app(pair):
    app = App({
        "DATABASE_URL": pair.primary.url_for(DATABASE),
        "DB_QUERY_TIMEOUT": str(QUERY_TIMEOUT),
        "DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
    })
    try:
        yield app
    finally:
        app.stop()


def test_a_frozen_primary_is_a_csbs_503_within_seconds_and_the_worker_lives_on(primary_only_app, pair):
    app = primary_only_app
    api = requests.Session()
    api.headers["X-Auth-Token"] = pair.token
    url = f"{app.base}/v1/{PROJECT}/checkpoint_items/{ITEM}"
    page = login(app.base)
    assert api.get(url, timeout=10).status_code == 200  # an open connection to the primary
    workers = app.workers()

    with pair.primary.frozen():
        started = time.monotonic()
        response = api.get(url, timeout=30)
        elapsed = time.monotonic() - started
        print(f"\nfrozen primary: API {response.status_code} in {elapsed * 1000:.0f} ms")
        assert (response.status_code, response.json()["error_code"]) == (503, "CSBS.9503")
        assert elapsed < QUERY_TIMEOUT + 1 + CONNECT_TIMEOUT + 2

        started = time.monotonic()
        html = page.get(f"{app.base}/", timeout=30)
        print(f"frozen primary: page {html.status_code} in {(time.monotonic() - started) * 1000:.0f} ms")
        assert html.status_code == 503 and "temporarily unavailable" in html.text
        assert time.monotonic() - started < QUERY_TIMEOUT + 1 + CONNECT_TIMEOUT + 2

        ready = requests.get(f"{app.base}/readyz", timeout=30)
        assert ready.status_code == 503 and ready.json()["primary"].startswith("unreachable")

    assert app.workers() == workers  # the same worker answered every request, and answers now
    assert api.get(url, timeout=10).status_code == 200
    assert page.get(f"{app.base}/", timeout=10).status_code == 200


def test_a_token_issued_a_moment_ago_is_accepted_before_the_replica_replays_it(app, pair):
    pair.fresh_then_paused()
    issued = subprocess.run(
        [sys.executable, "manage.py", "create_token", "--user", "operator", "--project", PROJECT],
        cwd=REPO_DIR, env={**os.environ, "DATABASE_URL": pair.primary.url_for(DATABASE), "DEBUG": "1"},
        check=True, capture_output=True, text=True,
    )
    token = issued.stdout.strip().splitlines()[-1]
    response = requests.get(f"{app.base}/v1/{PROJECT}/checkpoint_items/{ITEM}", headers={"X-Auth-Token": token}, timeout=10)
    assert name_in(response) == ORIGINAL_NAME  # the token was found on the primary, the item read on the replica
