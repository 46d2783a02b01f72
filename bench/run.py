#!/usr/bin/env python
"""Performance benchmark: ours vs the database's floor (and a typical DRF peer), on PostgreSQL.

    make bench                      # or: .venv/bin/python bench/run.py  (1,000,000 items; issues 7 and 14)
    make bench-quick                # or: bench/run.py --quick  (40,000 items; issue 14's table, minutes)
    .venv/bin/python bench/run.py --build-only       # only build (or check) the dataset
    .venv/bin/python bench/run.py --import-only      # only the import, its COPY floor, its database part
    .venv/bin/python bench/run.py --coverage-only    # only the coverage report (bench/coverage.py)
    .venv/bin/python bench/run.py --items 200000 --projects 200 --whale 100000   # a smaller dataset

``--quick`` is issue 14's table alone (``bench/fixed_cost.py``): 40,000 items over 3 projects (the
big one 20,000), ours and the floor under gunicorn with 2 sync workers each, every row's bodies
checked to be the same JSON first, then timed round-robin, with a verdict beside each row.
The full run is issue 7's benchmark (below) followed by the same table at a million items.

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
#: Issue 14's dataset: with 3 projects the benchmark shape gives the first one half, 20,000 items.
QUICK_DATASET = {"items": 40_000, "projects": 3, "seed": 7}
SECRET = "bench-secret-key-not-for-production-0123456789-abcdefghijklmnopqrstuvwxyz"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def database_name(params):
    """The bench cluster's database of a dataset: ``bench`` for the default one, else one per size."""
    if params == DATASET:
        return pg.DATABASE
    return f"{pg.DATABASE}_{params['items']}_{params['projects']}_{params['seed']}"


def database_url(params=DATASET):
    """``BENCH_DATABASE_URL``, or the bench cluster's database of ``params`` (created if missing)."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    import psycopg2

    name = database_name(params)
    base = pg.start()
    connection = psycopg2.connect(f"{base}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE DATABASE {name}")
    connection.close()
    return f"{base}/{name}"


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
    from django.db.migrations.executor import MigrationExecutor

    from bench import dataset

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_dataset (params jsonb, built_at timestamptz, seconds float)"
        )
        cursor.execute("SELECT params, built_at, seconds FROM bench_dataset")
        row = cursor.fetchone()
        if pending and row is not None:  # indexes rebuilt on a kept dataset: their statistics, as built
            log(f"{len(pending)} migration(s) applied to the kept dataset: VACUUM ANALYZE")
            for table in dataset.TABLES:
                cursor.execute(f"VACUUM ANALYZE {table}")
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
        cursor.execute(
            "TRUNCATE backups_replicationrecord, backups_volumebackup, backups_sighting, "
            "backups_checkpointitem"
        )
    connection.close()
    seconds = dataset.load(url, log=log, **params)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_dataset VALUES (%s, now(), %s)", [json.dumps(params), seconds])
    log(f"dataset built in {seconds:.0f} s")
    return {"reused": False, "seconds": seconds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-only", action="store_true", help="build or check the dataset, then stop")
    parser.add_argument("--items", type=int, help="default 1,000,000 (--quick: 40,000)")
    parser.add_argument("--projects", type=int, help="default 1,000 (--quick: 3)")
    parser.add_argument("--rebuild", action="store_true", help="replace a different dataset in the database")
    parser.add_argument("--quick", action="store_true", help="issue 14's table alone, at 40,000 items")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of issue 14's table")
    parser.add_argument("--reps", type=int, help="repetitions per row of issue 14's table")
    parser.add_argument(
        "--server",
        choices=("gunicorn", "granian"),
        default="gunicorn",
        help="ours' server in issue 14's table",
    )
    parser.add_argument("--ours-settings", default="project.settings", help="ours' settings module (what-if)")
    parser.add_argument("--skip-import", action="store_true", help="skip the 1,000,000-item import")
    parser.add_argument("--whale", type=int, help="items of the first project (default: 10%% of --items)")
    parser.add_argument("--coverage-only", action="store_true", help="only the coverage report's workloads")
    parser.add_argument("--stop-cluster", action="store_true", help="stop the bench cluster at the end")
    parser.add_argument(
        "--import-only", action="store_true", help="only the import beside its COPY floor and database part"
    )
    parser.add_argument("--import-items", type=int, default=1_000_000, help="items of the import's file")
    args = parser.parse_args(argv)

    defaults = QUICK_DATASET if args.quick else DATASET
    params = {
        "items": args.items or defaults["items"],
        "projects": args.projects or defaults["projects"],
        "seed": defaults["seed"],
    }
    if args.whale is not None:  # only then: datasets built before the option keep matching
        params["whale"] = args.whale
    url = database_url(params)
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
    built = ensure_dataset(url, params, rebuild=args.rebuild)
    if args.build_only:
        return 0
    if args.coverage_only:
        from bench import coverage

        results = coverage.run_only(params, built, args, log=log)
    elif args.quick:
        from bench import workloads

        results = workloads.run_fixed_cost(params, built, args, log=log)
    else:
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
