"""Issue 14's table: the fixed cost of a request, the big project's first page, flat depth, beside the floor.

Ours (``project.wsgi`` under gunicorn, sync workers, production settings) and the floor
(``bench/floor.py`` with ``BENCH_FLOOR_BODY=documents``: one query that aggregates the stored
documents of the same page with ``json_agg``, behind a bare WSGI callable, as many sync workers)
run on the same cluster and data. Every row's bodies are first checked to be the same JSON, ours
against that floor and against issue 7's floor, which builds each item from its columns (so the
stored documents are checked too). Then all rows are timed together, round-robin: each repetition
sends every row's request to ours and to the floor, the order of the two alternating, so that the
noise of a shared machine falls on every row alike. Times are p50 of single requests over loopback
HTTP, one new connection each; throughput is ``wrk`` with 4 connections. The verdicts are ratios
measured in this one run, never absolute times.

A marker row sends a different marker in each repetition (``MARKERS`` ids in a row at that depth),
as a client paging through a listing does: every page's query string is new to the server, so no
memory of a query string (``backups.listing.parameters.ParameterMemory``) can answer it as a
repeat. Every marker's bodies are checked.

The framework floor (``bench/framework_floor``: Django under the same settings and gunicorn
workers, no DRF, no middleware, answering the floor's very SQL on Django's connection) runs beside
them for a small page, the count and the detail (and the ``limit=10`` throughput), its bodies
checked like the others and its times taken in the same round-robin. Its ratio to the floor is what
Django's request cycle costs by itself; the rest of ours' excess over the floor is DRF, the
middleware, authentication, the parameters and our code. It has no target: it explains them.
"""

import os
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bench import workloads as common

IMPLS = ("ours", "floor")  # timed
CHECKED = (*IMPLS, "columns")  # compared, not timed
FRAMEWORK = "framework"  # timed and compared on the rows that ask for it (``Row.framework``)
DEPTHS = (0.5, 0.99)
#: Markers per marker row, consecutive ids at its depth: one per repetition, in turn.
MARKERS = 20
THROUGHPUT_CLIENTS = 4


@dataclass
class Row:
    key: str
    label: str
    project: str
    params: dict = field(default_factory=dict)
    kind: str = "list"  # list, count or detail
    item_id: str = ""
    token: str = "project"  # or "admin"
    #: ("floor", x): ours <= x * floor; ("first", x): ours <= x * ours of the big first page.
    target: tuple = ()
    framework: bool = False  # also timed on the framework floor
    markers: tuple = ()  # a marker row's markers, one per repetition in turn
    result: dict = field(default_factory=dict)

    @property
    def impls(self):
        return (*IMPLS, FRAMEWORK) if self.framework else IMPLS

    @property
    def tenant(self):
        return self.token != "admin"

    def path(self, rep=0):
        """The request's path; a marker row's has the marker of repetition ``rep``."""
        tail = {"list": "", "count": "/count", "detail": f"/{self.item_id}"}[self.kind]
        params = dict(self.params)
        if self.markers:
            params["marker"] = self.markers[rep % len(self.markers)]
        query = f"?{urlencode(params)}" if params else ""
        return f"/v1/{self.project}/checkpoint_items{tail}{query}"

    def paths(self):
        """Every path the row sends (a marker row: one per marker)."""
        return [self.path(rep) for rep in range(max(len(self.markers), 1))]


def _markers_at(project, depth, count):
    """``count`` consecutive ids of ``project``'s items in the default sort, from ``depth`` on."""
    from backups.listing.ordering import Ordering
    from backups.listing.selectors import checkpoint_item_scope

    scope = checkpoint_item_scope(project)
    start = int(scope.count() * depth)
    return tuple(Ordering.parse(None).apply(scope).values_list("id", flat=True)[start : start + count])


