"""The sync's rate: mirroring N items (100,000) from a loopback upstream into PostgreSQL, beside
importing the very same items from a file — the two ways data gets in, on the same database.

    .venv/bin/python bench/sync.py [--items 100000] [--page-size 1000] [--workers 2]

* The upstream is a second instance of this service: its own SQLite database under
  ``bench/data/sync/`` (seeded once with ``seed_demo --items N --projects 1``, then reused), an
  admin token, and gunicorn on a free loopback port.
* The downstream is a fresh database ``sync_bench`` on the bench's PostgreSQL cluster
  (``bench/pg.py``; ``BENCH_DATABASE_URL`` to use another server).
* Measured, each as the command the README shows: ``import_checkpoint_items`` of the upstream's
  export; then, on emptied tables, ``sync_backups`` (first run: every item created), and
  ``sync_backups`` again (steady state: every item unchanged). Rates are items per second of the
  command's own timing (its summary line), wall time of the process beside it.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(REPO_DIR))

from backups.testing import pgcluster  # noqa: E402
from bench import pg  # noqa: E402

WORK = BENCH_DIR / "data" / "sync"
PROJECT = "bench-sync"


def sh(args, env, *, quiet=False, timeout=3600):
    """Run a command, echo it, return ``(stdout, wall seconds)``."""
    shown = " ".join(shlex.quote(str(a)) for a in args)
    print(f"$ {shown}", flush=True)
    started = time.monotonic()
    result = subprocess.run([str(a) for a in args], env=env, cwd=REPO_DIR, capture_output=True, text=True,
                            timeout=timeout)
    wall = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    if not quiet:
        for line in result.stdout.strip().splitlines()[-3:]:
            print(f"  {line}")
    return result.stdout, wall


def manage(*args):
    return [sys.executable, REPO_DIR / "manage.py", *args]


def free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def upstream(items, workers):
    """Seed (once) and serve the upstream instance; ``(process, url, token, env)``."""
    WORK.mkdir(parents=True, exist_ok=True)
    database = WORK / f"upstream-{items}.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DEBUG": "0", "SECRET_KEY": "bench-" * 8,
           "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0", "LOG_LEVEL": "WARNING"}
    ready = WORK / f"upstream-{items}.ready"
    if not ready.exists():
        database.unlink(missing_ok=True)
        sh(manage("migrate", "-v", "0"), env)
        sh(manage("seed_demo", "--items", items, "--projects", 1, "--no-users", "--seed", 3), env)
        ready.write_text("seeded\n")
    # seed_demo names its one project demo-project
    token = sh(manage("create_token", "--user", "bench-mirror", "--project", "demo-project", "--admin"), env,
               quiet=True)[0].strip().splitlines()[-1]
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "project.wsgi"],
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers),
             "GUNICORN_ACCESS_LOG": "/dev/null", "GUNICORN_TIMEOUT": "120"},
        cwd=REPO_DIR, stdout=subprocess.DEVNULL, stderr=open(WORK / "gunicorn.log", "w"),
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/v1/openapi.json", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    print(f"upstream: {url} (gunicorn, {workers} workers, SQLite {database})")
    return process, url, token, env


def psql():
    return str(Path(pgcluster.bin_dir()) / "psql")


def command_rate(output):
    rates = re.findall(r"\(?([0-9,]+) items/s\)?", output)
    return float(rates[-1].replace(",", "")) if rates else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="the upstream's gunicorn workers")
    args = parser.parse_args()

    process, url, token, up_env = upstream(args.items, args.workers)
    try:
        export = WORK / f"export-{args.items}.json"
        sh(manage("export_checkpoint_items", "--project", "demo-project", "-o", export), up_env)

        base = os.environ.get("BENCH_DATABASE_URL") or pg.start()
        admin_url = base.rsplit("/", 1)[0] if base.count("/") > 2 else base
        down_env = {**os.environ, "DATABASE_URL": f"{admin_url}/sync_bench", "LOG_LEVEL": "WARNING",
                    "UPSTREAM_TOKEN": token}
        psql_admin = [psql(), f"{admin_url}/postgres", "-q", "-c"]
        sh([*psql_admin, "DROP DATABASE IF EXISTS sync_bench"], down_env, quiet=True)
        sh([*psql_admin, "CREATE DATABASE sync_bench"], down_env, quiet=True)
        sh(manage("migrate", "-v", "0"), down_env)

        out, import_wall = sh(manage("import_checkpoint_items", export, "--project", "demo-project"),
                              down_env)
        import_rate = command_rate(out)
        truncate = ("TRUNCATE backups_volumebackup, backups_replicationrecord, backups_checkpointitem, "
                    "backups_syncrun CASCADE")
        sh([psql(), f"{admin_url}/sync_bench", "-q", "-c", truncate], down_env, quiet=True)

        sh(manage("add_sync_source", "bench-upstream", "--kind", "csbs", "--endpoint", url, "--project-id",
                  "demo-project", "--token-env", "UPSTREAM_TOKEN", "--page-size", args.page_size), down_env)
        out, first_wall = sh(manage("sync_backups", "bench-upstream", "--quiet"), down_env)
        first_rate = command_rate(out)
        out, steady_wall = sh(manage("sync_backups", "bench-upstream", "--quiet"), down_env)
        steady_rate = command_rate(out)
    finally:
        process.terminate()
        process.wait(timeout=30)

    n = args.items
    print()
    print(f"{'what':<44} {'items/s':>10} {'wall s':>8}")
    label = f"import_checkpoint_items (file, {n:,})"
    print(f"{label:<44} {import_rate:>10,.0f} {import_wall:>8.1f}")
    print(f"{'sync_backups, first run (all created)':<44} {first_rate:>10,.0f} {first_wall:>8.1f}")
    print(f"{'sync_backups, again (all unchanged)':<44} {steady_rate:>10,.0f} {steady_wall:>8.1f}")
    print(f"ratio sync/import: first run {first_rate / import_rate:.2f}, "
          f"steady state {steady_rate / import_rate:.2f}")


if __name__ == "__main__":
    main()
