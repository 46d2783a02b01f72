"""Benchmark of the scale-out topology on loopback (``scripts/cluster``): throughput and a fault run.

    .venv/bin/python bench/cluster.py [--duration 10] [--connections 16] [--fault-seconds 24] [--keep]

Uses the running cluster (``scripts/cluster up``) or starts one (and removes it at the end unless
``--keep``). Every request goes to nginx on 127.0.0.1, with the demo admin token.

1. **Throughput** with ``wrk`` and ``bench/load/mix.lua`` (list, filtered list, detail, count, next
   page): two app servers with reads on the replica; one app server (app2 stopped); two app servers
   with reads on the primary (the replica stopped, the router falls back). On one 2-core machine
   every piece shares the same cores, so these figures show what each step costs, not the capacity
   that separate hosts would add.
2. **Fault run**: a Python load of ``--fault-threads`` keep-alive clients for ``--fault-seconds``;
   at 20 % of the run app1 is killed (SIGKILL to its whole process group, as a crash), at 45 % the
   replica is stopped, at 70 % started again; app1 is restarted after the run. Every answer other than
   200, and every connection error, counts as failed, by phase. The target: none.

The report is printed and saved under ``bench/results/cluster-<time>.txt``. Bounded: each wrk run
``--duration`` seconds, the fault run ``--fault-seconds``, every request a 10 s timeout.
"""

import argparse
import http.client
import json
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))

from cluster.topology import Topology, http_get  # noqa: E402

RESULTS_DIR = REPO_DIR / "bench" / "results"


def parse_wrk(text):
    """Requests/s, latency percentiles and failures from wrk's ``--latency`` output."""

    def number(pattern, default=0.0):
        match = re.search(pattern, text)
        return float(match.group(1)) if match else default

    def millis(label):
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if not match:
            return None
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    return {
        "requests": int(number(r"(\d+) requests in")),
        "rps": number(r"Requests/sec:\s+([\d.]+)"),
        "p50_ms": millis("50"),
        "p99_ms": millis("99"),
        "failed": int(number(r"Non-2xx or 3xx responses: (\d+)")) + socket_errors,
    }


def wrk(topology, ids_file, duration, connections):
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(REPO_DIR / "bench/load/mix.lua"),
        topology.base_url,
        "--",
        topology.state["token"],
        topology.state["project"],
        str(ids_file),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    if result.returncode != 0:
        raise SystemExit(f"wrk failed: {result.stdout}{result.stderr}")
    return parse_wrk(result.stdout)


def item_ids(topology, count=200):
    project, token = topology.state["project"], topology.state["token"]
    status, body = http_get(
        f"{topology.base_url}/v1/{project}/checkpoint_items?limit={count}", headers={"X-Auth-Token": token}
    )
    if status != 200:
        raise SystemExit(f"bench: listing ids failed: {status} {body}")
    return [item["id"] for item in body["checkpoint_items"]]


def wait_reads_on(topology, where, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(
            http_get(f"{topology.app_url(name)}/readyz")[1].get("reads_on") == where
            for name in ("app1", "app2")
            if name in topology.pids
        ):
            return
        time.sleep(0.2)
    raise SystemExit(f"bench: reads did not move to the {where} within {timeout}s")


# --- the fault run ------------------------------------------------------------------------------
class Load:
    """``threads`` clients, each on one keep-alive connection to nginx, until ``stop`` is set."""

    def __init__(self, topology, ids, threads):
        port = topology.ports["nginx"]
        project = topology.state["project"]
        self.headers = {"X-Auth-Token": topology.state["token"]}
        self.paths = [
            f"/v1/{project}/checkpoint_items?limit=20",
            f"/v1/{project}/checkpoint_items/count?status=available",
            *[f"/v1/{project}/checkpoint_items/{item_id}" for item_id in ids[:50]],
        ]
        self.port = port
        self.results = []  # (monotonic time, ok, what)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(threads)]

    def _client(self, number):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        index = number
        while not self.stop.is_set():
            path = self.paths[index % len(self.paths)]
            index += 7
            started = time.monotonic()
            try:
                connection.request("GET", path, headers=self.headers)
                response = connection.getresponse()
                response.read()
                ok, what = response.status == 200, str(response.status)
            except (OSError, http.client.HTTPException) as error:
                ok, what = False, error.__class__.__name__
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            self.results.append((started, ok, what, time.monotonic() - started))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)


