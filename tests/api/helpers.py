"""Helpers for API tests: clients holding a token, and reading CSBS responses."""
import json

from django.contrib.auth import get_user_model
from django.test import Client

from backups.models import ApiToken


def token_client(project_id, *, admin=False, username=None):
    """A test client sending a fresh ``X-Auth-Token`` for ``project_id``."""
    user, _ = get_user_model().objects.get_or_create(username=username or f"user-{project_id}-{admin}")
    _, key = ApiToken.issue(user=user, project_id=project_id, is_admin=admin)
    return Client(headers={"X-Auth-Token": key})


def ids(response):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["checkpoint_items"]]


def error(response):
    """``(status, error_code, error_msg)`` of a CSBS error response, checking its shape."""
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert set(body) == {"error_code", "error_msg"}, body
    return response.status_code, body["error_code"], body["error_msg"]
