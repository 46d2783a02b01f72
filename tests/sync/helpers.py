"""Helpers of the sync tests: sources, runs, and reading every page of an API."""
from datetime import timedelta

from django.core.management import call_command

from backups.sync.models import SyncSource
from backups.sync.walk import SourceRun

FAST_RETRIES = {
    "SYNC_BACKOFF_INITIAL": 0.01, "SYNC_BACKOFF_MAX": 0.05, "SYNC_ATTEMPTS": 4, "SYNC_TIMEOUT": 5,
    "SYNC_CONNECT_TIMEOUT": 2, "SYNC_RETRY_AFTER_MAX": 5,
}


def source(name="up", *, endpoint, project_id, kind="csbs", page_size=100, token_env="UP_TOKEN", **fields):
    return SyncSource.objects.create(
        name=name, kind=kind, endpoint=endpoint, project_id=project_id, page_size=page_size,
        token_env=token_env, interval=fields.pop("interval", timedelta(minutes=15)), **fields,
    )


def run(src, **kwargs):
    """One real run of ``src``; the ``SyncRun``, fresh from the database."""
    result = SourceRun(src, **kwargs).execute()
    result.refresh_from_db()
    return result


def walk_api(get, path, **params):
    """Every item of a list endpoint, page after page by marker: ``get(path, params) -> response``."""
    items, marker = [], None
    params = {"limit": 1000, **params}
    while True:
        response = get(path, {**params, **({"marker": marker} if marker else {})})
        assert response.status_code == 200, (path, params, response.content[:500])
        page = response.json()["checkpoint_items"]
        items += page
        if len(page) < params["limit"]:
            return items
        marker = page[-1]["id"]


def command(*args):
    """``call_command`` with its stdout; ``(exit code, output)``."""
    from io import StringIO

    from django.core.management.base import CommandError

    out = StringIO()
    try:
        call_command(*args, stdout=out)
    except CommandError as error:
        return 1, out.getvalue() + f"\nCommandError: {error}"
    return 0, out.getvalue()
