"""Visible freshness: ``X-Data-As-Of`` on API answers, the pages' banner and stale warning, gone items
on the pages, and the admin (sources, runs, synced items read-only)."""
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from backups.models import CheckpointItem, VolumeBackup
from backups.sync import freshness
from backups.sync.models import RunStatus, SyncRun
from tests.api.helpers import token_client
from tests.factories import create_items, item_dict
from tests.sync.helpers import FAST_RETRIES, run, source
from tests.upstreams.cbr import CBRUpstream, backup

pytestmark = pytest.mark.django_db

PROJECT = "cbr-project"


@pytest.fixture(autouse=True)
def fast_retries(settings):
    for name, value in FAST_RETRIES.items():
        setattr(settings, name, value)


@pytest.fixture
def synced(monkeypatch):
    """A CBR source of PROJECT, run once (40 items), its upstream still serving: ``(source, upstream)``."""
    monkeypatch.setenv("UP_TOKEN", "t")
    with CBRUpstream({PROJECT: [backup(i) for i in range(40)]}, tokens={"t"}) as cbr:
        src = source("cbr-main", kind="cbr", endpoint=cbr.url, project_id=PROJECT, interval=timedelta(hours=1))
        assert run(src).status == RunStatus.SUCCEEDED
        src.refresh_from_db()
        yield src, cbr


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_user("staffer", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def as_of(src):
    return src.data_as_of.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- X-Data-As-Of ------------------------------------------------------------------------------------


def test_api_answers_carry_when_the_projects_data_was_last_confirmed(synced):
    src, _ = synced
    api = token_client(PROJECT)
    item_id = backup(3).id
    for path in ("", "/count", f"/{item_id}"):
        response = api.get(f"/v1/{PROJECT}/checkpoint_items{path}")
        assert response.status_code == 200 and response["X-Data-As-Of"] == as_of(src), path


def test_no_header_for_imported_data_errors_or_a_source_that_never_completed(synced):
    src, _ = synced
    create_items("imported-only", item_dict())
    assert "X-Data-As-Of" not in token_client("imported-only").get("/v1/imported-only/checkpoint_items")
    assert "X-Data-As-Of" not in token_client(PROJECT).get(f"/v1/{PROJECT}/checkpoint_items", {"limit": 0})
    source("cbr-second", kind="cbr", endpoint="http://127.0.0.1:9", project_id=PROJECT)
    assert "X-Data-As-Of" not in token_client(PROJECT).get(f"/v1/{PROJECT}/checkpoint_items")


def test_all_tenants_answers_are_as_old_as_the_oldest_source(synced):
    src, _ = synced
    other = source("other", kind="cbr", endpoint="http://127.0.0.1:9", project_id="other-project")
    older = src.data_as_of - timedelta(days=2)
    type(other).objects.filter(pk=other.pk).update(data_as_of=older, last_success_at=older)
    freshness.forget()
    response = token_client(PROJECT, admin=True).get(f"/v1/{PROJECT}/checkpoint_items", {"all_tenants": "1"})
    assert response["X-Data-As-Of"] == older.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert token_client(PROJECT).get(f"/v1/{PROJECT}/checkpoint_items")["X-Data-As-Of"] == as_of(src)


def test_the_header_costs_one_query_per_process_per_ttl_not_one_per_request(synced, django_assert_num_queries):
    api = token_client(PROJECT)
    freshness.forget()
    with django_assert_num_queries(3):  # token, page, the sources' state (then cached)
        api.get(f"/v1/{PROJECT}/checkpoint_items")
    with django_assert_num_queries(1):  # page (the token is remembered: backups.api.token_cache)
        assert "X-Data-As-Of" in api.get(f"/v1/{PROJECT}/checkpoint_items")


def test_a_run_in_this_process_refreshes_the_header_at_once(synced):
    src, _ = synced
    api = token_client(PROJECT)
    first = api.get(f"/v1/{PROJECT}/checkpoint_items")["X-Data-As-Of"]
    again = run(src)
    assert api.get(f"/v1/{PROJECT}/checkpoint_items")["X-Data-As-Of"] == again.walk_started_at.strftime(
        "%Y-%m-%dT%H:%M:%SZ") >= first


# --- the pages ---------------------------------------------------------------------------------------


def test_the_list_page_says_when_the_project_was_last_synced(synced, staff_client):
    src, _ = synced
    page = staff_client.get("/", {"project": PROJECT}).content.decode()
    assert 'id="sync-freshness"' in page and "alert-info" in page and "Stale" not in page
    assert "Synced from <code>cbr-main</code> (cbr)" in page and "runs every 1 h." in page
    assert f'data as of <time datetime="{src.data_as_of.strftime("%Y-%m-%dT%H:%M:%S")}' in page


def test_a_source_older_than_twice_its_interval_is_flagged_stale(synced, staff_client):
    src, _ = synced
    type(src).objects.filter(pk=src.pk).update(last_success_at=timezone.now() - timedelta(hours=2, minutes=1))
    page = staff_client.get("/", {"project": PROJECT}).content.decode()
    assert "alert-warning" in page and "<strong>Stale:</strong> synced from <code>cbr-main</code>" in page
    assert "more than twice its interval old" in page
    everywhere = staff_client.get("/", {"project": PROJECT, "all_tenants": "1"}).content.decode()
    assert "<strong>Stale:</strong> synced from <code>cbr-main</code> (cbr, project cbr-project)" in everywhere


def test_a_failed_last_run_is_shown_with_its_error(synced, staff_client):
    src, cbr = synced
    cbr.tokens = {"another"}
    assert run(src).status == RunStatus.FAILED
    page = staff_client.get("/", {"project": PROJECT}).content.decode()
    assert ") failed: <span class=\"sync-error\">HTTP 401 from GET" in page


def test_a_project_without_sources_shows_no_banner(staff_client):
    create_items("imported-only", item_dict())
    assert 'id="sync-freshness"' not in staff_client.get("/", {"project": "imported-only"}).content.decode()


def test_gone_items_stay_visible_on_the_pages_marked_gone(synced, staff_client):
    src, cbr = synced
    cbr.backups[PROJECT] = cbr.backups[PROJECT][1:]
    assert run(src).items_marked_gone == 1
    gone_id = backup(0).id
    listing = staff_client.get("/", {"project": PROJECT, "sort": "id:asc", "limit": 10}).content.decode()
    assert listing.count('class="badge status-gone"') == 1 and 'class="gone"' in listing
    detail = staff_client.get(f"/backups/{gone_id}/").content.decode()
    assert 'id="gone"' in detail and "no longer lists this backup: a complete walk did not see it" in detail
    assert "Mirrored from source <code>cbr-main</code> (cbr)" in detail
    assert token_client(PROJECT).get(f"/v1/{PROJECT}/checkpoint_items/{gone_id}").status_code == 404


# --- the admin ---------------------------------------------------------------------------------------


def test_a_synced_item_is_read_only_in_the_admin_and_shows_its_origin(synced, staff_client):
    item_id = backup(4).id
    url = f"/admin/backups/checkpointitem/{item_id}/change/"
    page = staff_client.get(url).content.decode()
    assert 'name="_save"' not in page and "Mirrored from its source" in page and "cbr-main" in page
    before = CheckpointItem.objects.get(pk=item_id).document
    assert staff_client.post(url, {"name": "edited"}).status_code == 403
    assert CheckpointItem.objects.get(pk=item_id).document == before
    assert staff_client.post(f"/admin/backups/checkpointitem/{item_id}/delete/", {"post": "yes"}).status_code == 403


def test_an_imported_item_stays_editable(synced, staff_client):
    [item_id] = create_items(PROJECT, item_dict())
    page = staff_client.get(f"/admin/backups/checkpointitem/{item_id}/change/").content.decode()
    assert 'name="_save"' in page and "Imported or made here" in page


def test_children_of_a_synced_item_are_read_only_on_their_own_pages_too(synced, staff_client):
    record = CheckpointItem.objects.get(pk=backup(3).id).replication_records.get()
    page = staff_client.get(f"/admin/backups/replicationrecord/{record.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert not VolumeBackup.objects.exists()  # CBR items carry no volume backups


def test_the_admin_lists_sources_runs_and_filters_items_by_origin(synced, staff_client):
    src, _ = synced
    sources = staff_client.get("/admin/backups/syncsource/").content.decode()
    assert "cbr-main" in sources and "fresh" in sources
    detail = staff_client.get(f"/admin/backups/syncsource/{src.pk}/change/").content.decode()
    assert "latest runs" in detail.lower() and "NAMES of environment variables" in detail
    runs = staff_client.get("/admin/backups/syncrun/").content.decode()
    assert "succeeded" in runs.lower() and SyncRun.objects.count() == 1
    create_items(PROJECT, item_dict(name="imported one"))
    mirrored = staff_client.get("/admin/backups/checkpointitem/", {"origin": str(src.pk)}).content.decode()
    imported = staff_client.get("/admin/backups/checkpointitem/", {"origin": "none"}).content.decode()
    assert "autobk_0001" in mirrored and "imported one" not in mirrored
    assert "imported one" in imported and "autobk_0001" not in imported
