"""Streaming replicas and frozen servers, on top of the one bootstrap (``backups.testing.pgcluster``).

    primary = ReplicatedCluster(root_a).start()           # initdb + start, able to serve replicas
    replica = ReplicatedCluster.replica_of(primary, root_b, slot="replica1").start()
    primary.sql("CREATE DATABASE backups"); replica.wait_until_caught_up(primary)
    with primary.frozen():                                # SIGSTOP the postmaster and every backend
        ...                                               # SIGCONT on the way out, whatever happens
    replica.remove(); primary.remove()

A replica is made by ``pg_basebackup -R`` over the replication protocol with a physical replication
slot (``-C -S``): the primary keeps the WAL the replica has not received yet, and the replica starts
as a hot standby that streams from it (``standby.signal`` and ``primary_conninfo`` written by
``-R``). ``scripts/cluster``, the router's tests and the outage tests use it; like ``pgcluster`` it
needs no Django settings.
"""

import contextlib
import os
import shutil
import signal
import time
from pathlib import Path

from .pgcluster import SETTINGS, Cluster

#: ``pgcluster``'s settings, plus what a primary and its hot standbys need. Servers run in UTC so
#: that Django never sends ``SET TIME ZONE`` (session state, which PgBouncer's transaction pooling
#: must not see).
REPLICATION_SETTINGS = {
    **SETTINGS,
    "max_connections": "100",
    "timezone": "UTC",
    "wal_level": "replica",
    "max_wal_senders": "5",
    "max_replication_slots": "5",
    "hot_standby": "on",
    "hot_standby_feedback": "on",
    "wal_receiver_status_interval": "1s",
    "log_min_messages": "warning",
}


def _children(pid):
    """Direct children of ``pid`` (the postmaster's backends and helpers), read from /proc."""
    result = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    result.append(int(entry.name))
    return result


class ReplicatedCluster(Cluster):
    """A ``pgcluster.Cluster`` that can be a primary or a streaming replica, and can be frozen."""

    def __init__(self, root, *, settings=None, **kwargs):
        super().__init__(root, settings=REPLICATION_SETTINGS if settings is None else settings, **kwargs)

    @classmethod
    def replica_of(cls, primary, root, *, slot="replica1", port=None):
        """A new streaming replica of the running ``primary`` in ``root`` (not started yet)."""
        replica = cls(root, port=port, bin=primary.bin)
        replica.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(replica.root, "postgres", "postgres")
        replica.root.chmod(0o700)
        replica._run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            primary.port,
            "-U",
            "postgres",
            "-D",
            replica.data_dir,
            "-X",
            "stream",
            "-C",
            "-S",
            slot,
            "-R",
            "--no-sync",
            "-c",
            "fast",
        )
        return replica

    def url_for(self, database):
        return f"{self.base_url}/{database}"

    def stop(self, mode="fast"):
        self.thaw()  # a frozen postmaster cannot stop
        super().stop(mode)

    # --- faults -----------------------------------------------------------------------------
    def processes(self):
        pid = self.pid
        return [] if pid is None else [pid, *_children(pid)]

    def freeze(self):
        """SIGSTOP the postmaster and every backend: the server stops answering, its sockets stay open
        (and the kernel keeps acknowledging: keepalives see nothing wrong)."""
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def thaw(self):
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    @contextlib.contextmanager
    def frozen(self):
        """The server frozen for the block; always thawed after it."""
        try:
            self.freeze()
            yield self
        finally:
            self.thaw()

    # --- SQL --------------------------------------------------------------------------------
    def sql(self, statement, database="postgres"):
        """Run SQL with ``psql`` over loopback; return its unaligned output without headers."""
        return self._run(
            "psql",
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            self.port,
            "-U",
            "postgres",
            "-d",
            database,
            "-c",
            statement,
        ).strip()

    def wait_until_caught_up(self, primary, timeout=30):
        """Block until this replica has replayed everything ``primary`` has written so far."""
        target = primary.sql("SELECT pg_current_wal_insert_lsn()")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") == "t":
                return
            time.sleep(0.05)
        raise TimeoutError(f"replica on port {self.port} did not reach {target} in {timeout}s")
