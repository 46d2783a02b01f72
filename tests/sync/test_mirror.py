"""The sync mirrors a second running instance of this very service (exact CSBS), key for key.

The upstream is ``tests.upstreams.instance.ServiceInstance`` (its own SQLite database, seeded, on
a loopback port); faults come from ``tests.upstreams.faults.FaultProxy`` in front of it. Tests that
change the upstream's data put it back before they end.
"""
import json

import httpx
import pytest

from backups.models import CheckpointItem
from backups.sync.models import RunStatus, SyncRun
from tests.api.helpers import token_client
from tests.factories import create_items, item_dict
from tests.sync.helpers import FAST_RETRIES, command, run, source, walk_api
from tests.upstreams.faults import FaultProxy
from tests.upstreams.server import Fault

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

FILTERS = [
    {},
    {"status": "available"},
    {"sort": "name:asc"},
    {"sort": "protected_at:desc,id:asc"},
    {"sort": "status:asc,created_at:desc"},
    {"image_type": "backup"},
    {"resource_type": "OS::Nova::Server"},
    {"name": "a"},
    {"start_time": "2026-01-01T00:00:00Z"},
]


@pytest.fixture(autouse=True)
def fast_retries(settings, monkeypatch):
    for name, value in FAST_RETRIES.items():
        setattr(settings, name, value)


@pytest.fixture
def upstream(csbs_instance, monkeypatch):
    monkeypatch.setenv("UP_TOKEN", csbs_instance.token)
    return csbs_instance


def upstream_get(upstream):
    headers = {"X-Auth-Token": upstream.token}
    return lambda path, params: httpx.get(upstream.url + path, params=params, headers=headers, timeout=30)


def mirror_get():
    client = token_client("mirror-reader", admin=True)
    return lambda path, params: client.get(path, params)


def sources_for(upstream, endpoint=None, page_size=50):
    return [
        source(f"up-{index}", endpoint=endpoint or upstream.url, project_id=project, page_size=page_size)
        for index, project in enumerate(upstream.project_ids)
    ]


def items_of(get, project, **params):
    return walk_api(get, f"/v1/{project}/checkpoint_items", **params)


def upstream_document(upstream, project, item_id):
    response = upstream.get(f"/v1/{project}/checkpoint_items/{item_id}")
    assert response.status_code == 200, response.text
    return response.json()["checkpoint_item"]


def delete_upstream(upstream, item_id):
    upstream.python(f"from backups.models import CheckpointItem as C; C.objects.filter(pk={item_id!r}).delete()")


def restore_upstream(upstream, project, document, tmp_path):
    path = tmp_path / f"restore-{document['id']}.json"
    path.write_text(json.dumps({"checkpoint_items": [document]}), encoding="utf-8")
    upstream.manage("import_checkpoint_items", str(path), "--project", project)


# --- a full mirror ---------------------------------------------------------------------------------


def test_every_project_is_mirrored_key_for_key_through_both_apis_for_every_filter(upstream):
    runs = [run(src) for src in sources_for(upstream)]
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * len(runs), [r.error for r in runs]
    theirs, ours = upstream_get(upstream), mirror_get()
    for project in upstream.project_ids:
        for params in FILTERS:
            expected = items_of(theirs, project, **params)
            assert items_of(ours, project, **params) == expected, (project, params)
        count = f"/v1/{project}/checkpoint_items/count"
        assert ours(count, {}).json() == theirs(count, {}).json()
    assert sum(r.items_created for r in runs) == 420
    assert {r.upstream_count for r in runs} == {r.walk_items for r in runs} and not any(r.count_mismatch for r in runs)
    assert CheckpointItem.objects.filter(status="deleted").exists()  # upstream's deleted items are kept as such


def test_each_mirrored_item_records_its_source_and_when_it_was_seen(upstream):
    src = sources_for(upstream)[0]
    result = run(src)
    items = CheckpointItem.objects.filter(project_id=src.project_id)
    assert items.count() == result.items_created > 0
    assert set(items.values_list("source_id", flat=True)) == {src.pk}
    assert items.filter(sighting__seen_at__gte=result.walk_started_at, gone_at__isnull=True).count() == items.count()