def fault_run(topology, ids, seconds, threads, log):
    events = [
        (
            0.20,
            "kill app1 (SIGKILL, whole process group)",
            lambda: topology.stop_process("app1", signal.SIGKILL),
        ),
        (0.45, "stop the replica (pg_ctl stop -m fast)", lambda: topology.replica().stop("fast")),
        (0.70, "start the replica again", lambda: topology.replica().start()),
    ]
    marks = []
    with Load(topology, ids, threads) as load:
        started = time.monotonic()
        for fraction, label, action in events:
            time.sleep(max(0.0, started + fraction * seconds - time.monotonic()))
            marks.append((time.monotonic(), label))
            log(f"  t={time.monotonic() - started:5.1f}s {label}")
            action()
        time.sleep(max(0.0, started + seconds - time.monotonic()))
    topology.start_app("app1")
    phases = [("before the faults", started), *[(label, at) for at, label in marks]]
    rows = []
    for index, (label, begin) in enumerate(phases):
        end = phases[index + 1][1] if index + 1 < len(phases) else float("inf")
        chunk = [r for r in load.results if begin <= r[0] < end]
        failed = [r for r in chunk if not r[1]]
        kinds = sorted({r[2] for r in failed})
        slowest = max((r[3] for r in chunk), default=0.0)
        rows.append((label, len(chunk), len(failed), kinds, slowest))
    return rows


# --- the report ---------------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run (10)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--fault-seconds", type=float, default=24, help="length of the fault run (24)")
    parser.add_argument("--fault-threads", type=int, default=8, help="clients of the fault run (8)")
    parser.add_argument("--keep", action="store_true", help="leave a cluster this run started")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/cluster.py: wrk not found (apt-get install wrk)")

    lines = []

    def log(text=""):
        print(text, flush=True)
        lines.append(text)

    topology = Topology()
    started_here = not (topology.state and topology.running())
    if started_here:
        topology.up(log=log)
    try:
        ids = item_ids(topology)
        ids_file = topology.dir / "bench-ids.txt"
        ids_file.write_text("\n".join(ids) + "\n")
        log(
            f"bench/cluster: {topology.base_url}, wrk -t2 -c{args.connections} -d{args.duration}s, "
            f"mix.lua, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
        )
        wait_reads_on(topology, "replica")
        wrk(topology, ids_file, 3, args.connections)  # warm-up: connections, caches
        runs = [
            ("2 app servers, reads on the replica", wrk(topology, ids_file, args.duration, args.connections))
        ]
        topology.stop_process("app2")
        runs.append(
            ("1 app server, reads on the replica", wrk(topology, ids_file, args.duration, args.connections))
        )
        topology.start_app("app2")
        topology.replica().stop("fast")
        wait_reads_on(topology, "primary")
        runs.append(
            ("2 app servers, reads on the primary", wrk(topology, ids_file, args.duration, args.connections))
        )
        topology.replica().start()
        wait_reads_on(topology, "replica")
        log("")
        log(f"{'throughput':40} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'failed':>6}")
        for label, run in runs:
            log(
                f"{label:40} {run['requests']:9d} {run['rps']:8.0f} {run['p50_ms'] or 0:7.1f} "
                f"{run['p99_ms'] or 0:7.1f} {run['failed']:6d}"
            )

        log("")
        log(f"fault run: {args.fault_threads} keep-alive clients for {args.fault_seconds:g}s through nginx")
        rows = fault_run(topology, ids, args.fault_seconds, args.fault_threads, log)
        log(f"{'phase (from this event on)':44} {'requests':>9} {'failed':>6} {'slowest ms':>10}  failures")
        for label, total, failed, kinds, slowest in rows:
            log(f"{label:44} {total:9d} {failed:6d} {slowest * 1000:10.0f}  {', '.join(kinds) or '-'}")
        total_failed = sum(row[2] for row in rows)
        log(f"fault run: {sum(row[1] for row in rows)} requests, {total_failed} failed")
        wait_reads_on(topology, "replica")
        status, body = http_get(f"{topology.base_url}/readyz")
        log(f"after the run: /readyz {status} {json.dumps(body)}")
    finally:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"cluster-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}.txt"
        path.write_text("\n".join(lines) + "\n")
        print(f"bench/cluster: report saved to {path.relative_to(REPO_DIR)}")
        if started_here and not args.keep:
            topology.down(log=lambda *_: None)
    return 0 if total_failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
