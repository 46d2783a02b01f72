"""``/healthz``, ``/readyz``, ``/metrics`` and the metrics' API (``backups.health``, ``backups.metrics``)."""

import pytest
from prometheus_client import REGISTRY

from backups import metrics

pytestmark = pytest.mark.django_db


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert response["Cache-Control"] == "no-store"


def test_readyz_asks_the_primary_and_without_a_replica_says_nothing_of_one(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready", "primary": "ok"})


@pytest.mark.parametrize(
    "remote, headers, token, expected",
    [
        ("127.0.0.1", {}, "", 200),  # no token configured: loopback only
        ("::1", {}, "", 200),
        ("10.1.2.3", {}, "", 403),
        ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}, "", 403),  # came through a proxy
        ("10.1.2.3", {"HTTP_AUTHORIZATION": "Bearer s3cret-token"}, "s3cret-token", 200),
        ("127.0.0.1", {}, "s3cret-token", 403),  # a token is configured: loopback is not enough
        ("127.0.0.1", {"HTTP_AUTHORIZATION": "Bearer wrong"}, "s3cret-token", 403),
    ],
)
def test_metrics_are_for_the_scraper_only(client, settings, remote, headers, token, expected):
    settings.METRICS_TOKEN = token
    response = client.get("/metrics", REMOTE_ADDR=remote, **headers)
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Type"].startswith("text/plain")
        assert b"backups_http_request_duration_seconds" in response.content


def test_a_request_is_counted_by_method_view_and_status(client):
    before = sample("backups_http_request_duration_seconds_count", method="GET", view="healthz", status="200")
    client.get("/healthz")
    client.get("/healthz")
    assert sample("backups_http_request_duration_seconds_count", method="GET", view="healthz", status="200") == before + 2


def test_every_statement_is_counted_and_timed_by_database(client):
    queries = sample("backups_db_queries_total", database="default")
    seconds = sample("backups_db_query_seconds_total", database="default")
    client.get("/readyz")  # SELECT 1
    assert sample("backups_db_queries_total", database="default") == queries + 1
    assert sample("backups_db_query_seconds_total", database="default") > seconds


def test_a_sync_run_records_its_outcome_duration_items_and_last_success():
    ok = sample("backups_sync_runs_total", source="test-csbs", outcome="ok")
    with metrics.sync_run("test-csbs") as run:
        run.add_items(3)
        run.add_items(4)
    assert sample("backups_sync_runs_total", source="test-csbs", outcome="ok") == ok + 1
    assert sample("backups_sync_items_total", source="test-csbs") >= 7
    assert sample("backups_sync_run_duration_seconds_count", source="test-csbs") >= 1
    last = sample("backups_sync_last_success_timestamp_seconds", source="test-csbs")
    assert last > 1.7e9

    with pytest.raises(RuntimeError), metrics.sync_run("test-csbs"):
        raise RuntimeError("upstream down")
    assert sample("backups_sync_runs_total", source="test-csbs", outcome="failed") >= 1
    assert sample("backups_sync_last_success_timestamp_seconds", source="test-csbs") == last  # a failure is no success


def test_in_production_the_probes_are_answered_over_plain_http_and_everything_else_is_redirected():
    from tests.test_production_settings import production_responses

    responses = production_responses(["/healthz", "/metrics", "/v1/openapi.json"])
    assert responses["/healthz"]["plain"] == [200, None]  # a load balancer probes over plain HTTP
    assert responses["/metrics"]["plain"][0] == 200  # not redirected (the test client is on loopback)
    assert responses["/v1/openapi.json"]["plain"][0] == 301
