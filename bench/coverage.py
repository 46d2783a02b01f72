"""The coverage report in the benchmark: ``GET /ext/v1/{project}/coverage`` on the whale and a tenant.

Timed over loopback HTTP against our server (there is no CSBS equivalent to compare with), its
queries counted for a page of 1 and of 1000 resources, and its one SQL query explained
(``EXPLAIN (ANALYZE, BUFFERS)``) to show that it walks the ``item_proj_resource_created`` index
and never scans the item table. ``make bench`` runs it with the rest; ``bench/run.py
--coverage-only`` runs only this part (and only our server).
"""

import datetime as dt
import json
import os
import statistics
import time
from urllib.parse import urlencode

#: The report's "now" in the bench: the dataset's anchor (bench.dataset.ANCHOR), so runs compare.
AS_OF = "2026-11-01T00:00:00Z"
TARGET_MS = 500  # "well under a second" for the whale, over HTTP
#: The database's CPU time for the whale's report query: what the load of a shared machine cannot inflate.
TARGET_CPU_MS = 300
INDEX = "item_proj_resource_created"
TABLE = "backups_checkpointitem"


def workloads(whale, tenant):
    """``[(name, project, params)]``: the default page, every resource, history, a tenant."""
    w, t = whale[0], tenant[0]
    return [
        ("coverage whale any p1", w, {"as_of": AS_OF}),
        ("coverage whale all limit=1000", w, {"as_of": AS_OF, "category": "all", "limit": 1000}),
        ("coverage whale as_of -30 d", w, {"as_of": "2026-10-02T00:00:00Z", "days": 3}),
        ("coverage whale az filter", w, {"as_of": AS_OF, "az": "cn-north-1a", "category": "all"}),
        ("coverage tenant any p1", t, {"as_of": AS_OF}),
    ]


def _path(project, params):
    return f"/ext/v1/{project}/coverage?{urlencode(params)}"


def _plan_summary(sql, params):
    from django.db import connection

    from bench.workloads import _plan_nodes

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    root = plan[0]["Plan"]
    nodes = _plan_nodes(root, [])
    return {
        "nodes": nodes,
        "uses_index": any(INDEX in node for node in nodes),
        "seq_scan_items": any(n.startswith("Seq Scan") and n.endswith(f"on {TABLE}") for n in nodes),
        "execution_ms": plan[0]["Execution Time"],
        "buffers": root.get("Shared Hit Blocks", 0) + root.get("Shared Read Blocks", 0),
    }


def _report_sql(project, params):
    """The report's SQL for ``project`` with ``params``, built in-process by the service's own code."""
    from django.http import QueryDict

    from backups.coverage.parameters import CoverageParameters
    from backups.coverage.report import coverage_sql
    from backups.models import CheckpointItem

    parameters = CoverageParameters.read(QueryDict(urlencode(params)))
    assert parameters.valid, parameters.errors
    scope = CheckpointItem.objects.filter(project_id=project)
    return coverage_sql(parameters.query(scope, dt.datetime.now(dt.timezone.utc)))


def explain(project, params):
    """The plan of the report query of ``project`` with ``params`` (in-process, the same SQL)."""
    return _plan_summary(*_report_sql(project, params))


