"""backups.listing.statements: the API's SQL compiled once per query shape, reused with each request's values.

A reused statement must be the very SQL and parameters the ORM builds for the request (scope,
filters, sort, marker), run where the router sends the request's reads; a shape whose values the
ORM transforms is built by the ORM every time.
"""
import pytest
from django.db import connections
from django.db.models.sql import compiler, query
from django.http import QueryDict
from django.test import override_settings

from backups.listing import keyset, selectors, statements
from backups.listing.parameters import ListParameters
from backups.listing.selectors import ItemQuery, checkpoint_item_scope
from backups.models import CheckpointItem
from tests.api.helpers import ids, token_client
from tests.conftest import database_vendor
from tests.factories import create_items, item_dict

pytestmark = pytest.mark.django_db

DAYS = [f"2024-05-0{1 + n % 4}T00:00:00" for n in range(8)]


@pytest.fixture(autouse=True)
def fresh_statements():
    for cache in (selectors.PAGES, selectors.COUNTS, selectors.DOCUMENTS):
        cache.clear()


@pytest.fixture
def items():
    for project in ("p", "q"):
        create_items(
            project,
            *(
                item_dict(
                    id=f"{project}{n}",
                    name=f"N{n % 3}%",
                    status=("available", "error")[n % 2],
                    created_at=DAYS[n],
                    backup_data__eip=f"10.0.0.{n % 2}",
                    extend_info__resource_az=f"az{n % 2}",
                )
                for n in range(8)
            ),
        )


def item_query(project, query_string):
    parameters = ListParameters.read(QueryDict(query_string))
    assert parameters.valid, parameters.errors
    return parameters, ItemQuery(project, parameters.all_tenants).filtered(parameters.filterset)


def orm_page(project, query_string):
    """The page's SQL as the ORM builds it without statements (the browse pages' way)."""
    parameters = ListParameters.read(QueryDict(query_string))
    scope = checkpoint_item_scope(project, all_tenants=parameters.all_tenants)
    paging = parameters.paging
    page = keyset.page_queryset(parameters.filter(scope), scope, parameters.ordering, paging.marker)
    return statements.query_sql(page[paging.offset : paging.offset + paging.limit], "default")


def orm_count(project, query_string):
    parameters = ListParameters.read(QueryDict(query_string), validate_paging=False)
    return parameters.filter(checkpoint_item_scope(project, all_tenants=parameters.all_tenants))


#: (first request, a request of the same shape with other values, reused?): the reuse is pinned.
SHAPES = [
    ("limit=3", "limit=5&offset=2", True),
    ("status=available&marker=p3", "status=error&marker=q5&limit=2", True),
    ("ip=10.0.0.1&dec=false", "ip=10.0.0.0&dec=false", True),
    ("sort=name:asc,created_at:desc&marker=p2", "sort=name:asc,created_at:desc&marker=q6", True),
    ("sort=id:asc&marker=p2&az=az1", "sort=id:asc&marker=q1&az=az0", True),
    ("all_tenants=true&marker=q4&limit=4", "all_tenants=true&marker=p1&limit=4", True),
    (
        "resource_id=r1&checkpoint_id=c1&policy_id=x&image_type=backup&resource_type=t",
        "resource_id=r2&checkpoint_id=c2&policy_id=y&image_type=replication&resource_type=u",
        True,
    ),
    # Timestamps: parameters as they are on PostgreSQL; written as text on SQLite (built every time).
    (
        "start_time=2024-05-02T00:00:00Z&end_time=2024-05-03T00:00:00Z",
        "start_time=2024-05-01&end_time=2024-05-04T12:00:00%2B02:00",
        database_vendor() == "postgresql",
    ),
    # The name filter's value becomes an escaped, folded pattern: built every time.
    ("name=n1", "name=n2%", False),
]


@pytest.mark.parametrize(("first", "second", "reused"), SHAPES)
def test_a_statement_is_the_sql_the_orm_builds_for_every_request_of_its_shape(items, first, second, reused):
    for project, query_string in (("p", first), ("q", second), ("p", second), ("q", first)):
        parameters, items_query = item_query(project, query_string)
        statement = items_query.page_statement(parameters.ordering, parameters.paging)
        sql, params = orm_page(project, query_string)
        assert (statement.sql, statement.params, statement.alias) == (sql, tuple(params), "default")
    assert selectors.PAGES.builds == (1 if reused else 4)


@pytest.mark.parametrize(("first", "second", "reused"), SHAPES)
def test_a_reused_statement_answers_the_page_and_the_count_the_orm_answers(items, first, second, reused):
    for project, query_string in (("p", first), ("q", second), ("q", first), ("p", second)):
        parameters, items_query = item_query(project, query_string)
        try:
            page = items_query.page(parameters.ordering, parameters.paging, fetch=list_ids)
        except keyset.MarkerNotFound:
            page = None
        scope = checkpoint_item_scope(project, all_tenants=parameters.all_tenants)
        try:
            expected = keyset.keyset_page(parameters.filter(scope), scope, parameters.ordering, parameters.paging)
        except keyset.MarkerNotFound:
            assert page is None
        else:
            assert [row["id"] for row in page.rows] == [row["id"] for row in expected.rows]
        assert items_query.count() == orm_count(project, query_string).count()


