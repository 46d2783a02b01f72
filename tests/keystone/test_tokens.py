"""Keystone (IAM) tokens beside the local ones, against a real Keystone-shaped server on loopback.

``tests.upstreams.keystone`` serves keystoneauth1's own token fixtures; these tests drive the API
with Django's test client and count on the server's side what the service asked Keystone.
"""
import copy
import json
import pickle
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from backups.document.parse import parse_item
from backups.keystone import validation
from backups.models import ApiToken, CheckpointItem
from backups.services.upsert import upsert_items
from tests.api.helpers import token_client
from tests.conftest import SAMPLE_RESPONSE_PATH
from tests.upstreams.keystone import KeystoneServer

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

OWN, OTHER = "ks-own-project", "ks-other-project"
OTHER_ITEM = "item-of-the-other-project"
SERVICE_USER, SERVICE_PASSWORD = "backups-service", "service-Passw0rd"
VALIDATE, LOGIN = "GET /v3/auth/tokens", "POST /v3/auth/tokens"
MINUTE = timedelta(minutes=1)

BAD_TOKEN = {"error_code": "CSBS.9401", "error_msg": "Authentication failed: the token is invalid or expired"}
NOT_SCOPED = {
    "error_code": "CSBS.9401",
    "error_msg": "Authentication failed: the token is not scoped to a project; "
    "ask Keystone for a project-scoped token (auth.scope.project)",
}
UNAVAILABLE = {
    "error_code": "CSBS.9503",
    "error_msg": "The service is temporarily unavailable (Keystone cannot validate the token now); retry later",
}
ALL_TENANTS_FORBIDDEN = {
    "error_code": "CSBS.9403",
    "error_msg": "No permission: all_tenants=true is allowed for admins only",
}


def forbidden(project_id):
    return {"error_code": "CSBS.9403", "error_msg": f"No permission to read project {project_id}"}


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def keystone():
    """A running test Keystone with the service's own user (role ``service``)."""
    with KeystoneServer() as server:
        server.add_user(SERVICE_USER, SERVICE_PASSWORD, roles={"service": ["service"]})
        server.add_project(OWN)
        server.add_project(OTHER)
        yield server


@pytest.fixture
def configured(settings, keystone):
    """The service's settings pointed at ``keystone``; returns the settings to adjust further."""
    settings.KEYSTONE_AUTH_URL = keystone.url
    settings.KEYSTONE_USERNAME = SERVICE_USER
    settings.KEYSTONE_PASSWORD = SERVICE_PASSWORD
    settings.KEYSTONE_PROJECT_NAME = "service"
    settings.KEYSTONE_USER_DOMAIN_NAME = settings.KEYSTONE_PROJECT_DOMAIN_NAME = "Default"
    settings.KEYSTONE_ADMIN_ROLES = ["admin"]
    settings.KEYSTONE_CACHE_TTL = 300
    settings.KEYSTONE_TIMEOUT = 2.0
    return settings


@pytest.fixture
def items():
    """The seed's sample in OWN, a copy in OTHER; returns their documents by project."""
    sample = json.loads(SAMPLE_RESPONSE_PATH.read_text(encoding="utf-8"))["checkpoint_items"][0]
    other = copy.deepcopy(sample) | {"id": OTHER_ITEM, "name": "other project's backup"}
    upsert_items(OWN, [parse_item(sample)])
    upsert_items(OTHER, [parse_item(other)])
    return {p: json.loads(CheckpointItem.objects.get(project_id=p).document) for p in (OWN, OTHER)}


def token_of(keystone, roles=("member",), project_id=OWN, **kwargs):
    """A token of a new user holding ``roles`` on ``project_id``, as Keystone's login gives it."""
    user = keystone.add_user(f"user-{len(keystone.users)}", "pw", roles={project_id: list(roles)})
    return keystone.issue(user, project_id=project_id, **kwargs)


def get(client, token, path="checkpoint_items", project_id=OWN, **params):
    return client.get(f"/v1/{project_id}/{path}", params, HTTP_X_AUTH_TOKEN=token)


