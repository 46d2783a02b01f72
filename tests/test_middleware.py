"""backups.middleware.MessageMiddleware: Django's messages, their storage built only for a request that uses them."""
import pytest
from django.contrib import messages
from django.http import HttpResponse
from django.test import RequestFactory

from backups import middleware
from tests.api.helpers import token_client


@pytest.fixture
def storages_built(monkeypatch):
    built = []
    original = middleware.default_storage
    monkeypatch.setattr(middleware, "default_storage", lambda request: built.append(1) or original(request))
    return built


def run(view, cookies=None):
    request = RequestFactory().get("/")
    request.COOKIES.update(cookies or {})
    request.session = {}  # the session storage's fallback: unused while the cookie holds the messages
    return middleware.MessageMiddleware(view)(request)


def test_a_request_that_uses_no_messages_builds_no_storage(storages_built):
    response = run(lambda request: HttpResponse("ok"))
    assert storages_built == [] and "messages" not in response.cookies


@pytest.mark.django_db
def test_an_api_request_builds_no_message_storage(storages_built):
    assert token_client("proj-a").get("/v1/proj-a/checkpoint_items").status_code == 200
    assert storages_built == []


def test_a_message_added_in_one_request_is_shown_by_the_next_and_then_gone(storages_built):
    def add(request):
        messages.info(request, "Saved")
        return HttpResponse("ok")

    shown = []

    def show(request):
        shown.append([str(message) for message in messages.get_messages(request)])
        return HttpResponse("ok")

    stored = run(add).cookies["messages"].value
    after = run(show, {"messages": stored})
    assert shown == [["Saved"]] and len(storages_built) == 2
    assert after.cookies["messages"].value == ""  # read, so deleted from the cookie
