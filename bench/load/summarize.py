"""Reads wrk's report and gunicorn's access log of one load run; prints the figures and exits 1 on any error.

    python bench/load/summarize.py WRK_OUTPUT ACCESS_LOG

Client side (wrk): requests, requests/s, p50/p99 latency, socket errors and non-2xx responses.
Server side (the access log, ``gunicorn.conf.py``'s format): the mix of requests actually served
and the server's time per kind, and every status other than 200. Errors = non-2xx + socket errors +
non-200 lines in the access log; the run passes only with 0.
"""

import re
import statistics
import sys
from collections import Counter, defaultdict

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
# 127.0.0.1 "GET /v1/p/checkpoint_items?limit=50 HTTP/1.1" 200 1234 12ms req-...
ACCESS_LINE = re.compile(
    r'^\S+ "(?P<method>\S+) (?P<target>\S+) [^"]*" (?P<status>\d{3}) \S+ (?P<ms>\d+)ms (?P<rid>\S+)'
)


def milliseconds(text):
    number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def read_wrk(text):
    figures = {
        "requests": int(re.search(r"(\d+) requests in", text).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1)),
        "p50": milliseconds(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1)),
        "p99": milliseconds(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1)),
        "non_2xx": 0,
        "socket_errors": 0,
    }
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", text):
        figures["non_2xx"] = int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text):
        figures["socket_errors"] = sum(int(n) for n in match.groups())
    return figures


def kind_of(target):
    path, _, query = target.partition("?")
    if path.endswith("/count"):
        return "count"
    if not path.endswith("/checkpoint_items"):
        return "detail"
    if "marker=" in query:
        return "page"
    return "list" if query == "limit=50" else "filtered"


def read_access_log(lines):
    times, statuses = defaultdict(list), Counter()
    request_ids = 0
    for line in lines:
        match = ACCESS_LINE.match(line)
        if not match:
            continue
        times[kind_of(match["target"])].append(int(match["ms"]))
        statuses[match["status"]] += 1
        request_ids += match["rid"].startswith("req-")
    return times, statuses, request_ids


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(wrk_path, log_path):
    wrk = read_wrk(open(wrk_path, encoding="utf-8").read())
    times, statuses, request_ids = read_access_log(open(log_path, encoding="utf-8", errors="replace"))
    served = sum(statuses.values())
    print("server side (gunicorn access log, ms):")
    for kind in ("list", "filtered", "detail", "count", "page"):
        values = times.get(kind) or [0]
        share = 100 * len(times.get(kind, [])) / max(served, 1)
        count = len(times.get(kind, []))
        median, p99 = statistics.median(values), percentile(values, 0.99)
        print(f"  {kind:9} {count:7d} requests ({share:4.1f}%)  median {median:5.0f}  p99 {p99:5.0f}")
    not_ok = served - statuses.get("200", 0)
    print(f"  statuses: {dict(sorted(statuses.items()))}; lines with a request id: {request_ids}/{served}")
    errors = wrk["non_2xx"] + wrk["socket_errors"] + not_ok
    print(
        f"load: {wrk['requests']} requests, {errors} errors (non-2xx {wrk['non_2xx']}, "
        f"socket {wrk['socket_errors']}, non-200 served {not_ok}), p50 {wrk['p50']:.1f} ms, "
        f"p99 {wrk['p99']:.1f} ms, {wrk['rps']:.0f} requests/s"
    )
    return 1 if errors or served == 0 or request_ids != served else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
