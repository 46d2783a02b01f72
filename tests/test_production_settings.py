"""Production settings: `check --deploy` is clean, security headers are set, secrets never reach the logs,
and failed authentication is throttled (429 ``CSBS.9429``) without costing valid requests anything.

The production checks run in fresh interpreters with the README's production environment
(``DEBUG=0``, a long random ``SECRET_KEY``, ``ALLOWED_HOSTS``, a PostgreSQL ``DATABASE_URL``), since
the settings read the environment once, at import.
"""

import base64
import json
import logging
import os
import re
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import RequestFactory, override_settings

from backups.api import throttling
from backups.document.parse import parse_item
from backups.models import ApiToken
from backups.services.upsert import upsert_items
from tests.conftest import REPO_DIR

HOST = "backups.example.org"
PRODUCTION_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "DEBUG": "0",
    "SECRET_KEY": base64.b64encode(os.urandom(48)).decode(),  # the README's: head -c 48 /dev/urandom | base64
    "ALLOWED_HOSTS": HOST,
    # Never connected to: neither the checks nor the requests below touch the database.
    "DATABASE_URL": "postgres://backups:secret@127.0.0.1:5432/backups",
}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
HSTS = "max-age=31536000; includeSubDomains"
ITEM_ID = "90c1d5fa-1b9f-4aeb-b2f4-81c806e98190"


