"""The benchmark's run: servers, same-JSON check, workloads, throughput, import, EXPLAIN, targets."""

import http.client
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
PYTHON = sys.executable
IMPLS = ("ours", "floor", "peer")
WORKERS = 4
SORTS = [
    f"{key}:{direction}"
    for key in ("created_at", "updated_at", "name", "status", "protected_at", "id")
    for direction in ("desc", "asc")
]
MIXED_SORT = "status:asc,created_at:desc"


# --- servers ---------------------------------------------------------------------------------------


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    app: str
    settings: str
    workers: int = WORKERS
    server: str = "gunicorn"  # or "granian" (WSGI interface), if installed
    port: int = 0
    process: subprocess.Popen = None

    def command(self):
        if self.server == "granian":
            return [
                PYTHON,
                "-m",
                "granian",
                "--interface",
                "wsgi",
                "--workers",
                str(self.workers),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                self.app,
            ]
        log_path = BENCH_DIR / "data" / f"gunicorn-{self.name}.log"
        return [
            PYTHON,
            "-m",
            "gunicorn",
            "--workers",
            str(self.workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--error-logfile",
            str(log_path),
            "--log-level",
            "warning",
            self.app,
        ]

    def start(self, env):
        self.port = _free_port()
        self.process = subprocess.Popen(
            self.command(),
            cwd=REPO_DIR,
            env={**os.environ, **env, "DJANGO_SETTINGS_MODULE": self.settings},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    log_name = f"bench/data/gunicorn-{self.name}.log"
                    raise RuntimeError(f"{self.name} server exited; see {log_name}") from None
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} server did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def fetch(port, path, headers):
    """``(status, body bytes, response headers, seconds)`` of one GET on a new connection."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    seconds = time.perf_counter() - started
    connection.close()
    return response.status, body, dict(response.getheaders()), seconds


# --- workloads -------------------------------------------------------------------------------------


@dataclass
class Workload:
    name: str
    group: str
    project: str
    params: dict
    token: str = "project"  # "project": the project's own token; "admin": an admin token
    count: bool = False
    tenant: bool = True  # restricted to one project: its page query must not scan the table
    impls: tuple = IMPLS
    reps: dict = field(default_factory=dict)  # repetitions per implementation
    result: dict = field(default_factory=dict)

    def path(self):
        suffix = "/count" if self.count else ""
        query = f"?{urlencode(self.params)}" if self.params else ""
        return f"/v1/{self.project}/checkpoint_items{suffix}{query}"


def _sort_rows(project, sort, depths):
    """The ids at ``depths`` (fractions) of ``project``'s items in ``sort``, and the project's size."""
    from backups.listing.ordering import Ordering
    from backups.listing.selectors import checkpoint_item_scope

    scope = checkpoint_item_scope(project)
    size = scope.count()
    ordered = Ordering.parse(sort).apply(scope)
    return {depth: ordered.values_list("id", flat=True)[int(size * depth)] for depth in depths}


def _pick_terms():
    """Search terms found in the data: a selective and a broad one for ``name`` and ``resource_name``."""
    from django.db import connection

    with connection.cursor() as cursor:
        # A name fragment held by few items: four hex digits of an automatic backup's name.
        cursor.execute(
            "SELECT substr(name_folded, 8, 4), count(*) FROM backups_checkpointitem "
            "WHERE name_folded LIKE 'autobk\\_%%' GROUP BY 1 ORDER BY abs(count(*) - 15), 1 LIMIT 1"
        )
        name_selective = cursor.fetchone()[0]
        cursor.execute(
            "SELECT resource_name_folded, count(*) FROM backups_checkpointitem GROUP BY 1 "
            "ORDER BY abs(count(*) - 40), 1 LIMIT 1"
        )
        resource_selective = cursor.fetchone()[0]
    return {
        "name_selective": name_selective,
        "name_broad": "autobk",
        "resource_selective": resource_selective,
        "resource_broad": "web",
    }


def _projects():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT project_id, count(*) FROM backups_checkpointitem GROUP BY 1 ORDER BY 2 DESC")
        counts = cursor.fetchall()
    whale = counts[0]
    # The tenant: an ordinary project (not the two largest) big enough for a full page of 1000.
    ordinary = [row for row in counts[2:] if row[1] >= 1100]
    tenant = ordinary[len(ordinary) // 2] if ordinary else counts[min(2, len(counts) - 1)]
    return whale, tenant, counts


def build_workloads(whale, tenant, terms, quick):
    # Ours is fast and noise matters most there (the depth ratios); the others are slow.
    reps = {"ours": 7, "floor": 5, "peer": 2} if quick else {"ours": 31, "floor": 11, "peer": 5}
    w, t = whale[0], tenant[0]
    workloads = [
        Workload("tenant p1 limit=1000", "page", t, {"limit": 1000}),
        Workload("tenant p1 limit=10", "page", t, {"limit": 10}),
        Workload(
            "tenant 3 filters", "filter", t, {"status": "available", "image_type": "backup", "dec": "false"}
        ),
        Workload("whale p1 limit=1000", "page", w, {"limit": 1000}),
        Workload(
            "whale 3 filters",
            "filter",
            w,
            {"status": "available", "image_type": "backup", "az": "cn-north-1a"},
        ),
        Workload("whale offset=50000", "offset", w, {"offset": 50000, "limit": 1000}),
    ]
    depths = (0.5, 0.99)
    for sort in SORTS + [MIXED_SORT]:
        markers = _sort_rows(w, sort, depths)
        workloads.append(Workload(f"whale sort={sort} p1", "sort", w, {"sort": sort, "limit": 1000}))
        for depth in depths:
            workloads.append(
                Workload(
                    f"whale sort={sort} @{depth:.0%}",
                    "sort",
                    w,
                    {"sort": sort, "limit": 1000, "marker": markers[depth]},
                )
            )
    workloads += [
        Workload("fuzzy name tenant selective", "fuzzy", w, {"name": terms["name_selective"]}),
        Workload("fuzzy name tenant broad", "fuzzy", w, {"name": terms["name_broad"]}),
        Workload(
            "fuzzy resource_name tenant selective", "fuzzy", w, {"resource_name": terms["resource_selective"]}
        ),
        Workload("fuzzy resource_name tenant broad", "fuzzy", w, {"resource_name": terms["resource_broad"]}),
        Workload(
            "fuzzy name all selective",
            "fuzzy-all",
            w,
            {"name": terms["name_selective"], "all_tenants": "true"},
            token="admin",
            tenant=False,
        ),
        Workload(
            "fuzzy name all broad",
            "fuzzy-all",
            w,
            {"name": terms["name_broad"], "all_tenants": "true"},
            token="admin",
            tenant=False,
        ),
        Workload(
            "fuzzy resource_name all selective",
            "fuzzy-all",
            w,
            {"resource_name": terms["resource_selective"], "all_tenants": "true"},
            token="admin",
            tenant=False,
        ),
        Workload(
            "fuzzy resource_name all broad",
            "fuzzy-all",
            w,
            {"resource_name": terms["resource_broad"], "all_tenants": "true"},
            token="admin",
            tenant=False,
        ),
        Workload(
            "count whale 2 filters", "count", w, {"status": "error", "image_type": "backup"}, count=True
        ),
        Workload(
            "count all 2 filters",
            "count",
            w,
            {"status": "error", "image_type": "backup", "all_tenants": "true"},
            count=True,
            token="admin",
            tenant=False,
        ),
    ]
    for workload in workloads:
        workload.reps = reps
    return workloads


# --- query counts and EXPLAIN (in-process, the same code as the servers) ------------------------------


def _plan_nodes(node, out):
    label = node["Node Type"]
    if node.get("Index Name"):
        label += f" using {node['Index Name']}"
    if node.get("Relation Name"):
        label += f" on {node['Relation Name']}"
    out.append(label)
    for child in node.get("Plans", ()):
        _plan_nodes(child, out)
    return out


def explain(sql, params):
    """A one-line summary of ``EXPLAIN (ANALYZE, BUFFERS)`` and whether it scans the item table."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    root = plan[0]["Plan"]
    nodes = _plan_nodes(root, [])
    seq_scan = any(n.startswith("Seq Scan") and n.endswith("on backups_checkpointitem") for n in nodes)
    buffers = root.get("Shared Hit Blocks", 0) + root.get("Shared Read Blocks", 0)
    summary = (
        f"{' > '.join(nodes)} | rows={root['Actual Rows']} buffers={buffers} "
        f"exec={plan[0]['Execution Time']:.1f}ms"
    )
    return {
        "summary": summary,
        "seq_scan": seq_scan,
        "buffers": buffers,
        "execution_ms": plan[0]["Execution Time"],
    }


def count_queries(client, path, headers, urlconf=None):
    """``(status, [(sql, params)])`` of one request through Django in this process."""
    from django.db import connection
    from django.test.utils import override_settings

    captured = []

    def wrapper(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    settings = {"ROOT_URLCONF": urlconf} if urlconf else {}
    with override_settings(**settings), connection.execute_wrapper(wrapper):
        response = client.get(path, **headers)
    return response.status_code, captured


def _page_query(queries):
    """The query that reads the page (the last one selecting from the item table)."""
    for sql, params in reversed(queries):
        if "backups_checkpointitem" in sql and sql.lstrip().upper().startswith("SELECT"):
            return sql, params
    return None, None


# --- timing ---------------------------------------------------------------------------------------


def _summary(seconds):
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {"median": statistics.median(ms), "p95": p95, "n": len(ms)}


def time_workload(workload, ports, headers_of):
    """Interleaved repetitions (ours, floor, peer, ours, …) after one warm-up request each."""
    times = {impl: [] for impl in workload.impls}
    path = workload.path()
    for impl in workload.impls:
        fetch(ports[impl], path, headers_of(workload))
    for rep in range(max(workload.reps.values())):
        for impl in workload.impls:
            if rep >= workload.reps[impl]:
                continue
            status, _, _, seconds = fetch(ports[impl], path, headers_of(workload))
            if status != 200:
                raise RuntimeError(f"{impl} answered {status} to {path}")
            times[impl].append(seconds)
    return {impl: _summary(values) for impl, values in times.items() if values}


def _client_loop(args):
    port, path, headers, until = args
    done = 0
    while time.monotonic() < until:
        status, _, _, _ = fetch(port, path, headers)
        if status != 200:
            return -1
        done += 1
    return done


def throughput(port, path, headers, clients, seconds):
    """Requests per second with ``clients`` concurrent clients for ``seconds``: wrk, else Python processes."""
    if shutil.which("wrk"):
        args = [
            "wrk",
            "-t",
            str(min(clients, 2)),
            "-c",
            str(clients),
            "-d",
            f"{seconds}s",
            "--timeout",
            "30s",
        ]
        for name, value in headers.items():
            args += ["-H", f"{name}: {value}"]
        output = subprocess.run(
            args + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
        ).stdout
        if "Non-2xx" in output:
            raise RuntimeError(f"errors during the throughput run of {path}:\n{output}")
        return float(re.search(r"Requests/sec:\s*([0-9.]+)", output).group(1))
    until = time.monotonic() + seconds
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        counts = pool.map(_client_loop, [(port, path, headers, until)] * clients)
    if min(counts) < 0:
        raise RuntimeError(f"an error answer during the throughput run of {path}")
    return sum(counts) / seconds


# --- same JSON -------------------------------------------------------------------------------------


def _first_difference(a, b, where="$"):
    if type(a) is not type(b):
        return f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{where}.{key}: missing on one side"
            found = _first_difference(a[key], b[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} vs {len(b)} entries"
        for n, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _first_difference(x, y, f"{where}[{n}]")
            if found:
                return found
        return None
    return None if a == b else f"{where}: {str(a)[:60]!r} vs {str(b)[:60]!r}"


def same_json(workload, ports, headers_of):
    bodies = {}
    for impl in workload.impls:
        status, body, _, _ = fetch(ports[impl], workload.path(), headers_of(workload))
        if status != 200:
            return False, f"{impl} answered {status}: {body[:200]!r}", None
        bodies[impl] = json.loads(body)
    reference = bodies["ours"]
    for impl, body in bodies.items():
        difference = _first_difference(reference, body)
        if difference:
            return False, f"ours vs {impl}: {difference}", reference
    return True, "", reference


# --- import ---------------------------------------------------------------------------------------


# --- the run ----------------------------------------------------------------------------------------


def _users():
    """Tokens for the tenant, the whale and an admin, and a staff session; made afresh each run."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from backups.models import ApiToken

    User = get_user_model()
    User.objects.filter(username__startswith="bench-").delete()
    tokens = {}

    def token(name, project, is_admin=False):
        user = User.objects.create_user(f"bench-{name}", password=None)
        return ApiToken.issue(user=user, project_id=project, is_admin=is_admin)[1]

    staff = User.objects.create_user("bench-staff", password=None, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    tokens["session"] = client.cookies["sessionid"].value
    tokens["token"] = token
    return tokens


def _keys(users, whale, tenant):
    return {
        whale[0]: users["token"]("whale", whale[0]),
        tenant[0]: users["token"]("tenant", tenant[0]),
        "admin": users["token"]("admin", whale[0], is_admin=True),
    }


def _what_if(args):
    return {"server": args.server, "settings": args.ours_settings}


def run_fixed_cost(params, built, args, log):
    """``--quick``: issue 14's table alone (``bench/fixed_cost.py``)."""
    from django.core.management import call_command

    from bench import fixed_cost

    call_command("collectstatic", interactive=False, verbosity=0)
    whale, tenant, counts = _projects()
    keys = _keys(_users(), whale, tenant)
    log(f"big project {whale[0]} ({whale[1]:,} items), small project {tenant[0]} ({tenant[1]:,} items)")
    results = fixed_cost.run(
        whale, tenant, keys, workers=args.workers, quick=True, log=log, reps=args.reps, **_what_if(args)
    )
    p = params
    results["report"] = (
        f"Dataset: {p['items']:,} items over {p['projects']:,} projects (seed {p['seed']}); big project "
        f"{whale[1]:,} items, small project {tenant[1]:,} items.\n" + results["report"]
    )
    results.update(params=params, dataset=built, whale=whale, tenant=tenant)
    results["all_met"] = results["fixed_cost_met"]
    return results


def run(url, params, built, args, log):
    from django.core.management import call_command
    from django.test import Client

    from bench import coverage, report

    call_command("collectstatic", interactive=False, verbosity=0)
    whale, tenant, counts = _projects()
    users = _users()
    keys = _keys(users, whale, tenant)

    def headers_of(workload):
        return {"X-Auth-Token": keys["admin" if workload.token == "admin" else workload.project]}

    terms = _pick_terms()
    workloads = build_workloads(whale, tenant, terms, args.quick)
    log(
        f"whale {whale[0]} ({whale[1]:,} items), tenant {tenant[0]} ({tenant[1]:,} items), "
        f"{len(counts)} projects; terms {terms}; {len(workloads)} workloads"
    )

    servers = {
        "ours": Server("ours", "project.wsgi:application", "project.settings"),
        "floor": Server("floor", "bench.floor:application", "project.settings"),
        "peer": Server("peer", "bench.peer.wsgi:application", "bench.peer.settings"),
    }
    results = {
        "params": params,
        "dataset": built,
        "whale": whale,
        "tenant": tenant,
        "terms": terms,
        "workers": WORKERS,
        "loadavg_start": os.getloadavg(),
    }
    try:
        for server in servers.values():
            server.start({})
        for server in servers.values():
            server.wait()
        ports = {name: server.port for name, server in servers.items()}

        log("checking that ours, the floor and the peer return the same JSON")
        for workload in workloads:
            same, difference, body = same_json(workload, ports, headers_of)
            workload.result["same_json"] = same
            workload.result["difference"] = difference
            if body is not None:
                workload.result["returned"] = (
                    body["count"] if workload.count else len(body["checkpoint_items"])
                )
            if not same:
                log(f"  DIFFERENT: {workload.name}: {difference}")

        log("counting queries and explaining page queries (in-process, the same code)")
        client = Client()
        for workload in workloads:
            headers = {"HTTP_X_AUTH_TOKEN": headers_of(workload)["X-Auth-Token"]}
            status, queries = count_queries(client, workload.path(), headers)
            workload.result["queries"] = len(queries)
            workload.result["count_sql"] = any(re.search(r"\bCOUNT\(", sql, re.I) for sql, _ in queries)
            sql, sql_params = _page_query(queries)
            if sql is not None:
                workload.result["explain"] = explain(sql, sql_params)
            _, peer_queries = count_queries(client, workload.path(), headers, urlconf="bench.peer.urls")
            workload.result["peer_queries"] = len(peer_queries)
        limits = {}
        for limit in (1, 10, 1000):
            for marker in (False, True):
                query = {"limit": limit}
                if marker:
                    query["marker"] = _sort_rows(tenant[0], None, (0.5,))[0.5]
                path = f"/v1/{tenant[0]}/checkpoint_items?{urlencode(query)}"
                _, queries = count_queries(client, path, {"HTTP_X_AUTH_TOKEN": keys[tenant[0]]})
                limits[f"limit={limit}{' marker' if marker else ''}"] = len(queries)
        results["queries_by_limit"] = limits

        log("timing workloads")
        for number, workload in enumerate(workloads, 1):
            workload.result["times"] = time_workload(workload, ports, headers_of)
            times = workload.result["times"]
            log(
                f"  {number:2}/{len(workloads)} {workload.name}: "
                + ", ".join(f"{impl} {t['median']:.1f} ms" for impl, t in times.items())
            )

        log("timing the browse list and the admin change list (staff session)")
        results["pages"] = pages(ports["ours"], users["session"], client, args.quick)

        log("timing the coverage report")
        results["coverage"] = coverage.measure(
            ports["ours"], whale, tenant, lambda project: keys[project], client, args.quick, log
        )

        log("throughput")
        results["throughput"] = []
        seconds = 3 if args.quick else 8
        for workload in workloads[:2]:
            for clients in (1, 4):
                row = {"workload": workload.name, "clients": clients}
                for impl in IMPLS:
                    row[impl] = throughput(
                        ports[impl], workload.path(), headers_of(workload), clients, seconds
                    )
                results["throughput"].append(row)
                log(f"  {workload.name} x{clients}: " + ", ".join(f"{i} {row[i]:.0f}/s" for i in IMPLS))
    finally:
        for server in servers.values():
            server.stop()

    if args.quick or args.skip_import:
        results["import"] = {"skipped": "--quick or --skip-import"}
    else:
        from bench import importing

        results["import"] = importing.run(url.rsplit("/", 1)[0], 1_000_000, log)
    results["loadavg_end"] = os.getloadavg()
    results["workloads"] = [
        {"name": w.name, "group": w.group, "path": w.path(), "tenant": w.tenant, **w.result}
        for w in workloads
    ]
    report.evaluate(results)
    results["report"] = report.render(results)
    from bench import fixed_cost

    table = fixed_cost.run(
        whale, tenant, keys, workers=args.workers, quick=False, log=log, reps=args.reps, **_what_if(args)
    )
    results["fixed_cost"] = table
    results["report"] += "\n\n" + table["report"]
    results["all_met"] = results["all_met"] and table["fixed_cost_met"]
    return results


PAGES = {"browse list": "/", "admin change list": "/admin/backups/checkpointitem/"}


def pages(port, session, client, quick):
    out = {}
    for name, path in PAGES.items():
        headers = {"Cookie": f"sessionid={session}"}
        status, body, _, _ = fetch(port, path, headers)
        if status != 200:
            out[name] = {"path": path, "skipped": f"answered {status}: page not there yet (or not reachable)"}
            continue
        times = []
        for _ in range(5 if quick else 15):
            times.append(fetch(port, path, headers)[3])
        client.cookies["sessionid"] = session
        _, queries = count_queries(client, path, {})
        out[name] = {
            "path": path,
            **_summary(times),
            "queries": len(queries),
            "count_sql": any(re.search(r"\bCOUNT\(", sql, re.I) for sql, _ in queries),
        }
    return out
