"""Throwaway PostgreSQL servers on loopback: a primary, and streaming replicas of it.

One home for starting PostgreSQL from Debian's binaries (``/usr/lib/postgresql/<v>/bin``) in a
folder of our own, on 127.0.0.1 and a free port, as the ``postgres`` user when we are root
(``initdb`` and ``postgres`` refuse root). Used by ``scripts/cluster`` (the scale-out topology), the
router's tests (a real primary + replica pair) and the outage tests (a frozen server).

    primary = PostgresServer.init_primary(Path("/tmp/x/primary"))
    primary.start()
    replica = PostgresServer.replica_of(primary, Path("/tmp/x/replica"), slot="replica1")
    replica.start()
    ...
    with primary.frozen():            # SIGSTOP the postmaster and every backend; SIGCONT on exit
        ...
    replica.remove(); primary.remove()

A replica is made by ``pg_basebackup -R`` over the replication protocol with a physical replication
slot (``-C -S``), so the primary keeps the WAL the replica has not received yet, and the replica
follows by streaming (``standby.signal``, ``primary_conninfo`` written by ``-R``). Speed over
durability (``fsync=off``): these servers live for one test run or one ``cluster up``.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_ROOT = Path("/usr/lib/postgresql")

#: Settings of every server: loopback only, fast, UTC (so Django never has to ``SET TIME ZONE``,
#: which matters behind PgBouncer's transaction pooling), and able to serve streaming replicas.
BASE_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "max_connections": "100",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "timezone": "UTC",
    "wal_level": "replica",
    "max_wal_senders": "5",
    "max_replication_slots": "5",
    "hot_standby": "on",
    "hot_standby_feedback": "on",
    "wal_receiver_status_interval": "1s",
    "log_min_messages": "warning",
}


def pg_bin_dir():
    """The newest ``/usr/lib/postgresql/<v>/bin`` with an ``initdb``, or ``None``."""
    found = sorted(PG_ROOT.glob("*/bin/initdb"), key=lambda path: int(path.parts[-3]))
    return found[-1].parent if found else None


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_base_dir(prefix="backups-pg-"):
    """A new temporary folder that the ``postgres`` user may traverse, for servers' folders inside it."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o711)
    return folder


def _children(pid):
    """Direct children of ``pid`` (the postmaster's backends and helpers), read from /proc."""
    result = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            result.append(int(entry.name))
    return result


class PostgresServer:
    """One PostgreSQL server: its folder (data, socket, log), its port, and how to run its tools."""

    def __init__(self, folder, port=None, bin_dir=None):
        self.folder = Path(folder)
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.bin_dir = Path(bin_dir) if bin_dir else pg_bin_dir()
        if self.bin_dir is None:
            raise RuntimeError("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
        self.port = port or self._port_from_pid_file() or free_port()

    # --- making one -------------------------------------------------------------------------
    @classmethod
    def init_primary(cls, folder, settings=None, port=None):
        """``initdb`` a new cluster in ``folder`` (which must not hold one), ready to be a primary."""
        server = cls(folder, port=port)
        server._make_folder()
        server.run(
            "initdb",
            "-D",
            str(server.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        server._write_settings({**BASE_SETTINGS, **(settings or {})})
        return server

    @classmethod
    def replica_of(cls, primary, folder, slot="replica1", port=None):
        """A streaming replica of the running ``primary``: ``pg_basebackup -R`` with a replication slot."""
        server = cls(folder, port=port, bin_dir=primary.bin_dir)
        server._make_folder()
        server.run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-D",
            str(server.data),
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
        return server

    def _make_folder(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self.folder.chmod(0o700)

    def _write_settings(self, settings):
        with open(self.data / "postgresql.auto.conf", "a") as conf:
            for name, value in settings.items():
                conf.write(f"{name} = '{value}'\n")

    # --- running ----------------------------------------------------------------------------
    @property
    def url(self):
        """``postgres://postgres@127.0.0.1:<port>/postgres`` (trust authentication, loopback only)."""
        return self.url_for("postgres")

    def url_for(self, database):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, program, *args, timeout=120):
        """Run one of PostgreSQL's programs as the cluster's owner; raise with its output on failure."""
        command = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, cwd=self.folder, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stdout}{result.stderr}")
        return result.stdout

    def start(self):
        options = f"-p {self.port} -c unix_socket_directories={self.folder}"
        try:
            self.run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start", "-o", options
            )
        except RuntimeError as error:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{error}\n{tail}") from None

    def stop(self, mode="fast"):
        if self.pid() is not None:
            self.thaw()  # a frozen postmaster cannot stop
            self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def remove(self):
        """Stop (immediately) and delete the folder."""
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def pid(self):
        """The postmaster's pid if it runs, else ``None``."""
        pid_file = self.data / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return None
        return pid

    def _port_from_pid_file(self):
        try:
            return int((self.data / "postmaster.pid").read_text().splitlines()[3])
        except (OSError, ValueError, IndexError):
            return None

    # --- faults -----------------------------------------------------------------------------
    def processes(self):
        pid = self.pid()
        return [] if pid is None else [pid, *_children(pid)]

    def freeze(self):
        """SIGSTOP the postmaster and every backend: the server stops answering, sockets stay open."""
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def thaw(self):
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    @contextlib.contextmanager
    def frozen(self):
        """The server frozen for the block; always thawed after it, whatever happens."""
        try:
            self.freeze()
            yield self
        finally:
            self.thaw()

    # --- SQL --------------------------------------------------------------------------------
    def sql(self, statement, database="postgres"):
        """Run SQL with ``psql`` over loopback; return its unaligned output (no headers)."""
        return self.run(
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
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
            "-c",
            statement,
            timeout=60,
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
