#!/usr/bin/env python
"""Performance benchmark (issue 7): ours vs the database's floor vs a typical DRF peer, at a million items.

    make bench                      # or: .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --build-only       # only build (or check) the dataset
    .venv/bin/python bench/run.py --quick            # fewer repetitions, no import, for a smoke run
    .venv/bin/python bench/run.py --import-only      # only the import and its COPY floor (bench/importing.py)

PostgreSQL: ``BENCH_DATABASE_URL`` (a database the bench may fill) or, without it, the bench's own
cluster under ``bench/data/pg`` (``bench/pg.py``: fsync off, tuned for 2 cores / 24 GB). The
dataset (``bench/dataset.py``) is built once and reused while its parameters are unchanged.
Each run: three gunicorn servers on 127.0.0.1 — ours (``project.wsgi``, production settings),
the floor (``bench/floor.py``: one SQL query that builds the JSON, bare WSGI + psycopg2) and the
peer (``bench/peer``: DRF nested ModelSerializers, prefetch_related, django-filter,
LimitOffsetPagination) — are checked to return the same JSON, then timed side by side. Results
(table and JSON) are printed and saved under ``bench/results/``.
"""

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(REPO_DIR))

from bench import pg  # noqa: E402

DATASET = {"items": 1_000_000, "projects": 1_000, "seed": 7}
SECRET = "bench-secret-key-not-for-production-0123456789-abcdefghijklmnopqrstuvwxyz"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def database_url():
    """``BENCH_DATABASE_URL``, or the bench cluster's ``bench`` database (created if missing)."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    import psycopg2

    base = pg.start()
    connection = psycopg2.connect(f"{base}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [pg.DATABASE])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE DATABASE {pg.DATABASE}")
    connection.close()
    return f"{base}/{pg.DATABASE}"


def server_environment(url):
    """The environment of every Django process of the bench: production settings on ``url``."""
    return {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DEBUG": "0",
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_ROOT": str(pg.DATA_DIR / "static"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO_DIR),
    }


def ensure_dataset(url, params, rebuild=False):
    """Migrate, then build the dataset unless the database already holds this one."""
    from django.core.management import call_command
    from django.db import connection

    from bench import dataset

    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_dataset (params jsonb, built_at timestamptz, seconds float)"
        )
        cursor.execute("SELECT params, built_at, seconds FROM bench_dataset")
        row = cursor.fetchone()
        # Django reads jsonb back as text.
        built = json.loads(row[0]) if row is not None and isinstance(row[0], str) else row and row[0]
        if built == params:
            log(f"dataset {params} present (built {row[1]:%Y-%m-%d %H:%M} in {row[2]:.0f} s): reused")
            return {"reused": True, "seconds": row[2]}
        cursor.execute("SELECT EXISTS (SELECT 1 FROM backups_checkpointitem)")
        if cursor.fetchone()[0] and not rebuild:
            raise SystemExit(
                f"bench: the database holds items of another dataset ({built or 'unknown'}), not {params}: "
                "pass --rebuild to replace them"
            )
        log(f"building dataset {params} (once; reused by later runs)")
        cursor.execute("DELETE FROM bench_dataset")
        cursor.execute("TRUNCATE backups_replicationrecord, backups_volumebackup, backups_checkpointitem")
    connection.close()
    seconds = dataset.load(url, log=log, **params)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_dataset VALUES (%s, now(), %s)", [json.dumps(params), seconds])
    log(f"dataset built in {seconds:.0f} s")
    return {"reused": False, "seconds": seconds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-only", action="store_true", help="build or check the dataset, then stop")
    parser.add_argument("--items", type=int, default=DATASET["items"])
    parser.add_argument("--projects", type=int, default=DATASET["projects"])
    parser.add_argument("--rebuild", action="store_true", help="replace a different dataset in the database")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and no import (smoke run)")
    parser.add_argument("--skip-import", action="store_true", help="skip the 1,000,000-item import")
    parser.add_argument("--stop-cluster", action="store_true", help="stop the bench cluster at the end")
    parser.add_argument("--import-only", action="store_true", help="only the import beside its COPY floor")
    parser.add_argument("--import-items", type=int, default=1_000_000, help="items of the import's file")
    args = parser.parse_args(argv)

    url = database_url()
    os.environ.update(server_environment(url))
    import django

    django.setup()
    if args.import_only:
        from bench import importing

        imported = importing.run(url.rsplit("/", 1)[0], args.import_items, log)
        report = "\n".join(importing.render(imported))
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out_dir = BENCH_DIR / "results"
        out_dir.mkdir(exist_ok=True)
        (out_dir / f"import-{stamp}.json").write_text(json.dumps(imported, indent=1, default=str))
        print(report)
        log(f"saved bench/results/import-{stamp}.json")
        return 0 if imported.get("items_per_s", 0) >= 10_000 else 1
    params = {"items": args.items, "projects": args.projects, "seed": DATASET["seed"]}
    built = ensure_dataset(url, params, rebuild=args.rebuild)
    if args.build_only:
        return 0
    from bench import workloads

    results = workloads.run(url, params, built, args, log=log)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = BENCH_DIR / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"bench-{stamp}.json").write_text(json.dumps(results, indent=1, default=str))
    (out_dir / f"bench-{stamp}.txt").write_text(results["report"])
    print(results["report"])
    log(f"saved bench/results/bench-{stamp}.txt and .json")
    if args.stop_cluster and not os.environ.get("BENCH_DATABASE_URL"):
        pg.stop()
    return 0 if results["all_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