def test_a_second_run_finds_everything_unchanged_and_writes_no_item(upstream):
    src = sources_for(upstream)[0]
    first = run(src)
    second = run(src)
    assert (second.items_created, second.items_updated, second.items_marked_gone) == (0, 0, 0)
    assert second.items_unchanged == first.items_created == second.walk_items
    assert second.pages == first.pages and second.requests == first.requests  # pages + one count


def test_an_item_changed_upstream_is_updated_in_the_mirror(upstream):
    src = sources_for(upstream)[0]
    run(src)
    item_id = CheckpointItem.objects.filter(project_id=src.project_id).order_by("id").values_list("id", flat=True)[3]
    rename = "from backups.models import CheckpointItem as C; i = C.objects.get(pk={!r}); i.name = {!r}; i.save()"
    original = upstream_document(upstream, src.project_id, item_id)["name"]
    upstream.python(rename.format(item_id, "renamed upstream"))
    try:
        result = run(src)
        assert (result.items_created, result.items_updated) == (0, 1)
        mirrored = mirror_get()(f"/v1/{src.project_id}/checkpoint_items/{item_id}", {}).json()["checkpoint_item"]
        assert mirrored == upstream_document(upstream, src.project_id, item_id)
        assert mirrored["name"] == "renamed upstream"
    finally:
        upstream.python(rename.format(item_id, original))


# --- deletions, resumes ------------------------------------------------------------------------------


def test_a_vanished_item_is_marked_gone_only_after_a_complete_walk_and_a_cut_walk_resumes(upstream, tmp_path):
    """A walk cut mid-way marks nothing gone and leaves a cursor; the next run resumes there and,
    having completed the walk, marks the vanished item gone: out of the API, still on the pages."""
    with FaultProxy(upstream.url) as proxy:
        src = sources_for(upstream, endpoint=proxy.url, page_size=40)[0]
        run(src)
        project = src.project_id
        victim = CheckpointItem.objects.filter(project_id=project).order_by("id").values_list("id", flat=True)[7]
        document = upstream_document(upstream, project, victim)
        delete_upstream(upstream, victim)
        try:
            # Every try of the second page is cut (SYNC_ATTEMPTS=4): the run fails, one page written.
            faults = [Fault(reset=True), Fault(cut=True), Fault(reset=True), Fault(reset=True)]
            proxy.faults.add(*faults, when=lambda path: "marker=" in path)
            failed = run(src)
            assert failed.status == RunStatus.FAILED and not failed.complete
            assert failed.retries == 3 and "RemoteProtocolError" in failed.error, failed.error
            assert failed.pages == 1 and failed.cursor and failed.walk_items == 40
            assert CheckpointItem.objects.get(pk=victim).gone_at is None  # a failed walk marks nothing gone
            assert mirror_get()(f"/v1/{project}/checkpoint_items/{victim}", {}).status_code == 200

            proxy.faults.clear()
            proxy.requests.clear()
            resumed = run(src)
            assert resumed.status == RunStatus.SUCCEEDED, resumed.error
            assert resumed.resumed_from_id == failed.pk and resumed.walk_started_at == failed.walk_started_at
            assert f"marker={failed.cursor}" in proxy.requests[0][1]
            assert resumed.items_marked_gone == 1 and resumed.walk_items == resumed.upstream_count
            gone = CheckpointItem.objects.get(pk=victim)
            assert gone.gone_at is not None

            api = mirror_get()
            assert victim not in [i["id"] for i in items_of(api, project)]
            assert api(f"/v1/{project}/checkpoint_items/{victim}", {}).status_code == 404
            count = f"/v1/{project}/checkpoint_items/count"
            assert api(count, {}).json() == upstream_get(upstream)(count, {}).json()
            assert items_of(api, project) == items_of(upstream_get(upstream), project)
        finally:
            restore_upstream(upstream, project, document, tmp_path)
        back = run(src)
        assert (back.items_updated, back.items_marked_gone) == (1, 0)
        assert CheckpointItem.objects.get(pk=victim).gone_at is None


