"""The one PostgreSQL bootstrap: a cluster of our own on 127.0.0.1, for the tests, the scripts and the bench.

    cluster = pgcluster.start()          # initdb + start in a new temp folder, on a free port
    cluster.url                          # postgres://postgres@127.0.0.1:PORT/postgres
    cluster.stop(); cluster.start()      # an outage and a recovery, same port, same data
    cluster.remove()                     # stop (immediate) and delete the folder

A cluster lives in one folder, ``root``: the data in ``root/data``, the Unix socket in ``root``
itself, the server's log ``root/server.log``. It listens on 127.0.0.1 only, on the
port given or a free one, with trust authentication for the ``postgres`` role. ``initdb`` and
``postgres`` refuse to run as root, so when we are root they run as the ``postgres`` user (and
``root`` belongs to it). ``SETTINGS`` favour speed over durability (``fsync`` off...): such a
cluster lives for one run, and a crash may lose it.

Needs no Django settings (plain standard library), so that ``scripts/test`` (through the command
line below), ``bench/pg.py`` and the tests can all use it::

    python -m backups.testing.pgcluster start    # prints root, url, server version; exit 3: no PostgreSQL
    python -m backups.testing.pgcluster remove ROOT
"""
import argparse
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Where Debian installs the server binaries, one folder per major version.
INSTALL_ROOT = Path("/usr/lib/postgresql")
#: The settings of a throwaway cluster (``-c`` options of ``postgres``): speed over durability.
SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "50",
}
#: Exit status of the command line when no PostgreSQL binaries are installed.
NO_POSTGRESQL = 3


class ClusterError(RuntimeError):
    """initdb or the server failed; the message ends with the log that says why."""


def bin_dir():
    """The newest ``/usr/lib/postgresql/<major>/bin`` that holds ``initdb``, or ``None``."""
    found = sorted(INSTALL_ROOT.glob("*/bin/initdb"), key=lambda path: int(path.parts[-3]))
    return found[-1].parent if found else None


def free_port():
    """A port free on 127.0.0.1 right now (the kernel's pick)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A PostgreSQL cluster in the folder ``root``; ``start()`` runs it, ``stop()`` stops it."""

    def __init__(self, root, *, port=None, settings=None, bin=None, timeout=60):
        self.root = Path(root)
        self.data_dir = self.root / "data"
        self.bin = Path(bin) if bin else bin_dir()
        if self.bin is None:
            raise ClusterError(f"no PostgreSQL initdb under {INSTALL_ROOT}")
        self.port = port or self.running_port() or free_port()
        self.settings = dict(SETTINGS if settings is None else settings)
        self.timeout = timeout

    @property
    def url(self):
        """The URL of the ``postgres`` database, as ``DATABASE_URL`` takes it."""
        return f"{self.base_url}/postgres"

    @property
    def base_url(self):
        """The URL without a database name: append ``/NAME``."""
        return f"postgres://postgres@127.0.0.1:{self.port}"

    @property
    def pid(self):
        """The postmaster's pid while it runs, else ``None``."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def running_port(self):
        """The port of the server running on ``data_dir``, else ``None``."""
        if self.pid is None:
            return None
        lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        return int(lines[3]) if len(lines) > 3 else None

    def version(self):
        """The server's version, e.g. ``15.14``."""
        output = subprocess.run([str(self.bin / "postgres"), "--version"], capture_output=True, text=True)
        return output.stdout.split()[2]  # "postgres (PostgreSQL) 15.14 (Debian ...)"

    def initdb(self):
        """Create ``root`` (owned by the server's user, mode 700) and an empty cluster in it."""
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.root.chmod(0o700)
        self._run(
            "initdb", "-D", self.data_dir, "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync",
        )

    def start(self):
        """Start the server (``initdb`` first if there is no cluster yet); return once it accepts."""
        if not (self.data_dir / "PG_VERSION").exists():
            self.initdb()
        if self.pid is not None:
            return self
        options = [
            "-c listen_addresses=127.0.0.1", f"-p {self.port}",
            f"-c unix_socket_directories={shlex.quote(str(self.root))}",
            *(f"-c {name}={shlex.quote(str(value))}" for name, value in self.settings.items()),
        ]
        self._run(
            "pg_ctl", "-D", self.data_dir, "-l", self.root / "server.log", "-w", "-t", str(self.timeout),
            "start", "-o", " ".join(options), log=self.root / "server.log",
        )
        self._wait_for_port()
        return self

    def stop(self, mode="fast"):
        """Stop the server, keeping the data (``start()`` brings it back on the same port)."""
        if self.pid is not None:
            self._run("pg_ctl", "-D", self.data_dir, "-m", mode, "-w", "stop")

    def remove(self):
        """Stop the server without a shutdown checkpoint and delete ``root``."""
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()

    def _run(self, program, *args, log=None):
        command = [str(self.bin / program), *map(str, args)]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        timeout = self.timeout + 60
        done = subprocess.run(command, cwd=self.root, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            text = log.read_text(errors="replace") if log and log.exists() else ""
            raise ClusterError(f"{program} failed ({done.returncode}): {done.stdout}{done.stderr}{text}")

    def _wait_for_port(self):
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def start(port=None, settings=None, *, root=None, prefix="pg-", bin=None, timeout=60):
    """A running cluster: in ``root`` (created if needed, reused if it holds one), else a new temp folder.

    A new temp folder is removed again when initdb or the start fails.
    """
    throwaway = root is None
    cluster = Cluster(
        root or tempfile.mkdtemp(prefix=prefix), port=port, settings=settings, bin=bin, timeout=timeout
    )
    try:
        return cluster.start()
    except BaseException:
        if throwaway:
            cluster.remove()
        raise


def main(argv=None):
    """The command line: ``start`` prints root, url and version, one a line; ``remove ROOT``."""
    parser = argparse.ArgumentParser(prog="python -m backups.testing.pgcluster")
    commands = parser.add_subparsers(dest="command", required=True)
    started = commands.add_parser("start", help="start a throwaway cluster in a new temp folder")
    started.add_argument("--prefix", default="pg-", help="of the temp folder's name")
    removed = commands.add_parser("remove", help="stop a cluster and delete its folder")
    removed.add_argument("root")
    args = parser.parse_args(argv)
    if args.command == "remove":
        if bin_dir() is not None and (Path(args.root) / "data").exists():
            Cluster(args.root).remove()
        shutil.rmtree(args.root, ignore_errors=True)
        return 0
    if bin_dir() is None:
        return NO_POSTGRESQL
    try:
        cluster = start(prefix=args.prefix)
    except (ClusterError, OSError, subprocess.SubprocessError) as error:
        print(error, file=sys.stderr)
        return 1
    print(cluster.root, cluster.url, cluster.version(), sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
