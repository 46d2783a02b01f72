"""Performance properties that do not depend on the machine: query counts, index use, marker depth-flatness.

The quick, CI form of ``bench/run.py``: a few thousand items of the benchmark's shape
(``backups.demo``, through ``services.upsert_items``), never absolute times. On PostgreSQL the
plans are read with ``EXPLAIN (ANALYZE, BUFFERS)`` of the very query the API ran (captured from a
request). At this size the whole table is a few megabytes, and a Seq Scan or a bitmap scan followed
by a sort is the planner's right choice; the question the tests ask is whether an index delivers
the requested order, so that ``LIMIT`` and the keyset condition stop early at a million rows (the
benchmark shows the planner choosing it there by itself). They therefore turn ``enable_seqscan``,
``enable_bitmapscan`` and ``enable_sort`` off for the EXPLAIN, which leaves the planner with no way
to answer but an ordered index, if there is one; were there none, it would still fall back to the
disabled plan, and the assertions would see it.
"""

import itertools
import json
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from backups.document.parse import parse_item
from backups.listing.ordering import SORT_KEYS, Ordering
from backups.listing.selectors import checkpoint_item_scope
from backups.models import CheckpointItem
from backups.services.upsert import upsert_items
from bench.dataset import item_dicts

from .api.helpers import ids, token_client

ITEMS = 2500
PROJECTS = 2
SORTS = [f"{key}:{direction}" for key in SORT_KEYS for direction in ("asc", "desc")]
MIXED_SORTS = ["status:asc,created_at:desc", "name:desc,protected_at:asc", "protected_at:asc,updated_at:desc"]


@pytest.fixture(scope="module")
def dataset(django_db_setup, django_db_blocker):
    """The items, loaded once for the module (vacuumed and analyzed on PostgreSQL, as the bench's and a
    settled production table are: the visibility map lets index-only scans skip the rows); removed
    afterwards."""
    with django_db_blocker.unblock():
        pairs = item_dicts(ITEMS, PROJECTS, seed=7)
        for project, group in itertools.groupby(pairs, key=lambda pair: pair[0]):
            with transaction.atomic():
                upsert_items(project, [parse_item(item) for _, item in group])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE backups_checkpointitem")
        largest = max(
            CheckpointItem.objects.values_list("project_id", flat=True).distinct(),
            key=lambda project: CheckpointItem.objects.filter(project_id=project).count(),
        )
        yield largest
        CheckpointItem.objects.all().delete()


def marker_at(project, sort, depth):
    """The id of the item at ``depth`` (a fraction) of ``project``'s items in ``sort``."""
    scope = checkpoint_item_scope(project)
    position = int(scope.count() * depth)
    return Ordering.parse(sort).apply(scope).values_list("id", flat=True)[position]


