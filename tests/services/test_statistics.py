"""Planner statistics after bulk writes (backups.services.statistics): the first page right after an
import walks the tenant index, as in steady state, instead of sorting the whole project."""

import io
import itertools
import json
import random

import orjson
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backups.document.parse import parse_item
from backups.models import CheckpointItem, ReplicationRecord, VolumeBackup
from backups.services import statistics
from backups.services.upsert import upsert_items
from bench.dataset import item_dicts

from ..api.helpers import token_client

pytestmark = pytest.mark.django_db


def import_file(tmp_path, project, items, name):
    path = tmp_path / name
    path.write_bytes(orjson.dumps({"checkpoint_items": items}))
    call_command("import_checkpoint_items", str(path), project=project, stdout=io.StringIO())


def items_of(count, seed):
    return [item for _, item in item_dicts(count, 1, seed=seed)]


def first_page_plan(project):
    """EXPLAIN of the query the API runs for the project's first page (no filter, default sort)."""
    with CaptureQueriesContext(connection) as queries:
        response = token_client(project).get(f"/v1/{project}/checkpoint_items?limit=1000")
    assert response.status_code == 200
    sql = next(q["sql"] for q in queries.captured_queries if '"document"' in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    return json.loads(plan)[0]["Plan"] if isinstance(plan, str) else plan[0]["Plan"]


def nodes(plan):
    return [plan, *(node for child in plan.get("Plans", ()) for node in nodes(child))]


def node_types(plan):
    return [node["Node Type"] for node in nodes(plan)]


@pytest.mark.postgres_only
@pytest.mark.parametrize("refresh", [True, False], ids=["statistics refreshed", "statistics left stale"])
def test_the_first_page_after_an_import_is_an_index_scan_without_sort(tmp_path, monkeypatch, refresh):
    # Steady state: 100 small projects, analyzed (the planner then expects about 1 % of the rows
    # for any project it does not know better).
    for project, group in itertools.groupby(item_dicts(400, 100, seed=1), key=lambda pair: pair[0]):
        upsert_items(project, [parse_item(item) for _, item in group])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE backups_checkpointitem")
    if not refresh:  # what the import did before: the planner still thinks "big" has a few rows
        monkeypatch.setattr(statistics, "refresh_statistics", lambda written: [])
    big = items_of(12_000, seed=2)
    random.Random(2).shuffle(big)  # a dump in no particular order: the heap does not follow created_at
    import_file(tmp_path, "big", big, "big.json")
    plan = first_page_plan("big")
    scan = next(node for node in nodes(plan) if "Scan" in node["Node Type"])
    if refresh:
        assert "Sort" not in node_types(plan), plan
        assert scan["Node Type"] in ("Index Scan", "Index Only Scan"), plan
        # The planner knows the project's size: what keeps it on the index when the heap is in
        # no particular order (issue 11 measured 23 rows expected for 20,000, then a Sort of them all).
        assert 6_000 <= scan["Plan Rows"] <= 24_000, scan
    else:  # the state this guards against: the statistics know nothing of the new project
        assert scan["Plan Rows"] < 1_200, scan


def test_a_bulk_write_analyzes_the_tables_it_changed_a_share_of(tmp_path):
    import_file(tmp_path, "p1", items_of(200, seed=3), "first.json")
    written = {CheckpointItem: 200, VolumeBackup: 4000, ReplicationRecord: 0}
    # Now known: 200 items. 10 more is 5 %: left to autovacuum; 30 more is 15 %: analyzed.
    assert statistics.refresh_statistics({CheckpointItem: 10}) == []
    assert statistics.refresh_statistics({CheckpointItem: 30}) == ["backups_checkpointitem"]
    assert statistics.refresh_statistics({ReplicationRecord: 0}) == []
    assert statistics.known_rows(connection.cursor(), "backups_checkpointitem") == 200
    assert set(statistics.refresh_statistics(written)) == {"backups_checkpointitem", "backups_volumebackup"}


@pytest.mark.postgres_only
def test_a_table_never_analyzed_is_analyzed_after_any_bulk_write():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE never_analyzed (id int)")
        assert statistics.known_rows(cursor, "never_analyzed") is None