def list_ids(statement):
    with connections[statement.alias].cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        return [{"id": row[0]} for row in cursor.fetchall()]


@pytest.mark.parametrize(
    "query_string", ["", "status=error&image_type=backup", "all_tenants=true&az=az1", "ip=10.0.0.1&dec=true"]
)
def test_the_count_statement_is_the_sql_count_runs(items, query_string):
    queryset = orm_count("p", query_string)
    ran = []

    def capture(execute, sql, params, many, context):
        ran.append((sql, tuple(params)))
        return execute(sql, params, many, context)

    with connections["default"].execute_wrapper(capture):
        queryset.count()
    sql, params = statements.count_sql(queryset, "default")
    assert ran == [(sql, tuple(params))]


def test_a_reused_statement_keeps_the_scope_and_leaves_gone_items_out(items):
    CheckpointItem.objects.filter(pk__in=["p2", "q3"]).update(gone_at="2024-06-01T00:00:00Z")
    p, q = token_client("p"), token_client("q")
    for _ in range(2):  # the second of each shape runs the reused statement
        assert ids(p.get("/v1/p/checkpoint_items")) == ["p7", "p3", "p6", "p5", "p1", "p4", "p0"]
        assert ids(q.get("/v1/q/checkpoint_items", {"limit": 3})) == ["q7", "q6", "q2"]
        assert p.get("/v1/p/checkpoint_items/count").json() == {"count": 7}
        assert q.get("/v1/q/checkpoint_items/count", {"status": "error"}).json() == {"count": 3}
        assert p.get("/v1/p/checkpoint_items/p1").json()["checkpoint_item"]["id"] == "p1"
        assert p.get("/v1/p/checkpoint_items/p2").status_code == 404  # gone
        assert p.get("/v1/p/checkpoint_items/q1").status_code == 404  # another project
        assert q.get("/v1/q/checkpoint_items", {"marker": "p1"}).status_code == 400  # not its marker
    assert (selectors.PAGES.builds, selectors.COUNTS.builds, selectors.DOCUMENTS.builds) == (2, 2, 1)


class Compiled(AssertionError):
    pass


def test_a_repeated_request_of_a_shape_builds_and_compiles_no_queryset(items, monkeypatch, django_assert_num_queries):
    api = token_client("p")
    paths = [
        ("/v1/p/checkpoint_items?limit=2&marker=p5&status=available", "/v1/p/checkpoint_items?limit=3&marker=p6&status=error"),
        ("/v1/p/checkpoint_items/count?az=az1", "/v1/p/checkpoint_items/count?az=az0"),
        ("/v1/p/checkpoint_items/p1", "/v1/p/checkpoint_items/p6"),
    ]
    for first, _ in paths:
        assert api.get(first).status_code == 200  # compiled (and the token remembered)

    def refuse(*args, **kwargs):
        raise Compiled("the ORM built or compiled a query")

    monkeypatch.setattr(compiler.SQLCompiler, "as_sql", refuse)
    monkeypatch.setattr(query.Query, "add_q", refuse)
    for _, again in paths:
        with django_assert_num_queries(1):  # the statement alone
            assert api.get(again).status_code == 200


class RecordingRouter:
    """Sends reads where the default router would, and notes each question."""

    asked = []

    def db_for_read(self, model, **hints):
        self.asked.append(model)
        return "default"


@override_settings(DATABASE_ROUTERS=["tests.listing.test_statements.RecordingRouter"])
def test_every_request_asks_the_router_where_its_statement_runs(items):
    api = token_client("p")
    ran = []

    def capture(execute, sql, params, many, context):
        ran.append(sql)
        return execute(sql, params, many, context)

    for path in ("/v1/p/checkpoint_items?limit=2", "/v1/p/checkpoint_items/count", "/v1/p/checkpoint_items/p1"):
        api.get(path)  # compiled
        RecordingRouter.asked.clear()
        with connections["default"].execute_wrapper(capture):
            assert api.get(path).status_code == 200  # reused
        assert CheckpointItem in RecordingRouter.asked
        assert [sql for sql in ran if "backups_checkpointitem" in sql]
        ran.clear()


def test_the_shapes_kept_are_bounded_and_the_oldest_is_forgotten(items):
    cache = statements.StatementCache(CheckpointItem, max_shapes=2)

    def build(inputs):
        return checkpoint_item_scope(inputs["project_id"]).filter(status=inputs["status"])[: inputs["limit"]]

    for limit in (1, 2, 3, 1):
        cache.statement({"project_id": "p", "status": "error", "limit": limit}, build)
    assert cache.builds == 4  # limit=1 was forgotten when limit=3 came
    cache.statement({"project_id": "q", "status": "available", "limit": 1}, build)
    assert cache.builds == 4