def _backend_cpu_seconds(pid):
    """User + system CPU time of a PostgreSQL backend (``/proc``; the bench's cluster is local)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sql_cpu(project, params, reps):
    """Median wall ms of the report query run in-process, and the backend's CPU ms per query.

    On a machine shared with other work, wall times grow with the load; the CPU time the database
    spends on the query does not, so it is the figure to compare between runs.
    """
    from django.db import connection

    sql, sql_params = _report_sql(project, params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
        cursor.execute(sql, sql_params)  # warm-up
        cursor.fetchall()
        walls, cpu_before = [], _backend_cpu_seconds(pid)
        for _ in range(reps):
            started = time.perf_counter()
            cursor.execute(sql, sql_params)
            cursor.fetchall()
            walls.append((time.perf_counter() - started) * 1000)
        cpu = (_backend_cpu_seconds(pid) - cpu_before) * 1000 / reps
    return {"wall_median": statistics.median(walls), "cpu_ms": cpu}


def measure(port, whale, tenant, token_of, client, quick, log):
    """Times, query counts and plans of the coverage workloads; ``token_of(project)`` is a token."""
    from bench.workloads import _summary, count_queries, fetch

    reps = 5 if quick else 15
    results = []
    for name, project, params in workloads(whale, tenant):
        path, headers = _path(project, params), {"X-Auth-Token": token_of(project)}
        status, body, _, _ = fetch(port, path, headers)
        if status != 200:
            raise RuntimeError(f"coverage answered {status} to {path}: {body[:300]!r}")
        counts = json.loads(body)["counts"]
        times = [fetch(port, path, headers)[3] for _ in range(reps)]
        _, queries = count_queries(client, path, {"HTTP_X_AUTH_TOKEN": token_of(project)})
        row = {"name": name, "path": path, "counts": counts, "returned": len(json.loads(body)["resources"]),
               "queries": len(queries), **_summary(times), "explain": explain(project, params),
               "sql": sql_cpu(project, params, reps)}
        results.append(row)
        log(f"  {name}: {row['median']:.1f} ms median, SQL {row['sql']['cpu_ms']:.0f} ms CPU, "
            f"{counts['resources']:,} resources, {row['queries']} queries")
    by_limit = {}
    for limit in (1, 1000):
        path = _path(whale[0], {"as_of": AS_OF, "category": "all", "limit": limit})
        by_limit[limit] = len(count_queries(client, path, {"HTTP_X_AUTH_TOKEN": token_of(whale[0])})[1])
    return {"workloads": results, "queries_by_limit": by_limit}


def targets(coverage):
    """``[(target, met, measured)]`` of the coverage part."""
    whale = [w for w in coverage["workloads"] if w["name"].startswith("coverage whale")]
    slowest = max(whale, key=lambda w: w["median"])
    by_limit = coverage["queries_by_limit"]
    # Without a filter the report walks its own index; a filter may pick the filter's index instead.
    plans = [
        w for w in coverage["workloads"]
        if w["explain"]["seq_scan_items"] or ("filter" not in w["name"] and not w["explain"]["uses_index"])
    ]
    hungriest = max(whale, key=lambda w: w["sql"]["cpu_ms"])
    return [
        (f"coverage report of the whale < {TARGET_MS} ms over HTTP", slowest["median"] < TARGET_MS,
         f"slowest {slowest['name']}: {slowest['median']:.0f} ms median, p95 {slowest['p95']:.0f} ms "
         f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"),
        (f"coverage SQL of the whale < {TARGET_CPU_MS} ms of database CPU",
         hungriest["sql"]["cpu_ms"] < TARGET_CPU_MS,
         f"most: {hungriest['name']}: {hungriest['sql']['cpu_ms']:.0f} ms CPU "
         f"({hungriest['sql']['wall_median']:.0f} ms wall)"),
        ("coverage: the same queries for a page of 1 and of 1000", by_limit[1] == by_limit[1000],
         ", ".join(f"limit={k}: {v}" for k, v in by_limit.items())),
        (f"coverage SQL walks {INDEX} (unfiltered), never a Seq Scan on the items", not plans,
         ", ".join(w["name"] for w in plans) or "every workload"),
    ]


def render(coverage):
    lines = [
        "Coverage report (GET /ext/v1/{project}/coverage, ours only): HTTP median/p95 over loopback, then "
        "the report's SQL alone in-process: wall median and the database backend's CPU time per query (ms)"
    ]
    for w in coverage["workloads"]:
        c = w["counts"]
        lines.append(
            f"  {w['name']:32} median {w['median']:7.1f}  p95 {w['p95']:7.1f}  "
            f"SQL {w['sql']['wall_median']:6.1f} wall {w['sql']['cpu_ms']:6.1f} CPU  {w['queries']} queries  "
            f"{c['resources']:,} resources ({c['unprotected']:,} unprotected, {c['failing']:,} failing, "
            f"{c['unreplicated']:,} unreplicated), {w['returned']} returned"
        )
    lines.append("  EXPLAIN (ANALYZE, BUFFERS) of the report query:")
    for w in coverage["workloads"]:
        e = w["explain"]
        lines.append(
            f"    {w['name']:32} exec {e['execution_ms']:.1f} ms, buffers {e['buffers']}: "
            + " > ".join(e["nodes"])
        )
    return lines


def run_only(params, built, args, log):
    """``bench/run.py --coverage-only``: our server alone, the coverage workloads, their targets."""
    import os

    from django.core.management import call_command
    from django.test import Client

    from bench import workloads as bench

    call_command("collectstatic", interactive=False, verbosity=0)
    whale, tenant, counts = bench._projects()
    users = bench._users()
    keys = {whale[0]: users["token"]("whale", whale[0]), tenant[0]: users["token"]("tenant", tenant[0])}
    log(f"whale {whale[0]} ({whale[1]:,} items), tenant {tenant[0]} ({tenant[1]:,} items), "
        f"{len(counts)} projects")
    server = bench.Server("ours", "project.wsgi:application", "project.settings")
    results = {"params": params, "dataset": built, "whale": whale, "tenant": tenant,
               "loadavg_start": os.getloadavg()}
    try:
        server.start({})
        server.wait()
        results["coverage"] = measure(server.port, whale, tenant, keys.__getitem__, Client(), args.quick, log)
    finally:
        server.stop()
    results["loadavg_end"] = os.getloadavg()
    met = targets(results["coverage"])
    lines = [
        f"Dataset: {params['items']:,} items over {params['projects']:,} projects (seed {params['seed']}); "
        f"whale {whale[1]:,} items, tenant {tenant[1]:,} items; load average "
        f"{', '.join(f'{x:.1f}' for x in results['loadavg_start'])} at start.",
        "",
        *render(results["coverage"]),
        "",
        "Targets:",
        *(f"  {'MET   ' if ok else 'MISSED'} {name}: {measured}" for name, ok, measured in met),
    ]
    results["report"] = "\n".join(lines)
    results["all_met"] = all(ok for _, ok, _ in met)
    return results
