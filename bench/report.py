"""The benchmark's table and its verdict on issue 7's targets."""

import statistics

from bench import coverage

PAGE_WORKLOADS = ("tenant p1 limit=1000", "whale p1 limit=1000")


def _by_name(results):
    return {w["name"]: w for w in results["workloads"]}


def _median(workload, impl):
    times = workload.get("times", {}).get(impl)
    return times["median"] if times else None


def evaluate(results):
    """Adds ``targets`` (name, met, measured) and ``all_met`` to ``results``."""
    named = _by_name(results)
    targets = []

    def target(name, met, measured):
        targets.append({"target": name, "met": met, "measured": measured})

    for name in PAGE_WORKLOADS:
        w = named[name]
        ours, floor, peer = (_median(w, i) for i in ("ours", "floor", "peer"))
        target(
            f"{name}: <= 0.5x the floor",
            ours <= 0.5 * floor,
            f"{ours / floor:.2f}x ({ours:.1f} vs {floor:.1f} ms)",
        )
        target(f"{name}: >= 8x faster than the peer", peer >= 8 * ours, f"{peer / ours:.1f}x ({peer:.0f} ms)")
    worst, buffers = [], []
    for w in results["workloads"]:
        if w["group"] == "sort" and "@" in w["name"]:
            first = named[w["name"].split(" @")[0] + " p1"]
            worst.append((_median(w, "ours") / _median(first, "ours"), w["name"]))
            buffers.append((w["explain"]["buffers"] / first["explain"]["buffers"], w["name"]))
    ratio, name = max(worst)
    target(
        "marker at any depth <= 1.2x the first page (every sort, mixed too)",
        ratio <= 1.2,
        f"worst median {ratio:.2f}x ({name}); EXPLAIN buffers at most {max(buffers)[0]:.2f}x "
        f"({max(buffers)[1]})",
    )
    fuzzy = named["fuzzy name all selective"]
    target(
        "selective fuzzy search across all tenants <= 20 ms",
        _median(fuzzy, "ours") <= 20,
        f"{_median(fuzzy, 'ours'):.1f} ms (name); resource_name "
        f"{_median(named['fuzzy resource_name all selective'], 'ours'):.1f} ms",
    )
    lists = [w for w in results["workloads"] if not w["name"].startswith("count")]
    target(
        "no COUNT in a list request",
        not any(w.get("count_sql") for w in lists),
        f"{sum(bool(w.get('count_sql')) for w in lists)} of {len(lists)} list requests ran a COUNT",
    )
    by_limit = results["queries_by_limit"]
    most = max([w["queries"] for w in lists] + list(by_limit.values()))
    same = (
        by_limit["limit=1"] == by_limit["limit=1000"]
        and by_limit["limit=1 marker"] == by_limit["limit=1000 marker"]
    )
    target(
        "<= 3 queries per request, the same for any limit",
        most <= 3 and same,
        f"max {most}; " + ", ".join(f"{k}: {v}" for k, v in by_limit.items()),
    )
    for limit, goal in (("1000", 150), ("10", 600)):
        rows = [r for r in results["throughput"] if r["workload"].endswith(f"limit={limit}")]
        best = max(r["ours"] for r in rows)
        target(
            f">= {goal} req/s at limit={limit}",
            best >= goal,
            ", ".join(f"{r['clients']} client(s): {r['ours']:.0f}/s" for r in rows),
        )
    imported = results["import"]
    if "items_per_s" in imported:
        flat = imported["rss_max_mb"] <= imported["rss_at_20pct_mb"] * 1.25 + 20
        target(
            "import >= 10,000 items/s with flat memory",
            imported["items_per_s"] >= 10_000 and flat,
            f"{imported['items_per_s']:,.0f} items/s; RSS {imported['rss_at_20pct_mb']:.0f} MB at 20% of the "
            f"time, max {imported['rss_max_mb']:.0f} MB",
        )
    else:
        target(
            "import >= 10,000 items/s with flat memory",
            None,
            f"not measured: {imported.get('skipped') or imported.get('error', '')[:300]}",
        )
    for name, page in results["pages"].items():
        if "skipped" in page:
            target(f"{name} <= 300 ms", None, f"not measured: {page['skipped']}")
        else:
            target(
                f"{name} <= 300 ms",
                page["median"] <= 300,
                f"{page['median']:.0f} ms median, p95 {page['p95']:.0f} ms, {page['queries']} queries",
            )
    tenant_scans = [
        w["name"] for w in results["workloads"] if w["tenant"] and w.get("explain", {}).get("seq_scan")
    ]
    target(
        "no Seq Scan on backups_checkpointitem for tenant queries",
        not tenant_scans,
        ", ".join(tenant_scans) or "none",
    )
    different = [w["name"] for w in results["workloads"] if not w.get("same_json")]
    target(
        "ours, the floor and the peer return the same JSON", not different, ", ".join(different) or "all same"
    )
    if "coverage" in results:
        for name, met, measured in coverage.targets(results["coverage"]):
            target(name, met, measured)
    results["targets"] = targets
    results["all_met"] = all(t["met"] is not False for t in targets)