def build_rows(whale, tenant):
    """The table's rows. ``whale``/``tenant``: ``(project_id, items)`` of the big and the small project."""
    w, t = whale[0], tenant[0]
    detail_id = common._sort_rows(w, None, DEPTHS)[0.5]
    rows = [
        Row("small-1000", "small project, limit=1000", t, {"limit": 1000}, target=("floor", 0.5)),
        Row("small-10", "small project, limit=10", t, {"limit": 10}, target=("floor", 1.5), framework=True),
        Row("big-first", "big project, first page, limit=100", w, {"limit": 100}, target=("floor", 1.2)),
    ]
    for depth in DEPTHS:
        rows.append(
            Row(
                f"big-{depth:.0%}",
                f"big project, marker at {depth:.0%} depth",
                w,
                {"limit": 100},
                target=("first", 1.1),
                markers=_markers_at(w, depth, MARKERS),
            )
        )
    rows += [
        Row(
            "all-100",
            "all projects, limit=100 (admin)",
            w,
            {"limit": 100, "all_tenants": "true"},
            token="admin",
            target=("floor", 1.2),
        ),
        Row(
            "count",
            "count, big project, 2 filters",
            w,
            {"status": "error", "image_type": "backup"},
            kind="count",
            target=("floor", 1.2),
            framework=True,
        ),
        Row(
            "detail",
            "detail, big project",
            w,
            kind="detail",
            item_id=detail_id,
            target=("floor", 1.5),
            framework=True,
        ),
    ]
    return rows


#: (row key, goal): ours' requests/s >= goal x the floor's, with THROUGHPUT_CLIENTS clients
#: (the framework floor's too on a row that has it).
THROUGHPUT = (("small-10", 0.6), ("small-1000", 2.0))


def _check(rows, ports, headers_of, log):
    """Same JSON, query counts, COUNT in lists and EXPLAIN of page queries (in-process)."""
    from django.test import Client

    class _Adapter:  # what common.same_json expects of a workload
        def __init__(self, row, path):
            self.impls = (*CHECKED, FRAMEWORK) if row.framework else CHECKED
            self.path, self.count = (lambda: path), row.kind == "count"

    client = Client()
    for row in rows:
        for path in row.paths():
            headers = lambda _w, row=row: headers_of(row)  # noqa: E731
            same, difference, _ = common.same_json(_Adapter(row, path), ports, headers)
            if not same:
                log(f"  DIFFERENT: {row.label}: {path}: {difference}")
                break
        row.result.update(same_json=same, difference=difference)
        headers = {"HTTP_X_AUTH_TOKEN": headers_of(row)["X-Auth-Token"]}
        common.count_queries(client, row.path(), headers)  # steady state: the token is remembered
        _, queries = common.count_queries(client, row.path(), headers)
        row.result["queries"] = len(queries)
        row.result["count_sql"] = any(re.search(r"\bCOUNT\(", sql, re.I) for sql, _ in queries)
        if row.kind == "list":
            sql, params = common._page_query(queries)
            if sql is not None:
                row.result["explain"] = common.explain(sql, params)


def _time_rows(rows, ports, headers_of, reps, warmup=3):
    """p50/p95 per row and implementation, all rows interleaved in every repetition.

    Each repetition rotates the order of a row's implementations (ours first, then the floor first…).
    """
    times = {row.key: {impl: [] for impl in row.impls} for row in rows}
    for rep in range(warmup + reps):
        for row in rows:
            turn = rep % len(row.impls)
            for impl in row.impls[turn:] + row.impls[:turn]:
                path = row.path(rep)
                status, _, _, seconds = common.fetch(ports[impl], path, headers_of(row))
                if status != 200:
                    raise RuntimeError(f"{impl} answered {status} to {path}")
                if rep >= warmup:
                    times[row.key][impl].append(seconds)
    for row in rows:
        row.result["times"] = {impl: common._summary(values) for impl, values in times[row.key].items()}


def _throughput(rows, ports, headers_of, seconds, rounds):
    """``[{row, goal, ours, floor}]``: requests/s, the mean of ``rounds`` alternating wrk runs each."""
    by_key = {row.key: row for row in rows}
    out = []
    for key, goal in THROUGHPUT:
        row = by_key[key]
        measured = {impl: [] for impl in row.impls}
        for _ in range(rounds):
            for impl in row.impls:
                measured[impl].append(
                    common.throughput(ports[impl], row.path(), headers_of(row), THROUGHPUT_CLIENTS, seconds)
                )
        out.append(
            {
                "row": key,
                "label": f"throughput {row.label.split(', ')[1]}, {THROUGHPUT_CLIENTS} clients",
                "goal": goal,
                **{impl: sum(values) / len(values) for impl, values in measured.items()},
                "runs": measured,
            }
        )
    return out