def answer(response):
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response.status_code, json.loads(response.content)


# --- unset: exactly as before ----------------------------------------------------------------------


def test_without_keystone_settings_a_keystone_token_is_refused_and_keystone_never_asked(client, keystone, items):
    token = token_of(keystone)

    assert answer(get(client, token)) == (401, BAD_TOKEN)
    assert keystone.calls == {}


def test_local_tokens_are_never_sent_to_keystone(client, configured, keystone, items, settings):
    local = token_client(OWN)
    _, expired_key = ApiToken.issue(user=get_user_model().objects.create(username="old"), project_id=OWN)
    ApiToken.objects.filter(key_hash=ApiToken.hash(expired_key)).update(expires_at="2000-01-01T00:00:00Z")

    assert answer(local.get(f"/v1/{OWN}/checkpoint_items")) == (200, {"checkpoint_items": [items[OWN]]})
    assert answer(get(client, expired_key)) == (401, BAD_TOKEN)
    assert keystone.calls == {}


# --- tenancy: the project scope and the admin roles ---------------------------------------------------


def test_project_scoped_token_reads_its_project_as_a_local_token_does(client, configured, keystone, items):
    token, local = token_of(keystone), token_client(OWN)

    for path in ("checkpoint_items", "checkpoint_items/count", f"checkpoint_items/{items[OWN]['id']}"):
        assert answer(get(client, token, path)) == answer(local.get(f"/v1/{OWN}/{path}")), path
    assert answer(get(client, token)) == (200, {"checkpoint_items": [items[OWN]]})


def test_project_scoped_token_may_not_read_another_project(client, configured, keystone, items):
    token = token_of(keystone)

    assert answer(get(client, token, project_id=OTHER)) == (403, forbidden(OTHER))
    assert answer(get(client, token, f"checkpoint_items/{OTHER_ITEM}", project_id=OTHER)) == (403, forbidden(OTHER))
    assert answer(token_client(OWN).get(f"/v1/{OTHER}/checkpoint_items")) == (403, forbidden(OTHER))  # the same body


@pytest.mark.parametrize(
    "admin_roles, roles, is_admin",
    [
        (["admin"], ["admin"], True),
        (["admin"], ["member", "admin"], True),
        (["admin"], ["member"], False),
        (["admin"], [], False),  # no role at all: still its own project, as a member
        (["admin"], ["Admin"], False),  # names match exactly
        (["backup_admin", "te_admin"], ["te_admin"], True),
        (["backup_admin"], ["admin"], False),
    ],
)
def test_admin_roles_decide_all_tenants_and_other_projects(client, configured, keystone, items, admin_roles, roles, is_admin):
    configured.KEYSTONE_ADMIN_ROLES = admin_roles
    token = token_of(keystone, roles=roles)
    everything = {"checkpoint_items": [items[OTHER], items[OWN]]}  # created_at desc, then id desc

    assert answer(get(client, token)) == (200, {"checkpoint_items": [items[OWN]]})
    assert answer(get(client, token, all_tenants="true")) == ((200, everything) if is_admin else (403, ALL_TENANTS_FORBIDDEN))
    assert answer(get(client, token, project_id=OTHER))[0] == (200 if is_admin else 403)


def test_a_keystone_user_is_no_django_user_and_nothing_is_written(client, configured, keystone, items, django_assert_num_queries):
    token = token_of(keystone)
    users, tokens = get_user_model().objects.count(), ApiToken.objects.count()
    assert get(client, token).status_code == 200  # validated and cached

    with django_assert_num_queries(2):  # the local token's lookup (a miss), the page
        assert get(client, token).status_code == 200
    assert (get_user_model().objects.count(), ApiToken.objects.count()) == (users, tokens)


# --- rejected tokens: 401, counted by the throttle ----------------------------------------------------


def never_issued(keystone):
    return "gAAAAAB-never-issued-by-this-keystone"


