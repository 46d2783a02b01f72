"""Base test fixtures: where shared/ lives, the seed's sample response, and which database this run uses."""

import json
from pathlib import Path

import pytest
from django.conf import settings

REPO_DIR = Path(__file__).resolve().parent.parent
# CI lays shared/ beside the clone; a developer's work tree may sit elsewhere, with shared/ at /work/shared.
SHARED_DIR = next(
    (path for path in (REPO_DIR.parent / "shared", Path("/work/shared")) if path.is_dir()),
    REPO_DIR.parent / "shared",
)
SAMPLE_RESPONSE_PATH = SHARED_DIR / "fixtures" / "csbs_sample_response.json"


def database_vendor():
    """'sqlite3' or 'postgresql', read from settings so that no connection is needed."""
    return settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    if database_vendor() == "sqlite3":
        where = "in-memory test database"
    else:  # host, port and name only: the URL may carry a password
        host, port = db.get("HOST") or "local socket", db.get("PORT") or "default port"
        where = f"{host}:{port}, test database of {db['NAME']}"
    return [f"database: {database_vendor()} ({where})", f"shared dir: {SHARED_DIR}"]


def pytest_collection_modifyitems(config, items):
    if database_vendor() == "postgresql":
        return
    skip = pytest.mark.skip(reason="postgres_only: this run uses SQLite")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def sample_response():
    """The seed's sample list response, parsed afresh for each test so that tests may mutate it."""
    return json.loads(SAMPLE_RESPONSE_PATH.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with empty caches: the failed-authentication throttle counts in one, valid
    tokens are remembered for a few seconds (``backups.api.token_cache``), and the API's valid
    query strings per process (``backups.listing.parameters.API_PARAMETERS``)."""
    from django.core.cache import cache

    from backups.api import token_cache
    from backups.listing.parameters import API_PARAMETERS
    from backups.sync import freshness

    cache.clear()
    token_cache.forget_all()
    API_PARAMETERS.forget_all()
    freshness.forget(known_empty=True)  # each test's database starts with no sync source
    yield


@pytest.fixture(scope="session")
def csbs_instance(tmp_path_factory):
    """A second running instance of this service (tests.upstreams.instance), seeded: the sync's CSBS upstream.

    Shared by the session: tests that change its data put it back.
    """
    from tests.upstreams.instance import ServiceInstance

    with ServiceInstance(tmp_path_factory.mktemp("csbs-instance"), items=420, projects=3, seed=11) as upstream:
        yield upstream
