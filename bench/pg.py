"""The benchmark's own PostgreSQL cluster: kept under ``bench/data/pg`` so the dataset is built once.

Tuned for the 2-core / 24 GB machine and for speed over durability: ``fsync=off``,
``synchronous_commit=off`` and ``full_page_writes=off`` (a crash may lose the cluster; the bench
rebuilds it). ``jit=off`` because JIT compilation costs tens of milliseconds on the floor's big JSON
query and never pays back on queries this short. ``pg_stat_statements`` is preloaded for query
statistics. Runs as the ``postgres`` user when the caller is root (initdb refuses root).
"""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
CLUSTER_DIR = DATA_DIR / "pg"
PGDATA = CLUSTER_DIR / "data"
DATABASE = "bench"

SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "max_connections": "100",
    "shared_buffers": "2GB",
    "effective_cache_size": "16GB",
    "work_mem": "32MB",
    "maintenance_work_mem": "1GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "random_page_cost": "1.1",
    "effective_io_concurrency": "200",
    "max_parallel_workers_per_gather": "1",
    "max_parallel_maintenance_workers": "2",
    "jit": "off",
    "shared_preload_libraries": "pg_stat_statements",
    "pg_stat_statements.track": "top",
    "log_min_messages": "warning",
}


def _bin(name):
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise SystemExit(f"bench: no PostgreSQL {name} under /usr/lib/postgresql; set BENCH_DATABASE_URL")
    return str(found[-1])


def _as_owner(args, **kwargs):
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=True, cwd=CLUSTER_DIR, **kwargs)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _running_port():
    """The port of the cluster if its postmaster is alive, else ``None``."""
    pid_file = PGDATA / "postmaster.pid"
    if not pid_file.exists():
        return None
    lines = pid_file.read_text().splitlines()
    try:
        os.kill(int(lines[0]), 0)
    except (ProcessLookupError, ValueError, IndexError):
        return None
    return int(lines[3])


def _initdb():
    CLUSTER_DIR.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(CLUSTER_DIR, "postgres", "postgres")
    CLUSTER_DIR.chmod(0o700)
    _as_owner(
        [
            _bin("initdb"),
            "-D",
            str(PGDATA),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        stdout=subprocess.DEVNULL,
    )
    with open(PGDATA / "postgresql.auto.conf", "a") as conf:
        for name, value in SETTINGS.items():
            conf.write(f"{name} = '{value}'\n")


def start():
    """Start (or reuse) the cluster; return its base URL without a database name."""
    port = _running_port()
    if port is None:
        if not (PGDATA / "PG_VERSION").exists():
            _initdb()
        port = _free_port()
        _as_owner(
            [
                _bin("pg_ctl"),
                "-D",
                str(PGDATA),
                "-l",
                str(CLUSTER_DIR / "server.log"),
                "-w",
                "-t",
                "120",
                "start",
                "-o",
                f"-p {port} -c unix_socket_directories={CLUSTER_DIR}",
            ],
            stdout=subprocess.DEVNULL,
        )
    url = f"postgres://postgres@127.0.0.1:{port}"
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    return url


def stop():
    if _running_port() is not None:
        _as_owner([_bin("pg_ctl"), "-D", str(PGDATA), "-m", "fast", "-w", "stop"], stdout=subprocess.DEVNULL)
