"""Database outage: PostgreSQL stops under a running gunicorn; the API answers 503 fast, the pages a friendly
page, and the app recovers by itself when PostgreSQL is back.

The test owns everything it breaks: a throwaway PostgreSQL cluster (``backups.testing.pgcluster``:
temp dir, 127.0.0.1, a free port) and one gunicorn worker on loopback, so that the request after
the restart is served by the very process whose connection broke. ``DEBUG`` is on in that app on purpose: an exception that
escaped to Django would show its technical page with a stack trace, which the test would see.
"""

import os
import subprocess
import sys
import tempfile
import time

import pytest
import requests

from backups.testing import pgcluster
from tests.conftest import REPO_DIR, SAMPLE_RESPONSE_PATH

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

PROJECT = "outage"
PASSWORD = "outage-Passw0rd-long-enough"
SEED = f"""
import json
from django.contrib.auth import get_user_model
from backups.models import ApiToken, ProjectMembership
from backups.document.parse import parse_item
from backups.services.upsert import upsert_items
items = json.load(open({str(SAMPLE_RESPONSE_PATH)!r}))["checkpoint_items"]
upsert_items({PROJECT!r}, [parse_item(item) for item in items])
user = get_user_model().objects.create_superuser("operator", password={PASSWORD!r})
ProjectMembership.objects.create(user=user, project_id={PROJECT!r})
print(ApiToken.issue(user=user, project_id={PROJECT!r})[1])
"""


@pytest.fixture
def postgres():
    if pgcluster.bin_dir() is None:
        pytest.skip("no PostgreSQL binaries under /usr/lib/postgresql")
    with pgcluster.start(prefix="outage-pg-") as cluster:
        yield cluster


@pytest.fixture
def app(postgres):
    """gunicorn with one worker on the cluster, migrated and seeded; yields (base URL, token)."""
    env = {
        **os.environ,
        "DATABASE_URL": postgres.url,
        "DEBUG": "1",
        "DB_CONNECT_TIMEOUT": "2",
        "GUNICORN_BIND": f"127.0.0.1:{pgcluster.free_port()}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_ACCESS_LOG": os.devnull,
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=REPO_DIR, env=env, check=True, capture_output=True)
    seeded = subprocess.run(
        [*manage, "shell", "-c", SEED], cwd=REPO_DIR, env=env, check=True, capture_output=True, text=True
    )
    token = seeded.stdout.strip().splitlines()[-1]
    log = tempfile.TemporaryFile()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "project.wsgi"],
        cwd=REPO_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://{env['GUNICORN_BIND']}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/v1/openapi.json", timeout=5)
                break
            except requests.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"gunicorn did not start:\n{log.read().decode(errors='replace')[-3000:]}")
                time.sleep(0.2)
        yield base, token
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def logged_in_session(base):
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=10)
    response = session.post(
        f"{base}/accounts/login/",
        data={
            "username": "operator",
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=10,
    )
    assert response.status_code == 200 and "sessionid" in session.cookies, response.text[:500]
    return session


def test_outage_is_503_within_two_seconds_and_recovers_without_a_restart(app, postgres):
    base, token = app
    api = requests.Session()
    api.headers["X-Auth-Token"] = token
    items_url = f"{base}/v1/{PROJECT}/checkpoint_items"
    page = logged_in_session(base)

    assert api.get(items_url, timeout=10).status_code == 200
    assert page.get(f"{base}/", timeout=10).status_code == 200

    postgres.stop()

    started = time.monotonic()
    response = api.get(items_url, timeout=10)
    elapsed = time.monotonic() - started
    print(f"\noutage: the API answered {response.status_code} in {elapsed * 1000:.0f} ms")
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {
        "error_code": "CSBS.9503",
        "error_msg": "The service is temporarily unavailable (database unreachable); retry later",
    }
    assert elapsed < 2

    count = api.get(f"{base}/v1/{PROJECT}/checkpoint_items/count", timeout=10)
    assert (count.status_code, count.json()["error_code"]) == (503, "CSBS.9503")

    started = time.monotonic()
    html = page.get(f"{base}/", timeout=10)
    print(
        f"outage: the list page answered {html.status_code} in {(time.monotonic() - started) * 1000:.0f} ms"
    )
    assert html.status_code == 503
    assert html.headers["Content-Type"].startswith("text/html")
    assert "temporarily unavailable" in html.text
    assert html.headers["X-Request-Id"] in html.text  # the reference it tells the user to quote
    for leak in ("Traceback", "OperationalError", "psycopg2", "connection refused", "127.0.0.1"):
        assert leak not in html.text

    postgres.start()

    recovered = api.get(items_url, timeout=10)
    assert recovered.status_code == 200, recovered.text
    assert [item["id"] for item in recovered.json()["checkpoint_items"]] == [
        "90c1d5fa-1b9f-4aeb-b2f4-81c806e98190"
    ]
    assert page.get(f"{base}/", timeout=10).status_code == 200