def test_a_gone_item_is_purged_after_the_retention(upstream, tmp_path, settings):
    src = sources_for(upstream)[1]
    run(src)
    project = src.project_id
    victim = CheckpointItem.objects.filter(project_id=project).order_by("id").values_list("id", flat=True)[0]
    document = upstream_document(upstream, project, victim)
    delete_upstream(upstream, victim)
    try:
        assert run(src).items_marked_gone == 1
        settings.SYNC_GONE_RETENTION_DAYS = 0
        purged = run(src)
        assert (purged.items_marked_gone, purged.items_purged) == (0, 1)
        assert not CheckpointItem.objects.filter(pk=victim).exists()
    finally:
        restore_upstream(upstream, project, document, tmp_path)


def test_items_of_imports_and_of_other_sources_are_never_overwritten_or_marked_gone(upstream):
    mine, other = sources_for(upstream)[:2]
    run(other)
    project = mine.project_id
    taken = upstream_document(upstream, project, items_of(upstream_get(upstream), project)[5]["id"])
    imported_copy = taken | {"name": "the import's own version"}
    [lonely] = create_items(project, item_dict(name="imported, not upstream"))
    create_items(project, imported_copy)

    result = run(mine)
    assert result.status == RunStatus.SUCCEEDED and result.conflicts == 1
    assert result.problems[0]["id"] == taken["id"] and "import" in result.problems[0]["conflict"]
    kept = CheckpointItem.objects.get(pk=taken["id"])
    assert (kept.name, kept.source_id) == ("the import's own version", None)
    assert CheckpointItem.objects.get(pk=lonely).gone_at is None  # an import is never marked gone
    assert not CheckpointItem.objects.filter(source=other, gone_at__isnull=False).exists()
    assert CheckpointItem.objects.filter(source=other).count() == other.runs.get().items_created


def test_an_import_refuses_to_overwrite_a_mirrored_item(upstream, tmp_path):
    src = sources_for(upstream)[0]
    run(src)
    mirrored = CheckpointItem.objects.filter(source=src).first()
    path = tmp_path / "overwrite.json"
    path.write_text(json.dumps({"checkpoint_items": [json.loads(mirrored.document) | {"name": "x"}]}))
    code, output = command("import_checkpoint_items", str(path), "--project", src.project_id)
    assert code == 1 and "comes from another origin (sync source" in output
    assert CheckpointItem.objects.get(pk=mirrored.pk).document == mirrored.document


# --- dry run ---------------------------------------------------------------------------------------------


def test_dry_run_writes_nothing_and_says_what_would_be_created_updated_and_marked_gone(upstream, tmp_path):
    src = sources_for(upstream)[2]
    code, output = command("sync_backups", src.name, "--dry-run")
    assert code == 0, output
    total = len(items_of(upstream_get(upstream), src.project_id))
    assert f"would create {total:,}, update 0, mark gone 0" in output
    assert not CheckpointItem.objects.exists() and not SyncRun.objects.exists()

    run(src)
    project = src.project_id
    victim = CheckpointItem.objects.filter(project_id=project).order_by("id").values_list("id", flat=True)[2]
    document = upstream_document(upstream, project, victim)
    delete_upstream(upstream, victim)
    try:
        before = list(CheckpointItem.objects.order_by("pk").values_list("pk", "document", "gone_at", "sighting__seen_at"))
        code, output = command("sync_backups", src.name, "--dry-run")
        assert code == 0, output
        assert "would create 0, update 0, mark gone 1" in output and f"would mark gone: {victim}" in output
        after = list(CheckpointItem.objects.order_by("pk").values_list("pk", "document", "gone_at", "sighting__seen_at"))
        assert after == before and SyncRun.objects.count() == 1
    finally:
        restore_upstream(upstream, project, document, tmp_path)
