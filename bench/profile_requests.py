#!/usr/bin/env python
"""Where a request's time goes: cProfile of a list (``limit=10``), a count and a detail, in-process.

    make profile                    # or: .venv/bin/python bench/profile_requests.py
    .venv/bin/python bench/profile_requests.py --requests 500 --top 30
    .venv/bin/python bench/profile_requests.py --path '/v1/{big}/checkpoint_items?limit=100'

The requests go through ``project.wsgi.application`` itself, with the production settings the bench
servers use (``bench/run.py``), on the quick benchmark's dataset (built if missing: 40,000 items,
``bench/run.py --quick``) or on ``BENCH_DATABASE_URL``. For each request: the wall time per request
without the profiler, then, under cProfile, the share of the time by area (the database round
trip, building SQL, parameter validation, authentication, DRF, Django's handler and middleware,
our code) and the functions with the most time of their own and the most cumulative time. Last,
the wall time of a request that Django answers without a query (a CSBS 404 under ``/v1/``),
the framework's own floor, beside the others. ``{small}``/``{big}`` in ``--path`` stand for the
two projects' ids.

Each request is the same one repeated, in a warm process: its parameters are remembered after the
first (``ParameterMemory``), as a client's repeated query is. Over HTTP, in a gunicorn worker that
other processes share the CPU with, the same work costs about twice as much (caches gone cold
between requests): times here are a lower bound, and a saving here shows about doubled there.
"""

import argparse
import cProfile
import io
import logging
import pstats
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

#: (area, predicate on ``(file, function name)``), the first that matches wins.
AREAS = (
    ("database round trip (psycopg2 execute/fetch)", lambda f, n: "psycopg2" in n or "psycopg2" in f),
    ("building SQL (django.db.models)", lambda f, n: "/django/db/models/" in f),
    ("connection handling (django.db backends)", lambda f, n: "/django/db/" in f),
    ("parameter validation (forms, django-filter)", lambda f, n: "/forms/" in f or "django_filters" in f),
    ("DRF (rest_framework)", lambda f, n: "/rest_framework/" in f),
    ("middleware (django.middleware, contrib)", lambda f, n: "/django/middleware/" in f or "/contrib/" in f),
    ("Django request/response (handlers, http, urls)", lambda f, n: "/django/" in f),
    ("whitenoise", lambda f, n: "whitenoise" in f),
    ("our code (backups, project)", lambda f, n: "/backups/" in f or "/project/" in f),
    ("Python stdlib and builtins", lambda f, n: True),
)


def environ(path, token):
    target, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": target,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_X_AUTH_TOKEN": token,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def call(application, path, token):
    """One request through the WSGI application, as gunicorn drives it; returns the status line."""
    status = []

    def start_response(line, headers, exc_info=None):
        status.append(line)

    result = application(environ(path, token), start_response)
    try:
        for _ in result:
            pass
    finally:
        result.close()
    return status[0]


def _area(file, name):
    for area, matches in AREAS:
        if matches(file, name):
            return area
    return AREAS[-1][0]


def by_area(stats):
    """``[(area, seconds of own time)]``, largest first."""
    totals = {}
    for (file, _, name), (_, _, own, _, _) in stats.stats.items():
        area = _area(file, name)
        totals[area] = totals.get(area, 0.0) + own
    return sorted(totals.items(), key=lambda item: -item[1])


def profile(application, name, path, token, requests, top, expect="200"):
    status = call(application, path, token)
    if not status.startswith(expect):
        raise SystemExit(f"{name}: {path} answered {status}")
    for _ in range(20):
        call(application, path, token)
    started = time.perf_counter()
    for _ in range(requests):
        call(application, path, token)
    wall = (time.perf_counter() - started) / requests
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        call(application, path, token)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(own for _, _, own, _, _ in stats.stats.values())
    print(f"\n=== {name}: GET {path}")
    print(f"{wall * 1e6:,.0f} µs per request without the profiler ({requests} requests, in-process)")
    if top == 0:
        return wall
    print("Share of the profiled time by area (own time of the functions in it):")
    for area, seconds in by_area(stats):
        print(f"  {seconds / total:6.1%}  {seconds / requests * 1e6:8,.0f} µs  {area}")
    for order, title in (("tottime", "own time"), ("cumulative", "cumulative time")):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(top)
        body = out.getvalue()
        print(f"Top {top} by {title} (per {requests} requests):")
        print(body[body.index("   ncalls") :].rstrip() if "   ncalls" in body else body)
    return wall


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per profile (default 300)")
    parser.add_argument("--top", type=int, default=20, help="functions listed per table (default 20)")
    parser.add_argument("--path", action="append", help="profile this path instead (repeatable)")
    args = parser.parse_args(argv)

    import os

    from bench import run

    url = run.database_url(run.QUICK_DATASET)
    os.environ.update(run.server_environment(url))
    import django

    django.setup()
    run.ensure_dataset(url, run.QUICK_DATASET)
    from bench import workloads

    whale, tenant, _ = workloads._projects()
    keys = workloads._keys(workloads._users(), whale, tenant)
    detail_id = workloads._sort_rows(whale[0], None, (0.5,))[0.5]
    big, small = whale[0], tenant[0]
    if args.path:
        paths = [(p, p.format(big=big, small=small), keys[big if "{big}" in p else small]) for p in args.path]
    else:
        paths = [
            ("list, small project, limit=10", f"/v1/{small}/checkpoint_items?limit=10", keys[small]),
            (
                "count, big project, 2 filters",
                f"/v1/{big}/checkpoint_items/count?status=error&image_type=backup",
                keys[big],
            ),
            ("detail, big project", f"/v1/{big}/checkpoint_items/{detail_id}", keys[big]),
        ]
    from django.db import connection

    connection.close()  # the servers' connection settings from here on, as in a fresh worker
    from project.wsgi import application

    walls = {}
    for name, path, token in paths:
        walls[name] = profile(application, name, path, token, args.requests, args.top)
    # Django's own floor: a CSBS 404 under /v1/ through every middleware, the URL resolver and a
    # view, without a query (its WARNING log line is silenced here, as it is not part of a 200).
    logging.getLogger("django.request").setLevel(logging.ERROR)
    reference = "Django alone: /v1/ 404, every middleware, no query"
    walls[reference] = profile(application, reference, "/v1/no-such-path", "", args.requests, 0, "404")
    print("\nWall time per request, in-process, without the profiler:")
    for name, wall in walls.items():
        print(f"  {wall * 1e6:8,.0f} µs  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