def revoked(keystone):
    token = token_of(keystone)
    keystone.revoke(token)
    return token


def expired(keystone):
    return token_of(keystone, expires_at=keystone.now() - MINUTE)


def expired_by_our_clock_only(keystone):
    """Keystone's clock is two minutes behind ours: it still says 200 for a token we see expired."""
    keystone.clock_offset = -2 * MINUTE
    return token_of(keystone, expires_at=keystone.now() + MINUTE)


def unscoped(keystone):
    return keystone.issue(keystone.add_user("unscoped", "pw"))


def domain_scoped(keystone):
    return keystone.issue(keystone.add_user("domain-admin", "pw"), domain={"id": "default", "name": "Default"})


@pytest.mark.parametrize(
    "make_token, body, keystone_answer",
    [
        (never_issued, BAD_TOKEN, 404),
        (revoked, BAD_TOKEN, 404),
        (expired, BAD_TOKEN, 404),
        (expired_by_our_clock_only, BAD_TOKEN, 200),
        (unscoped, NOT_SCOPED, 200),
        (domain_scoped, NOT_SCOPED, 200),  # even with the admin role on its domain
    ],
)
def test_rejected_tokens_are_401(client, configured, keystone, items, make_token, body, keystone_answer):
    token = make_token(keystone)
    assert (keystone.body_of(token) is None) == (keystone_answer == 404)  # what Keystone will say

    assert answer(get(client, token)) == (401, body)
    assert answer(get(client, token, "checkpoint_items/count")) == (401, body)
    assert keystone.calls[VALIDATE] == 1  # the rejection is cached too


# --- the cache ----------------------------------------------------------------------------------------


def test_a_page_of_requests_costs_one_validation(client, configured, keystone, items):
    token = token_of(keystone)

    statuses = [get(client, token, limit=1).status_code for _ in range(8)]
    statuses += [get(client, token, "checkpoint_items/count").status_code]
    statuses += [get(client, token, f"checkpoint_items/{items[OWN]['id']}").status_code]
    assert statuses == [200] * 10
    assert (keystone.calls[LOGIN], keystone.calls[VALIDATE]) == (1, 1)

    assert get(client, token_of(keystone)).status_code == 200  # another token: its own validation
    assert (keystone.calls[LOGIN], keystone.calls[VALIDATE]) == (1, 2)


def test_a_validation_is_never_reused_past_the_token_expiry(client, configured, keystone, items):
    expires_at = keystone.now() + timedelta(seconds=3)  # cached for 1 or 2 s: whole seconds, rounded down
    token = token_of(keystone, expires_at=expires_at)

    assert [get(client, token).status_code for _ in range(3)] == [200, 200, 200]
    assert keystone.calls[VALIDATE] == 1
    time.sleep(max(0, (expires_at - keystone.now()).total_seconds()) + 0.05)
    assert answer(get(client, token)) == (401, BAD_TOKEN)
    assert keystone.calls[VALIDATE] == 2


def test_a_revocation_is_seen_within_the_cache_ttl(client, configured, keystone, items):
    configured.KEYSTONE_CACHE_TTL = 2
    token = token_of(keystone)
    assert get(client, token).status_code == 200
    keystone.revoke(token)

    assert get(client, token).status_code == 200  # still the cached validation
    time.sleep(2.05)
    assert answer(get(client, token)) == (401, BAD_TOKEN)
    assert keystone.calls[VALIDATE] == 2


def test_the_token_is_in_no_cache_key_value_or_log_line(client, configured, keystone, items, caplog):
    caplog.set_level("DEBUG")
    caplog.set_level("DEBUG", logger="keystoneauth")
    good, bad = token_of(keystone), revoked(keystone)
    assert [get(client, token).status_code for token in (good, bad, good, bad)] == [200, 401, 200, 401]
    keystone.stop()
    assert get(client, token_of(keystone)).status_code == 503

    stored = {key: pickle.dumps(value) for key, value in cache._cache.items()}  # LocMemCache's own dict
    assert any(key.endswith(validation.cache_key(good)) for key in stored)
    for token in (good, bad):
        assert not [key for key, value in stored.items() if token in key or token.encode() in value]
        assert not [r.getMessage() for r in caplog.records if token in r.getMessage()]
    assert any(r.name.startswith("keystoneauth") for r in caplog.records)  # its debug log was on


