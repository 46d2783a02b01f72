"""Settings of the scale-out topology: the replica alias and its router, PgBouncer's needs, bounded waits."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_DIR

PROBE = """
import json
import project.settings as s
print(json.dumps({
    "DATABASES": {alias: {"OPTIONS": db.get("OPTIONS", {}), "HOST": db.get("HOST"), "PORT": db.get("PORT"),
                          "DISABLE_SERVER_SIDE_CURSORS": db.get("DISABLE_SERVER_SIDE_CURSORS"),
                          "CONN_HEALTH_CHECKS": db.get("CONN_HEALTH_CHECKS"),
                          "TEST": db.get("TEST")}
                  for alias, db in s.DATABASES.items()},
    "ROUTERS": getattr(s, "DATABASE_ROUTERS", []),
    "MIDDLEWARE": s.MIDDLEWARE,
    "PIN": s.REPLICA_PIN_SECONDS,
}))
"""
PRIMARY = "postgres://app@10.0.0.1:6432/backups"
REPLICA = "postgres://app@10.0.0.2:6432/backups_replica"
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 1, "keepalives_count": 3}


def settings_under(**env):
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_DIR, capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": PRIMARY, **env},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_without_a_replica_there_is_one_database_and_no_router():
    loaded = settings_under()
    assert list(loaded["DATABASES"]) == ["default"]
    assert loaded["ROUTERS"] == []
    assert "backups.db.router.ReplicaRoutingMiddleware" not in loaded["MIDDLEWARE"]


def test_a_replica_url_adds_the_replica_alias_its_router_and_middleware():
    loaded = settings_under(REPLICA_DATABASE_URL=REPLICA)
    replica = loaded["DATABASES"]["replica"]
    assert (replica["HOST"], replica["PORT"]) == ("10.0.0.2", 6432)
    assert replica["TEST"] == {"MIRROR": "default"}
    assert loaded["ROUTERS"] == ["backups.db.router.PrimaryReplicaRouter"]
    middleware = loaded["MIDDLEWARE"]
    # Right after the request id (its log lines name the request), before sessions (which write).
    assert middleware.index("backups.db.router.ReplicaRoutingMiddleware") == middleware.index("backups.middleware.RequestIdMiddleware") + 1
    assert middleware.index("backups.db.router.ReplicaRoutingMiddleware") < middleware.index("django.contrib.sessions.middleware.SessionMiddleware")


def test_metrics_middleware_is_first_so_that_it_times_everything():
    assert settings_under()["MIDDLEWARE"][0] == "backups.metrics.MetricsMiddleware"
    assert "backups.metrics.MetricsMiddleware" not in settings_under(METRICS_ENABLED="0")["MIDDLEWARE"]


@pytest.mark.parametrize(
    "env, options",
    [
        ({}, {"connect_timeout": 2, **KEEPALIVES}),
        ({"DB_QUERY_TIMEOUT": "3"}, {"connect_timeout": 2, **KEEPALIVES, "tcp_user_timeout": 4000, "options": "-c statement_timeout=3000"}),
        # PgBouncer 1.18 refuses the `options` startup parameter: the pooler sets statement_timeout.
        ({"DB_QUERY_TIMEOUT": "3", "DB_PGBOUNCER": "1"}, {"connect_timeout": 2, **KEEPALIVES, "tcp_user_timeout": 4000}),
    ],
)
def test_libpq_options_bound_the_waits_of_both_databases(env, options):
    loaded = settings_under(REPLICA_DATABASE_URL=REPLICA, **env)
    for alias in ("default", "replica"):
        assert loaded["DATABASES"][alias]["OPTIONS"] == options, alias


@pytest.mark.parametrize("pgbouncer, disabled", [("0", False), ("1", True)])
def test_pgbouncer_transaction_mode_disables_server_side_cursors_and_health_checks(pgbouncer, disabled):
    loaded = settings_under(REPLICA_DATABASE_URL=REPLICA, DB_PGBOUNCER=pgbouncer)
    assert {alias: db["DISABLE_SERVER_SIDE_CURSORS"] for alias, db in loaded["DATABASES"].items()} == {"default": disabled, "replica": disabled}
    # Never Django's per-request SELECT 1 on PostgreSQL: project.db_health looks at the socket instead
    # (and behind the pooler a connection outlives server restarts anyway).
    assert {alias: db["CONN_HEALTH_CHECKS"] for alias, db in loaded["DATABASES"].items()} == {"default": False, "replica": False}


def test_the_pin_outlasts_the_lag_bound_and_the_check_interval():
    assert settings_under(REPLICA_MAX_LAG="5", REPLICA_CHECK_INTERVAL="1")["PIN"] == 7
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_DIR, capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ.get("PATH", ""), "DATABASE_URL": PRIMARY, "REPLICA_MAX_LAG": "5", "REPLICA_PIN_SECONDS": "3"},
    )
    assert result.returncode != 0
    assert "REPLICA_PIN_SECONDS must exceed REPLICA_MAX_LAG + REPLICA_CHECK_INTERVAL" in result.stderr
