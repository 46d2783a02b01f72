"""Valid tokens are remembered for a few seconds per process (backups.api.token_cache): revocation still holds."""
import io
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from backups.models import ApiToken
from tests.factories import create_items, item_dict

from .helpers import error

pytestmark = pytest.mark.django_db

P = "proj-a"
URL = f"/v1/{P}/checkpoint_items"
BAD_TOKEN = (401, "CSBS.9401", "Authentication failed: the token is invalid or expired")


@pytest.fixture
def item():
    create_items(P, item_dict(id="only-item"))


def issue(username="alice", **kwargs):
    user, _ = get_user_model().objects.get_or_create(username=username)
    token, key = ApiToken.issue(user=user, project_id=P, **kwargs)
    return token, Client(headers={"X-Auth-Token": key})


def test_a_token_is_looked_up_on_its_first_request_only(item, django_assert_num_queries):
    _, api = issue()
    with django_assert_num_queries(2):  # the token, the page
        assert api.get(URL, {"limit": 1}).status_code == 200
    with django_assert_num_queries(1):  # the page
        assert api.get(URL, {"limit": 1}).status_code == 200
    with django_assert_num_queries(1):  # the item
        assert api.get(f"{URL}/only-item").status_code == 200


def test_a_token_revoked_with_revoke_token_is_refused_at_once(item):
    token, api = issue()
    assert api.get(URL).status_code == 200
    call_command("revoke_token", f"--prefix={token.prefix}", stdout=io.StringIO())
    assert error(api.get(URL)) == BAD_TOKEN


def test_the_token_of_a_user_just_deactivated_is_refused_at_once(item):
    token, api = issue("bob")
    assert api.get(URL).status_code == 200
    user = get_user_model().objects.get(username="bob")
    user.is_active = False
    user.save()
    assert error(api.get(URL)) == BAD_TOKEN


def test_a_remembered_token_still_stops_at_its_expiry(item, monkeypatch):
    token, api = issue(expires_at=timezone.now() + timedelta(hours=1))
    assert api.get(URL).status_code == 200
    monkeypatch.setattr(timezone, "now", lambda: token.expires_at)
    assert error(api.get(URL)) == BAD_TOKEN


def test_a_token_deleted_behind_the_signals_back_is_refused_once_remembered_seconds_pass(item, settings):
    """Another process (or SQL) revokes it: this process honours that within AUTH_TOKEN_CACHE_SECONDS."""
    settings.AUTH_TOKEN_CACHE_SECONDS = 0.5
    token, api = issue()
    assert api.get(URL).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM backups_apitoken WHERE id = %s", [token.pk])
    assert api.get(URL).status_code == 200  # remembered: the seconds the setting allows
    time.sleep(0.6)
    assert error(api.get(URL)) == BAD_TOKEN


def test_unknown_tokens_are_never_remembered(item, django_assert_num_queries):
    api = Client(headers={"X-Auth-Token": "not-a-token"})
    for _ in range(2):
        with django_assert_num_queries(1):  # the lookup, every time
            assert error(api.get(URL)) == BAD_TOKEN


def test_with_the_memory_off_every_request_looks_the_token_up(item, settings, django_assert_num_queries):
    settings.AUTH_TOKEN_CACHE_SECONDS = 0
    _, api = issue()
    for _ in range(2):
        with django_assert_num_queries(2):
            assert api.get(URL, {"limit": 1}).status_code == 200


def test_the_memory_holds_at_most_the_configured_number_of_tokens(item, settings, django_assert_num_queries):
    settings.AUTH_TOKEN_CACHE_SIZE = 2
    clients = [issue(f"user-{n}")[1] for n in range(3)]
    for api in clients:
        assert api.get(URL, {"limit": 1}).status_code == 200
    with django_assert_num_queries(1):  # the two most recent are remembered
        assert clients[2].get(URL, {"limit": 1}).status_code == 200
    with django_assert_num_queries(2):  # the oldest was forgotten
        assert clients[0].get(URL, {"limit": 1}).status_code == 200