# --- Keystone unavailable: 503 promptly, local tokens unaffected ---------------------------------------


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_keystone_down_is_503_promptly_and_local_tokens_still_work(client, configured, keystone, items):
    token, local = token_of(keystone), token_client(OWN)
    keystone.stop()  # the port is closed: connections refused

    response, seconds = timed(lambda: get(client, token))
    assert answer(response) == (503, UNAVAILABLE)
    assert seconds < 1
    response, seconds = timed(lambda: local.get(f"/v1/{OWN}/checkpoint_items"))
    assert answer(response) == (200, {"checkpoint_items": [items[OWN]]})
    assert seconds < 1


@pytest.mark.parametrize("logged_in", [False, True], ids=["hung-at-the-service-login", "hung-at-validation"])
def test_a_hung_keystone_is_503_within_the_timeout(client, configured, keystone, items, logged_in):
    configured.KEYSTONE_TIMEOUT = 0.5
    if logged_in:
        assert get(client, token_of(keystone)).status_code == 200
    token = token_of(keystone)
    keystone.stall()

    response, seconds = timed(lambda: get(client, token))
    assert answer(response) == (503, UNAVAILABLE)
    assert 0.5 <= seconds < 1.9  # one call timed out; at most two calls: within twice the timeout
    keystone.resume()
    assert get(client, token).status_code == 200  # a 503 is not cached


def test_keystone_unavailable_is_not_counted_as_a_failed_authentication(client, configured, keystone, items):
    configured.AUTH_FAILURE_LIMIT = 2
    token = token_of(keystone)
    keystone.stop()

    assert [get(client, token).status_code for _ in range(5)] == [503] * 5


@pytest.mark.parametrize(
    "password, service_roles, logged",
    [
        ("wrong password", ["service"], f"the service could not log in to Keystone as '{SERVICE_USER}': "),
        (SERVICE_PASSWORD, ["member"], "Keystone answered 403 to a token validation"),
    ],
    ids=["service-login-refused", "service-not-allowed-to-validate"],
)
def test_the_service_own_credentials_refused_is_503_and_logged(
    client, configured, keystone, items, caplog, password, service_roles, logged
):
    configured.KEYSTONE_PASSWORD = password
    keystone.users.clear()
    keystone.add_user(SERVICE_USER, SERVICE_PASSWORD, roles={"service": service_roles})

    assert answer(get(client, token_of(keystone))) == (503, UNAVAILABLE)
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR" and r.name == "backups.keystone"]
    assert len(errors) == 1 and errors[0].startswith(logged), errors
    assert not [r for r in caplog.records if password in r.getMessage()]


# --- the failed-authentication throttle ----------------------------------------------------------------


def test_keystone_rejections_count_towards_the_throttle_and_stop_the_calls(client, configured, keystone, items):
    configured.AUTH_FAILURE_LIMIT = 3
    cached_good, local = token_of(keystone), token_client(OWN)
    assert get(client, cached_good).status_code == 200

    statuses = [get(client, revoked(keystone)).status_code for _ in range(6)]
    assert statuses == [401, 401, 401, 429, 429, 429]
    assert keystone.calls[VALIDATE] == 1 + 4  # locked out: Keystone is not asked about new tokens
    response = get(client, revoked(keystone))
    assert answer(response)[1]["error_code"] == "CSBS.9429" and int(response["Retry-After"]) >= 1

    assert get(client, cached_good).status_code == 200  # validated before the lock-out
    assert local.get(f"/v1/{OWN}/checkpoint_items").status_code == 200
    assert get(client, token_of(keystone)).status_code == 429  # a new one waits for the window's end
    assert keystone.calls[VALIDATE] == 5

