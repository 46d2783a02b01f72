"""The real client logs in to a Keystone and reads this service with the token it got, unchanged.

``tests/api/sdk_keystone_script.py`` runs in the SDK's cached virtualenv (``test_sdk_client.py``
builds it) against pytest-django's ``live_server``, with ``KEYSTONE_*`` pointed at the test
Keystone of ``tests.upstreams.keystone``; the SDK's password login goes to that Keystone too.
"""
import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache

from tests.api import test_sdk_client as sdk
from tests.api.helpers import token_client
from tests.api.test_sdk_client import ITEM_FIELDS, OTHER, PROJECT, SAMPLE, in_default_order, run_client
from tests.upstreams.keystone import KeystoneServer

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The real-client test's fixtures: the SDK's cached virtualenv, and 25 items in PROJECT, 1 in OTHER.
sdk_python, catalogue = sdk.sdk_python, sdk.catalogue
SCRIPT = Path(__file__).with_name("sdk_keystone_script.py")
SERVICE = {"username": "backups-service", "password": "service-Passw0rd", "domain": "Default"}
MEMBER = {"username": "sdk-member", "password": "member-Passw0rd", "domain": "Default"}
ADMIN = {"username": "sdk-admin", "password": "admin-Passw0rd", "domain": "Default"}


@pytest.fixture
def keystone(settings):
    """A test Keystone with the service, a member and an admin of PROJECT; the service pointed at it."""
    with KeystoneServer() as server:
        server.add_user(SERVICE["username"], SERVICE["password"], roles={"service": ["service"]})
        server.add_user(MEMBER["username"], MEMBER["password"], roles={PROJECT: ["member"]})
        server.add_user(ADMIN["username"], ADMIN["password"], roles={PROJECT: ["admin"]})
        server.add_project(OTHER)
        settings.KEYSTONE_AUTH_URL = server.url
        settings.KEYSTONE_USERNAME, settings.KEYSTONE_PASSWORD = SERVICE["username"], SERVICE["password"]
        settings.KEYSTONE_PROJECT_NAME = "service"
        yield server


def test_real_client_logs_in_to_keystone_then_lists_pages_counts_and_gets_with_that_token(
    live_server, sdk_python, catalogue, keystone
):
    items, other = catalogue
    cache.clear()
    report = run_client(sdk_python, {
        "base_url": live_server.url, "keystone_url": keystone.url, "project_id": PROJECT,
        "other_project_id": OTHER, "get_id": SAMPLE["id"], "member": MEMBER, "admin": ADMIN,
    }, script=SCRIPT)

    everything = in_default_order(items)
    by_hash = {hashlib.sha256(token.encode()).hexdigest(): body for token, body in keystone.tokens.items()}
    assert (by_hash[report["token_sha256"]].user_name, by_hash[report["token_sha256"]].project_id) == (
        MEMBER["username"], PROJECT
    )
    assert report["paged_by_2"] == everything
    assert report["unpaginated"] == everything
    assert (report["count"], report["count_available"]) == (25, sum(i["status"] == "available" for i in items))
    api_item = token_client(PROJECT).get(f"/v1/{PROJECT}/checkpoint_items/{SAMPLE['id']}").json()
    assert report["get"] == {field: api_item["checkpoint_item"][field] for field in ITEM_FIELDS}
    assert report["all_tenants"] == in_default_order([*items, other])
    errors = report["errors"]
    assert (errors["all_tenants_not_admin"]["http_status"], errors["all_tenants_not_admin"]["error_code"]) == (
        403, "CSBS.9403"
    )
    assert {key: errors["other_project"][key] for key in ("http_status", "error_code", "details")} == {
        "http_status": 403,
        "error_code": "CSBS.9403",
        "details": f"[CSBS.9403]No permission to read project {OTHER}",
    }

    to_keystone = [e for e in report["exchanges"] if e["url"].startswith(keystone.root_url)]
    to_service = [e for e in report["exchanges"] if e["url"].startswith(live_server.url)]
    assert len(to_keystone) + len(to_service) == len(report["exchanges"])
    assert [(e["method"], urlsplit(e["url"]).path, e["status"]) for e in to_keystone if e["method"] == "POST"] == [
        ("POST", "/v3/auth/tokens", 201), ("POST", "/v3/auth/tokens", 201)  # the member's login, the admin's
    ]
    # 13 pages of 2 (the 13th short), unpaginated, 2 counts, get, 2 refusals, the admin's 9 pages of 3.
    assert len(to_service) == 13 + 1 + 2 + 1 + 2 + 9
    assert all(e["headers"]["X-Auth-Token"] == "<token>" for e in to_service)
    assert [e["status"] for e in to_service].count(403) == 2
    assert all(e["status"] in (200, 403) for e in to_service)
    # The service logged in once and validated each client token once, whatever the number of requests.
    assert (keystone.calls["POST /v3/auth/tokens"], keystone.calls["GET /v3/auth/tokens"]) == (1 + 2, 2)