def run(
    whale, tenant, keys, *, workers, quick, log, reps=None, server="gunicorn", settings="project.settings"
):
    """Start ours and the floor, check, time, and return the results with their rendered table.

    ``server`` and ``settings`` are ours' (what-if runs: ``--server granian``, ``--ours-settings``);
    the floor always runs under gunicorn.
    """
    rows = build_rows(whale, tenant)

    def headers_of(row):
        return {"X-Auth-Token": keys["admin" if row.token == "admin" else row.project]}

    servers = {
        "ours": common.Server("ours", "project.wsgi:application", settings, workers=workers, server=server),
        "floor": common.Server("floor", "bench.floor:application", "project.settings", workers=workers),
        FRAMEWORK: common.Server(
            FRAMEWORK,
            "bench.framework_floor.wsgi:application",
            "bench.framework_floor.settings",
            workers=workers,
        ),
        "columns": common.Server("columns", "bench.floor:application", "project.settings", workers=1),
    }
    bodies = {"floor": "documents", FRAMEWORK: "documents", "columns": "columns"}
    results = {
        "workers": workers,
        "server": server,
        "settings": settings,
        "uptime_start": _uptime(),
        "loadavg_start": os.getloadavg(),
    }
    try:
        for name, server in servers.items():
            server.start({"BENCH_FLOOR_BODY": bodies[name]} if name in bodies else {})
        for server in servers.values():
            server.wait()
        ports = {name: server.port for name, server in servers.items()}
        log("issue 14 table: checking that ours and both floors return the same JSON; queries; EXPLAIN")
        _check(rows, ports, headers_of, log)
        servers["columns"].stop()
        reps = reps or (150 if quick else 300)
        log(f"issue 14 table: timing {len(rows)} rows x {reps} repetitions, interleaved")
        started = time.monotonic()
        _time_rows(rows, ports, headers_of, reps)
        log(f"  done in {time.monotonic() - started:.0f} s")
        log("issue 14 table: throughput (wrk, 4 connections)")
        results["throughput"] = _throughput(rows, ports, headers_of, 4 if quick else 8, 2)
    finally:
        for server in servers.values():
            server.stop()
    results["uptime_end"] = _uptime()
    results["loadavg_end"] = os.getloadavg()
    evaluate(results, rows)  # first: it adds the marker rows' depth ratios that the table prints
    results["rows"] = [{"key": r.key, "label": r.label, "path": r.path(), **r.result} for r in rows]
    results["report"] = render(results)
    return results


def _uptime():
    try:
        with open("/proc/loadavg") as handle:
            return handle.read().strip()
    except OSError:
        return "?"


# --- verdicts and the table -----------------------------------------------------------------------


def _p50(row, impl):
    return row.result["times"][impl]["median"]


def evaluate(results, rows):
    """Adds ``verdicts`` ({row key: (target text, measured ratio, met)}) and ``fixed_cost_met``."""
    by_key = {row.key: row for row in rows}
    verdicts = {}
    for row in rows:
        basis, goal = row.target
        if basis == "floor":
            ratio = _p50(row, "ours") / _p50(row, "floor")
            verdicts[row.key] = (f"<= {goal}x floor", ratio, ratio <= goal)
        else:
            first = by_key["big-first"]
            ratio = _p50(row, "ours") / _p50(first, "ours")
            floor_ratio = _p50(row, "floor") / _p50(first, "floor")
            row.result["depth_ratio"] = {"ours": ratio, "floor": floor_ratio}
            verdicts[row.key] = (f"<= {goal}x first page", ratio, ratio <= goal)
    for entry in results["throughput"]:
        ratio = entry["ours"] / entry["floor"]
        verdicts[entry["label"]] = (f">= {entry['goal']}x floor req/s", ratio, ratio >= entry["goal"])
    checks = {
        "same JSON as both floors (stored documents, and built from columns) and the framework floor": [
            r.label for r in rows if not r.result.get("same_json")
        ],
        "no COUNT in a list": [r.label for r in rows if r.kind == "list" and r.result.get("count_sql")],
        "no Sort node in a first or marker page": [
            r.label
            for r in rows
            if r.kind == "list" and r.tenant and "Sort" in r.result.get("explain", {}).get("summary", "")
        ],
    }
    results["verdicts"] = verdicts
    results["checks"] = checks
    results["fixed_cost_met"] = all(met for _, _, met in verdicts.values()) and not any(checks.values())


