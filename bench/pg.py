"""The benchmark's own PostgreSQL cluster: kept under ``bench/data/pg`` so the dataset is built once.

Tuned for the 2-core / 24 GB machine and for speed over durability: ``fsync=off``,
``synchronous_commit=off`` and ``full_page_writes=off`` (a crash may lose the cluster; the bench
rebuilds it). ``jit=off`` because JIT compilation costs tens of milliseconds on the floor's big JSON
query and never pays back on queries this short. ``pg_stat_statements`` is preloaded for query
statistics. Started by ``backups.testing.pgcluster`` (the one PostgreSQL bootstrap: 127.0.0.1, a free
port, the ``postgres`` user when the caller is root), with these settings instead of its defaults.
"""

from pathlib import Path

from backups.testing import pgcluster

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


def _cluster():
    if pgcluster.bin_dir() is None:
        raise SystemExit("bench: no PostgreSQL initdb under /usr/lib/postgresql; set BENCH_DATABASE_URL")
    return pgcluster.Cluster(CLUSTER_DIR, settings=SETTINGS, timeout=120)


def start():
    """Start (or reuse) the cluster, created on first use; return its base URL without a database name."""
    return _cluster().start().base_url


def stop():
    """Stop the cluster; its data stays for the next run."""
    _cluster().stop()
