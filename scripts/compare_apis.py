"""Compare two instances' CSBS APIs item for item: every page of every project, for each filter.

    .venv/bin/python scripts/compare_apis.py URL_A TOKEN_A URL_B TOKEN_B PROJECT [PROJECT ...]
        [--filter 'status=available' --filter 'sort=name:asc' ...]

Walks each list by ``marker`` (``limit=1000``) on both sides and compares the items (parsed JSON,
key for key) and the counts; prints one line per project and filter, and exits 1 on any difference.
Without ``--filter``, a default set (no filter, statuses, sorts, a name substring, a time range).
"""
import argparse
import sys

import httpx

DEFAULT_FILTERS = [
    "", "status=available", "status=error", "sort=name:asc", "sort=protected_at:desc,id:asc",
    "sort=status:asc,created_at:desc", "image_type=backup", "resource_type=OS::Nova::Server", "name=a",
    "start_time=2026-01-01T00:00:00Z",
]


def walk(url, token, project, params):
    items, marker = [], None
    while True:
        query = {**params, "limit": 1000, **({"marker": marker} if marker else {})}
        response = httpx.get(f"{url}/v1/{project}/checkpoint_items", params=query,
                             headers={"X-Auth-Token": token}, timeout=60)
        response.raise_for_status()
        page = response.json()["checkpoint_items"]
        items += page
        if len(page) < 1000:
            return items, response.headers.get("X-Data-As-Of")
        marker = page[-1]["id"]


def count(url, token, project, params):
    response = httpx.get(f"{url}/v1/{project}/checkpoint_items/count", params=params,
                         headers={"X-Auth-Token": token}, timeout=60)
    response.raise_for_status()
    return response.json()["count"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url_a")
    parser.add_argument("token_a")
    parser.add_argument("url_b")
    parser.add_argument("token_b")
    parser.add_argument("projects", nargs="+")
    parser.add_argument("--filter", action="append", dest="filters", help="a query string, e.g. status=error")
    args = parser.parse_args()
    differences = 0
    for project in args.projects:
        for text in args.filters or DEFAULT_FILTERS:
            params = dict(part.split("=", 1) for part in text.split("&") if part)
            a, _ = walk(args.url_a.rstrip("/"), args.token_a, project, params)
            b, as_of = walk(args.url_b.rstrip("/"), args.token_b, project, params)
            counts = (count(args.url_a, args.token_a, project, params),
                      count(args.url_b, args.token_b, project, params))
            same = a == b and counts[0] == counts[1] == len(a)
            differences += not same
            verdict = "same" if same else "DIFFERENT"
            print(f"{verdict}: {project} ?{text or '(no filter)'}: {len(a)} vs {len(b)} items, "
                  f"counts {counts[0]} vs {counts[1]}" + (f", B's X-Data-As-Of {as_of}" if as_of else ""))
    print(f"{differences} difference(s)")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
