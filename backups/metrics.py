"""Prometheus metrics (``prometheus-client``): requests, latencies, database queries, sync runs.

Exposed at ``/metrics`` (``backups.health.metrics``) to Prometheus only: with ``METRICS_TOKEN`` set,
a request must send ``Authorization: Bearer <token>``; without it, only a loopback caller that came
through no proxy (no ``X-Forwarded-For``) is answered. nginx refuses ``/metrics`` from outside
(``deploy/nginx/backups.conf``); Prometheus scrapes each app server directly.

With several gunicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` (one empty folder per gunicorn
instance; ``gunicorn.conf.py`` empties it at start and drops dead workers' files): every worker
writes its values there and ``/metrics`` adds them up. Without it each process counts alone.

**For the sync** (or any background job) — call these, the labels stay few (a source, never a
project)::

    from backups import metrics

    with metrics.sync_run("csbs") as run:      # counts the run, its duration and its outcome
        ...
        run.add_items(len(page))               # items written
    # on success: backups_sync_last_success_timestamp_seconds{source="csbs"} = now

    metrics.record_sync_run("cbr", outcome="failed", duration=12.5, items=0)   # the same, by hand

Per request the cost is one histogram observation (children cached, no ``labels()`` lookup on the
hot path); per query, one counter increment and one clock read (``QueryMetrics``).
"""

import contextlib
import time

from prometheus_client import Counter, Gauge, Histogram

REQUEST_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

REQUESTS = Histogram(
    "backups_http_request_duration_seconds",
    "Time to produce a response (the view and the middleware), by method, view and status.",
    ["method", "view", "status"],
    buckets=REQUEST_BUCKETS,
)
DB_QUERIES = Counter("backups_db_queries_total", "SQL statements executed, by database alias.", ["database"])
DB_QUERY_SECONDS = Counter(
    "backups_db_query_seconds_total", "Time spent in SQL statements, by database alias.", ["database"]
)
DB_QUERY_ERRORS = Counter(
    "backups_db_query_errors_total", "SQL statements that raised, by database alias.", ["database"]
)
SYNC_RUNS = Counter("backups_sync_runs_total", "Sync runs, by source and outcome.", ["source", "outcome"])
SYNC_DURATION = Histogram(
    "backups_sync_run_duration_seconds",
    "Duration of sync runs, by source.",
    ["source"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
)
SYNC_ITEMS = Counter("backups_sync_items_total", "Items written by sync runs, by source.", ["source"])
SYNC_LAST_SUCCESS = Gauge(
    "backups_sync_last_success_timestamp_seconds",
    "Unix time of the last successful run, by source.",
    ["source"],
    multiprocess_mode="max",
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


# --- the sync's hook ----------------------------------------------------------------------------
class SyncRun:
    """One run in progress (``sync_run``): ``add_items(n)`` as items are written."""

    def __init__(self, source):
        self.source = source
        self.items = 0

    def add_items(self, count):
        self.items += count


@contextlib.contextmanager
def sync_run(source):
    """Count one sync run of ``source``: outcome ``ok`` or ``failed`` (an exception), duration, items."""
    run = SyncRun(source)
    started = time.monotonic()
    try:
        yield run
    except BaseException:
        record_sync_run(source, outcome="failed", duration=time.monotonic() - started, items=run.items)
        raise
    record_sync_run(source, outcome="ok", duration=time.monotonic() - started, items=run.items)


def record_sync_run(source, *, outcome, duration, items=0):
    """Record a finished run; ``outcome`` is ``ok`` or another short word (``failed``, ``partial``)."""
    SYNC_RUNS.labels(source, outcome).inc()
    SYNC_DURATION.labels(source).observe(duration)
    if items:
        SYNC_ITEMS.labels(source).inc(items)
    if outcome == "ok":
        SYNC_LAST_SUCCESS.labels(source).set(time.time())


# --- requests -----------------------------------------------------------------------------------
class MetricsMiddleware:
    """First in ``MIDDLEWARE``: the time to produce each response, by method, view and status."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._children = {}

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        key = (
            request.method if request.method in _METHODS else "other",
            match.view_name if match is not None else "unmatched",
            response.status_code,
        )
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = REQUESTS.labels(key[0], key[1], str(key[2]))
        child.observe(elapsed)
        return response


# --- database queries ---------------------------------------------------------------------------
class QueryMetrics:
    """A Django execute wrapper: counts and times every statement of one database alias."""

    def __init__(self, alias):
        self.queries = DB_QUERIES.labels(alias)
        self.seconds = DB_QUERY_SECONDS.labels(alias)
        self.errors = DB_QUERY_ERRORS.labels(alias)

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        except Exception:
            self.errors.inc()
            raise
        finally:
            self.queries.inc()
            self.seconds.inc(time.perf_counter() - started)


def instrument_connection(sender, connection, **kwargs):
    """``connection_created`` receiver: wrap the connection's statements once (reconnects reuse it)."""
    if not any(isinstance(wrapper, QueryMetrics) for wrapper in connection.execute_wrappers):
        connection.execute_wrappers.append(QueryMetrics(connection.alias))