def render(results):
    rows, verdicts = results["rows"], results["verdicts"]
    lines = [
        f"Issue 14: ours ({results['server']} x{results['workers']}, {results['settings']}) beside the floor,"
        f" json_agg of the stored documents (bare WSGI, gunicorn sync x{results['workers']}), same cluster "
        "and data.",
        f"Load (/proc/loadavg) at start: {results['uptime_start']}; at end: {results['uptime_end']}.",
        "p50 of single requests, one new connection each; ratios in this run decide.",
        "",
    ]
    header = (
        f"{'request':40} {'ours p50':>9} {'floor p50':>9} {'ours/floor':>10} {'q':>2}  "
        f"{'target':24} {'measured':>9}  verdict"
    )
    lines += [header, "-" * len(header)]
    for row in rows:
        ours, floor = row["times"]["ours"]["median"], row["times"]["floor"]["median"]
        target, ratio, met = verdicts[row["key"]]
        extra = ""
        if "depth_ratio" in row:
            extra = f"  (floor's depth ratio {row['depth_ratio']['floor']:.2f})"
        lines.append(
            f"{row['label']:40} {ours:7.2f}ms {floor:7.2f}ms {ours / floor:10.2f} {row['queries']:>2}  "
            f"{target:24} {ratio:8.2f}x  {'met' if met else 'MISSED'}{extra}"
        )
    for entry in results["throughput"]:
        target, ratio, met = verdicts[entry["label"]]
        lines.append(
            f"{entry['label']:40} {entry['ours']:5.0f}/s  {entry['floor']:5.0f}/s  {ratio:10.2f} {'':>2}  "
            f"{target:24} {ratio:8.2f}x  {'met' if met else 'MISSED'}"
        )
    lines += render_framework(results)
    lines.append("")
    for name, failures in results["checks"].items():
        verdict = "met   " if not failures else "MISSED"
        lines.append(f"  {verdict} {name}: {', '.join(failures) or 'every row'}")
    lines.append("  (q: queries of a repeated request of ours, in-process; throughput: mean of 2 runs)")
    lines.append("")
    lines.append("EXPLAIN (ANALYZE, BUFFERS) of our page queries:")
    for row in rows:
        if "explain" in row:
            lines.append(f"  {row['label'][:40]:40} {row['explain']['summary']}")
    return "\n".join(lines)


def render_framework(results):
    """The framework floor's lines: its ratio to the floor, and how much of ours' excess it is."""
    measured = [row for row in results["rows"] if FRAMEWORK in row["times"]]
    if not measured:
        return []
    lines = [
        "",
        "Framework floor (bench/framework_floor: Django, same settings and workers, no DRF, no middleware,",
        "the floor's SQL on Django's connection): what Django's request cycle costs by itself.",
        "",
        f"{'request':40} {'framework':>9} {'floor p50':>9} {'fw/floor':>9} {'ours/fw':>8}  "
        f"{'Django':>8} {'ours - floor':>12} {'Django share':>12}",
    ]
    lines.append("-" * len(lines[-1]))
    for row in measured:
        times = {impl: row["times"][impl]["median"] for impl in (*IMPLS, FRAMEWORK)}
        django = times[FRAMEWORK] - times["floor"]
        excess = times["ours"] - times["floor"]
        share = f"{django / excess:11.0%}" if excess > 0 else f"{'-':>11}"
        lines.append(
            f"{row['label']:40} {times[FRAMEWORK]:7.2f}ms {times['floor']:7.2f}ms "
            f"{times[FRAMEWORK] / times['floor']:9.2f} {times['ours'] / times[FRAMEWORK]:8.2f}  "
            f"{django:6.2f}ms {excess:10.2f}ms {share}"
        )
    for entry in results["throughput"]:
        if FRAMEWORK in entry:
            lines.append(
                f"{entry['label']:40} {entry[FRAMEWORK]:7.0f}/s {entry['floor']:7.0f}/s "
                f"{entry[FRAMEWORK] / entry['floor']:9.2f} {entry['ours'] / entry[FRAMEWORK]:8.2f}"
            )
    lines.append(
        "  (Django: framework - floor p50; ours - floor: ours' excess; Django share: the first of the second)"
    )
    return lines