def run_in_production(*args, env=None, timeout=300):
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_DIR,
        env={**PRODUCTION_ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# Requests through Django's test client in a production interpreter; prints status and headers.
HEADERS_PROBE = (
    """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST=%r)
result = {}
for path in json.loads(sys.argv[1]):
    https = client.get(path, HTTP_X_FORWARDED_PROTO="https")
    plain = client.get(path)
    result[path] = {"status": https.status_code, "headers": dict(https.items()),
                    "plain": [plain.status_code, plain.get("Location")]}
    if path.startswith("/v1/docs"):
        result[path]["body"] = https.content.decode()
        for asset in __import__("re").findall(r'(?:src|href)="([^"]+)"', result[path]["body"]):
            served = client.get(asset, HTTP_X_FORWARDED_PROTO="https")
            result[asset] = {"status": served.status_code, "headers": dict(served.items()), "plain": []}
print(json.dumps(result))
"""
    % HOST
)


def production_responses(paths, env=None):
    probe = run_in_production("-c", HEADERS_PROBE, json.dumps(paths), env=env)
    assert probe.returncode == 0, probe.stderr[-3000:]
    return json.loads(probe.stdout.splitlines()[-1])


# --- check --deploy -------------------------------------------------------------------------------


@pytest.mark.parametrize("preload", ["0", "1"])
def test_check_deploy_reports_nothing(preload):
    result = run_in_production(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING", env={"SECURE_HSTS_PRELOAD": preload}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    silenced = "1" if preload == "0" else "0"  # only the preload reminder, and only without preload
    assert result.stdout.strip() == f"System check identified no issues ({silenced} silenced).", result.stderr


# --- security headers -----------------------------------------------------------------------------


def test_production_responses_carry_the_security_headers_and_hsts():
    paths = ["/v1/openapi.json", "/v1/p1/checkpoint_items", "/v1/no/such/path", "/admin/no/such/page/"]
    responses = production_responses(paths)
    assert {path: responses[path]["status"] for path in paths} == {
        "/v1/openapi.json": 200,
        "/v1/p1/checkpoint_items": 401,
        "/v1/no/such/path": 404,
        "/admin/no/such/page/": 302,  # to the admin's login
    }
    for path in paths:
        headers = responses[path]["headers"]
        assert {name: headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS, path
        assert headers["Strict-Transport-Security"] == HSTS, path
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin", path
        assert responses[path]["plain"] == [301, f"https://{HOST}{path}"], path  # plain HTTP goes to HTTPS


@pytest.mark.slow
def test_production_docs_page_serves_its_assets_after_collectstatic(tmp_path):
    env = {"STATIC_ROOT": str(tmp_path / "static")}
    collected = run_in_production("manage.py", "collectstatic", "--noinput", "-v", "0", env=env)
    assert collected.returncode == 0, collected.stderr[-3000:]
    responses = production_responses(["/v1/docs/", "/accounts/login/"], env=env)
    assert responses.pop("/accounts/login/")["status"] == 200  # a page with static files of its own
    page = responses.pop("/v1/docs/")
    assert page["status"] == 200
    assert page["headers"]["Strict-Transport-Security"] == HSTS
    assert not re.search(r"https?://", page["body"])
    assert len(responses) == 4, responses.keys()  # favicon, CSS and two scripts, hashed names
    for asset, served in responses.items():
        assert asset.startswith("/static/drf_spectacular_sidecar/swagger-ui-dist/"), asset
        assert served["status"] == 200, asset


def test_development_responses_carry_the_security_headers_without_hsts(db, client):
    for path, status in [
        ("/v1/openapi.json", 200),
        ("/v1/docs/", 200),
        ("/v1/p1/checkpoint_items", 401),
        ("/v1/nope", 404),
    ]:
        response = client.get(path)
        assert response.status_code == status
        assert {name: response.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS, path
        assert "Strict-Transport-Security" not in response, path


# --- secrets never logged --------------------------------------------------------------------------


class Recorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines = []

    def emit(self, record):
        text = self.format(record)
        extras = " ".join(
            repr(v)
            for k, v in vars(record).items()
            if k not in logging.LogRecord("", 0, "", 0, "", (), None).__dict__
        )
        self.lines.append(f"{text} {extras}")


@pytest.fixture
def every_log_line():
    """Every record of every logger, at DEBUG, SQL included (``django.db.backends`` logs each query)."""
    recorder = Recorder()
    loggers = [logging.getLogger()] + [
        logging.getLogger(name)
        for name in list(logging.root.manager.loggerDict)
        if isinstance(logging.root.manager.loggerDict[name], logging.Logger)
    ]
    saved = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.addHandler(recorder)
        logger.setLevel(logging.DEBUG)
    connection.force_debug_cursor = True
    try:
        yield recorder.lines
    finally:
        connection.force_debug_cursor = False
        for logger, level in saved:
            logger.removeHandler(recorder)
            logger.setLevel(level)


@override_settings(AUTH_FAILURE_LIMIT=2)
def test_tokens_and_passwords_never_reach_the_logs(db, client, django_user_model, every_log_line):
    cache.clear()
    password = "Correct-Horse-Battery-Staple-42"
    wrong_password = "Wrong-Password-Guess-17"
    wrong_token = "wrong-token-Zq9x7Lm3Pv5"
    user = django_user_model.objects.create_user("alice", password=password, is_staff=True)
    _, token = ApiToken.issue(user=user, project_id="p1")

    statuses = [
        client.get("/v1/p1/checkpoint_items", HTTP_X_AUTH_TOKEN=wrong_token).status_code for _ in range(3)
    ]
    statuses.append(client.get("/v1/p1/checkpoint_items", HTTP_X_AUTH_TOKEN=token).status_code)
    for attempt in (wrong_password, password):
        statuses.append(
            client.post("/accounts/login/", {"username": "alice", "password": attempt}).status_code
        )
        statuses.append(client.post("/admin/login/", {"username": "alice", "password": attempt}).status_code)

    assert statuses == [401, 401, 429, 200, 200, 200, 302, 302]  # the failed logins re-show their forms
    assert any("backups_apitoken" in line for line in every_log_line)  # SQL was logged, so this looked
    assert any("throttled" in line for line in every_log_line)
    for secret in (token, wrong_token, password, wrong_password):
        leaks = [line for line in every_log_line if secret in line]
        assert not leaks, leaks[:3]


# --- failed-authentication throttling ---------------------------------------------------------------


@pytest.fixture
def reader(db, client, sample_response, django_user_model):
    upsert_items("p1", [parse_item(item) for item in sample_response["checkpoint_items"]])
    _, token = ApiToken.issue(user=django_user_model.objects.create(username="reader"), project_id="p1")
    cache.clear()
    return token


def fail(client, **environ):
    return client.get("/v1/p1/checkpoint_items", HTTP_X_AUTH_TOKEN="not-a-token", **environ)


@override_settings(AUTH_FAILURE_LIMIT=3, AUTH_FAILURE_WINDOW=60)
def test_failed_authentication_is_throttled_past_the_limit(client, reader):
    assert [fail(client).status_code for _ in range(3)] == [401, 401, 401]
    response = fail(client)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    wait = int(response["Retry-After"])
    assert 1 <= wait <= 60
    assert response.json() == {
        "error_code": "CSBS.9429",
        "error_msg": "Too many failed authentication attempts from this client address. "
        f"Expected available in {wait} second{'s' if wait != 1 else ''}.",
    }


@override_settings(AUTH_FAILURE_LIMIT=3)
def test_throttle_counts_per_client_address(client, reader):
    for _ in range(4):
        fail(client)
    assert fail(client).status_code == 429
    assert fail(client, REMOTE_ADDR="192.0.2.7").status_code == 401


@override_settings(AUTH_FAILURE_LIMIT=3)
def test_a_forged_forwarded_for_does_not_escape_the_throttle(client, reader):
    statuses = [fail(client, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(5)]
    assert statuses == [401, 401, 401, 429, 429]


@override_settings(AUTH_FAILURE_LIMIT=3)
def test_a_valid_token_is_not_locked_out_with_its_neighbours(client, reader):
    for _ in range(5):
        fail(client)
    assert fail(client).status_code == 429
    assert client.get("/v1/p1/checkpoint_items", HTTP_X_AUTH_TOKEN=reader).status_code == 200


@override_settings(AUTH_FAILURE_LIMIT=2, AUTH_FAILURE_WINDOW=60)
def test_the_lock_out_ends_with_its_window(db):
    cache.clear()
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9")
    throttling.record_failed_authentication(request, now=1000.0)
    throttling.record_failed_authentication(request, now=1001.0)
    with pytest.raises(throttling.AuthenticationThrottled) as raised:
        throttling.record_failed_authentication(request, now=1010.2)
    assert raised.value.wait == 10  # the window is [960, 1020)
    throttling.record_failed_authentication(request, now=1020.0)  # a new window: counting again


class NoCache:
    def __getattr__(self, name):
        raise AssertionError(f"a valid request used the cache ({name})")


def test_valid_requests_never_touch_the_throttle_and_stay_at_three_queries(
    client, reader, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(throttling, "cache", NoCache())
    with django_assert_max_num_queries(3):  # token, marker, page
        response = client.get(f"/v1/p1/checkpoint_items?marker={ITEM_ID}&limit=10", HTTP_X_AUTH_TOKEN=reader)
    assert response.status_code == 200
    assert response.json() == {"checkpoint_items": []}
