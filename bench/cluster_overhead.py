"""What the scale-out adds to every request and every statement, measured in-process (no server).

    .venv/bin/python bench/cluster_overhead.py                         # one process's metrics
    PROMETHEUS_MULTIPROC_DIR=$(mktemp -d) .venv/bin/python bench/cluster_overhead.py   # as under gunicorn

Times each piece around a view that does nothing: the metrics middleware, the replica routing
middleware (context variable, pin cookie), the router's decision outside a request, and the query
metrics wrapper around one statement. Best of 5 rounds of 200,000 calls.
"""

import os
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("REPLICA_DATABASE_URL", "sqlite:////tmp/bench-overhead-replica-unused.sqlite3")

import django  # noqa: E402

django.setup()

from django.http import HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from backups.db.router import PrimaryReplicaRouter, ReplicaRoutingMiddleware  # noqa: E402
from backups.metrics import MetricsMiddleware, QueryMetrics  # noqa: E402
from backups.models import CheckpointItem  # noqa: E402

CALLS = 200_000


def main():
    request = RequestFactory().get("/v1/p/checkpoint_items")
    response = HttpResponse("x")

    def view(_request):
        return response

    metrics, routing, router = MetricsMiddleware(view), ReplicaRoutingMiddleware(view), PrimaryReplicaRouter()
    statement = QueryMetrics("default")

    def execute(sql, params, many, context):
        return None

    pieces = [
        ("the view alone", lambda: view(request)),
        ("MetricsMiddleware", lambda: metrics(request)),
        ("ReplicaRoutingMiddleware", lambda: routing(request)),
        ("router.db_for_read outside a request", lambda: router.db_for_read(CheckpointItem)),
        ("QueryMetrics around one statement", lambda: statement(execute, "", None, False, None)),
    ]
    mode = "multiprocess" if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else "single process"
    print(f"bench/cluster_overhead.py ({mode} metrics), microseconds per call:")
    for label, call in pieces:
        seconds = min(timeit.repeat(call, number=CALLS, repeat=5)) / CALLS
        print(f"  {label:40} {seconds * 1e6:6.2f}")


if __name__ == "__main__":
    main()