def _fmt(value, digits=1):
    return "-" if value is None else f"{value:.{digits}f}"


def render(results):
    lines = []
    p = results["params"]
    lines.append(
        f"Dataset: {p['items']:,} items over {p['projects']:,} projects (seed {p['seed']}); "
        f"whale {results['whale'][1]:,} items, tenant {results['tenant'][1]:,} items. "
        f"gunicorn sync x{results['workers']} each; load average at start "
        f"{', '.join(f'{x:.1f}' for x in results['loadavg_start'])}, at end "
        f"{', '.join(f'{x:.1f}' for x in results['loadavg_end'])}."
    )
    lines.append(
        "Times: ms over loopback HTTP, one new connection per request; median / p95. "
        "x floor = ours/floor (lower is better); x peer = peer/ours (higher is better)."
    )
    lines.append("")
    header = (
        f"{'workload':44} {'n':>5} {'ours med':>8} {'p95':>7} {'floor med':>9} {'p95':>7} {'peer med':>8} "
        f"{'p95':>7} {'x floor':>7} {'x peer':>6} {'q ours':>6} {'q peer':>6} {'same':>4}"
    )
    lines.append(header)
    lines.append("-" * len(header))
    for w in results["workloads"]:
        t = w.get("times", {})
        ours, floor, peer = (t.get(i, {}) for i in ("ours", "floor", "peer"))
        lines.append(
            f"{w['name'][:44]:44} {w.get('returned', '-'):>5} "
            f"{_fmt(ours.get('median')):>8} {_fmt(ours.get('p95')):>7} "
            f"{_fmt(floor.get('median')):>9} {_fmt(floor.get('p95')):>7} {_fmt(peer.get('median')):>8} "
            f"{_fmt(peer.get('p95')):>7} "
            f"{_fmt(ours['median'] / floor['median'], 2) if ours and floor else '-':>7} "
            f"{_fmt(peer['median'] / ours['median']) if ours and peer else '-':>6} "
            f"{w.get('queries', '-'):>6} {w.get('peer_queries', '-'):>6} "
            f"{'yes' if w.get('same_json') else 'NO':>4}"
        )
    lines.append("")
    lines.append("Pages (staff session, ours):")
    for name, page in results["pages"].items():
        if "skipped" in page:
            lines.append(f"  {name} {page['path']}: skipped ({page['skipped']})")
        else:
            lines.append(
                f"  {name} {page['path']}: median {page['median']:.1f} ms, p95 {page['p95']:.1f} ms, "
                f"{page['queries']} queries, COUNT: {'yes' if page['count_sql'] else 'no'}"
            )
    lines.append("")
    lines.append("Throughput (requests/s):")
    for row in results["throughput"]:
        lines.append(
            f"  {row['workload']:24} {row['clients']} client(s): ours {row['ours']:7.0f}   "
            f"floor {row['floor']:7.0f}   peer {row['peer']:7.1f}"
        )
    lines.append("")
    from bench import importing

    lines.extend(importing.render(results["import"]))
    lines.append("")
    lines.append(
        "Queries of a tenant list request by limit: "
        + ", ".join(f"{k}: {v}" for k, v in results["queries_by_limit"].items())
    )
    lines.append("")
    lines.append("EXPLAIN (ANALYZE, BUFFERS) of our page query:")
    for w in results["workloads"]:
        if "explain" in w:
            flag = "  SEQ SCAN!" if w["explain"]["seq_scan"] else ""
            lines.append(f"  {w['name'][:44]:44} {w['explain']['summary']}{flag}")
    lines.append("")
    if "coverage" in results:
        lines += coverage.render(results["coverage"]) + [""]
    lines.append("Targets:")
    for t in results["targets"]:
        verdict = {True: "MET   ", False: "MISSED", None: "n/a   "}[t["met"]]
        lines.append(f"  {verdict} {t['target']}: {t['measured']}")
    ratios = [
        w["times"]["ours"]["median"] / w["times"]["floor"]["median"]
        for w in results["workloads"]
        if "floor" in w.get("times", {})
    ]
    lines.append(
        f"  (geometric mean of ours/floor over all workloads: {statistics.geometric_mean(ratios):.2f}x)"
    )
    return "\n".join(lines)