def captured_list(client, project, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/v1/{project}/checkpoint_items", params)
    assert response.status_code == 200, response.content
    return response, [query["sql"] for query in queries.captured_queries]


# --- every database ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [1, 10, 1000])
@pytest.mark.parametrize("with_marker", [False, True])
def test_a_list_request_costs_the_same_few_queries_for_any_limit(
    dataset, limit, with_marker, django_assert_num_queries
):
    """The token lookup and the page, the marker's sort values read inside it: never one per item."""
    client = token_client(dataset)
    params = {"limit": limit}
    if with_marker:
        params["marker"] = marker_at(dataset, None, 0.1)
    with django_assert_num_queries(2):
        response = client.get(f"/v1/{dataset}/checkpoint_items", params)
    assert len(ids(response)) == limit  # the project holds well over 1000 items after the marker


@pytest.mark.django_db
@pytest.mark.parametrize("sort", [None, "name:asc", "protected_at:desc,id:asc"])
def test_a_list_request_runs_no_count(dataset, sort):
    client = token_client(dataset)
    params = {"limit": 1000, "marker": marker_at(dataset, sort, 0.3)}
    if sort:
        params["sort"] = sort
    _, sqls = captured_list(client, dataset, **params)
    assert not [sql for sql in sqls if re.search(r"\bCOUNT\s*\(", sql, re.IGNORECASE)]


# --- PostgreSQL: the plans ---------------------------------------------------------------------------


def explain(sql_and_params):
    """The JSON plan of ``EXPLAIN (ANALYZE, BUFFERS)``, with only ordered index paths allowed."""
    sql, params = sql_and_params
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def nodes(plan):
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def item_table_queries(client, path, params):
    """``(sql, params)`` of each query on the item table that a successful GET of ``path`` ran."""
    captured = []

    def wrapper(execute, sql, sql_params, many, context):
        captured.append((sql, sql_params))
        return execute(sql, sql_params, many, context)

    with connection.execute_wrapper(wrapper):
        response = client.get(path, params)
    assert response.status_code == 200, response.content
    return [query for query in captured if "backups_checkpointitem" in query[0]]


def page_query(client, project, **params):
    """The SQL and parameters of the query that read the page (the last one on the item table)."""
    return item_table_queries(client, f"/v1/{project}/checkpoint_items", params)[-1]


def is_marker_lookup(node):
    """The marker row's values, read inside the page's query: an InitPlan (run once) or a SubPlan."""
    return node.get("Parent Relationship") in ("InitPlan", "SubPlan")


def page_nodes(plan):
    """The plan without the marker lookups."""
    yield plan
    for child in plan.get("Plans", ()):
        if not is_marker_lookup(child):
            yield from page_nodes(child)


def item_scans(plan):
    """The page's scans of the item table (the marker lookups apart)."""
    return [node for node in page_nodes(plan) if node.get("Relation Name") == "backups_checkpointitem"]


def marker_lookups(plan):
    """The scans of the item table that read the marker row: one row each, by its id."""
    return [
        scan
        for node in nodes(plan)
        if is_marker_lookup(node)
        for scan in nodes(node)
        if scan.get("Relation Name") == "backups_checkpointitem"
    ]


def rows_read(node):
    """Rows an index scan fetched: those it returned and those its filter dropped."""
    return (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * node.get("Actual Loops", 1)


def buffers(plan):
    return plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)


@pytest.mark.postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("with_marker", [False, True], ids=["first page", "after a marker"])
@pytest.mark.parametrize("sort", SORTS)
def test_a_tenant_page_walks_an_index_in_the_sort_order(dataset, sort, with_marker):
    client = token_client(dataset)
    params = {"sort": sort, "limit": 100}
    if with_marker:
        params["marker"] = marker_at(dataset, sort, 0.5)
    plan = explain(page_query(client, dataset, **params))
    scans = item_scans(plan)
    assert [node["Node Type"] for node in scans] == ["Index Scan"], scans
    assert not [node for node in nodes(plan) if node["Node Type"] in ("Sort", "Incremental Sort")]
    lookups = marker_lookups(plan)
    assert len(lookups) == (0 if not with_marker or sort.startswith("id:") else 1), lookups
    for lookup in lookups:  # by the marker's id, one row, read once
        assert lookup["Node Type"] == "Index Scan" and "id)::text = " in lookup["Index Cond"], lookup
        assert (lookup["Actual Rows"], lookup["Actual Loops"]) == (1, 1), lookup


@pytest.mark.postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("sort", MIXED_SORTS)
def test_a_mixed_direction_page_after_a_marker_uses_an_index(dataset, sort):
    """Mixed directions: an index serves the first key; no Seq Scan of the item table."""
    client = token_client(dataset)
    plan = explain(page_query(client, dataset, sort=sort, limit=100, marker=marker_at(dataset, sort, 0.5)))
    assert all(node["Node Type"].startswith("Index") for node in item_scans(plan)), item_scans(plan)


@pytest.mark.postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("sort", SORTS + MIXED_SORTS[:1])
def test_a_page_deep_in_the_list_reads_no_more_than_the_first(dataset, sort):
    """Keyset paging: the page at 99% depth reads about as many rows and buffers as the first page."""
    client = token_client(dataset)
    first = explain(page_query(client, dataset, sort=sort, limit=20))
    deep = explain(page_query(client, dataset, sort=sort, limit=20, marker=marker_at(dataset, sort, 0.99)))
    read = {
        name: sum(rows_read(node) for node in item_scans(plan))
        for name, plan in (("first", first), ("deep", deep))
    }
    assert read["deep"] <= read["first"] * 1.5 + 5, read
    assert buffers(deep) <= buffers(first) * 1.5 + 10, (buffers(first), buffers(deep))


def count_query(client, project, **params):
    """The SQL and parameters of a count request's one query."""
    [query] = item_table_queries(client, f"/v1/{project}/checkpoint_items/count", params)
    return query


def test_every_per_project_index_ends_with_gone_at():
    """The API's reads all say ``gone_at IS NULL``: with it in the key, a per-project index answers it."""
    per_project = [index for index in CheckpointItem._meta.indexes if index.name.startswith("item_proj_")]
    assert per_project
    for index in per_project:
        last = index.fields[-1] if index.fields else index.expressions[-1].name
        assert last == "gone_at", index.name


@pytest.mark.postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [{}, {"status": "error"}, {"status": "error", "image_type": "backup"}],
)
def test_a_count_by_the_indexed_filters_reads_gone_at_from_the_index(dataset, params):
    """A count's ``gone_at IS NULL`` is an index condition of a per-project index, not a filter on the
    table's rows, so the count can be an Index Only Scan (which the bench shows on its vacuumed table).
    The plan is taken with the item table's other indexes dropped inside the test's transaction
    (rolled back after it) and Seq Scans and bitmap scans off: at this size the planner would
    rather use a single-column index and filter the rows."""
    sql, sql_params = count_query(token_client(dataset), dataset, **params)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'backups_checkpointitem'::regclass "
            "AND NOT indisprimary AND NOT indisunique AND indexrelid::regclass::text NOT LIKE 'item_proj_%%'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        for path in ("seqscan", "bitmapscan"):
            cursor.execute(f"SET LOCAL enable_{path} = off")
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, sql_params)
        plan = cursor.fetchone()[0]
    plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    [scan] = [node for node in nodes(plan) if node.get("Relation Name") == "backups_checkpointitem"]
    assert scan["Node Type"] in ("Index Scan", "Index Only Scan") and scan["Index Name"].startswith("item_proj_"), scan
    assert "gone_at IS NULL" in scan["Index Cond"] and "gone_at" not in scan.get("Filter", ""), scan
