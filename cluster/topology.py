"""The scale-out topology on loopback: primary, replica, PgBouncer, two gunicorn app servers, nginx.

Everything lives in ``var/cluster/`` (git-ignored): each server's folder, logs, the rendered
``deploy/`` files and ``state.json`` (ports, pids, the demo token; mode 0600). Ports are free ones
on 127.0.0.1 picked at ``up``. Processes are started in sessions of their own and stopped by the pid
recorded for them (checked against their command line first), never by name.

    client ─▶ nginx ─▶ app1 (gunicorn) ─┐            ┌─▶ primary  (writes, fallback reads)
                   └─▶ app2 (gunicorn) ─┴▶ PgBouncer ┤
                                                     └─▶ replica  (reads; streams from the primary)

Django's settings for it are those of ``deploy/backups.env.example`` with loopback values
(``app_env``). Demo data is loaded on the primary directly (migrations and imports bypass the pooler).
"""

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from backups.testing.pgcluster import free_port
from backups.testing.pgreplication import ReplicatedCluster

from .processes import ClusterError, alive, http_get, is_ours, port_open, wait_for_port
from .render import render

REPO_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = REPO_DIR / "var" / "cluster"
DATABASE = "backups"
APP_SERVERS = ("app1", "app2")
QUERY_TIMEOUT = 3
#: What each recorded process's command line must contain before we signal its pid.
MARKERS = {"pgbouncer": "pgbouncer", "nginx": "nginx", "app1": "gunicorn", "app2": "gunicorn"}


class Topology:
    def __init__(self, state_dir=STATE_DIR):
        self.dir = Path(state_dir)
        self.state_file = self.dir / "state.json"
        self.state = json.loads(self.state_file.read_text()) if self.state_file.exists() else {}

    # --- state --------------------------------------------------------------------------------
    def save(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(self.state, indent=2))
        self.state_file.chmod(0o600)

    @property
    def ports(self):
        return self.state.setdefault("ports", {})

    @property
    def pids(self):
        return self.state.setdefault("pids", {})

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.ports['nginx']}"

    def primary(self):
        return ReplicatedCluster(self.dir / "primary", port=self.ports["primary"])

    def replica(self):
        return ReplicatedCluster(self.dir / "replica", port=self.ports["replica"])

    def app_url(self, name):
        return f"http://127.0.0.1:{self.ports[name]}"

    # --- up -----------------------------------------------------------------------------------
    def up(self, items=2000, log=print):
        if self.state_file.exists():
            if self.running():
                log("cluster: already up (scripts/cluster down first to start afresh)")
                return
            self.down(log=lambda *_: None)
            self.state = {}
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o755)
        for name in ("primary", "replica", "pgbouncer", *APP_SERVERS, "nginx"):
            self.ports[name] = free_port()
        self.state.update(secret_key=secrets.token_urlsafe(48), metrics_token=secrets.token_urlsafe(24))
        self.save()
        try:
            self._start_databases(log)
            self._load_demo_data(items, log)
            self.start_pgbouncer()
            log(f"cluster: PgBouncer on 127.0.0.1:{self.ports['pgbouncer']} (transaction pooling)")
            for name in APP_SERVERS:
                self.start_app(name)
            log(f"cluster: gunicorn app servers on {', '.join(self.app_url(n) for n in APP_SERVERS)}")
            self.start_nginx()
            log(f"cluster: nginx on {self.base_url}")
            self._wait_ready()
        except BaseException:
            log("cluster: start failed; stopping what was started (logs are kept until then in var/cluster)")
            self._print_log_tails(log)
            self.down(log=log)
            raise

    def _start_databases(self, log):
        primary = ReplicatedCluster(self.dir / "primary", port=self.ports["primary"]).start()
        primary.sql(f"CREATE DATABASE {DATABASE}")
        log(f"cluster: primary PostgreSQL on 127.0.0.1:{primary.port}")
        replica = ReplicatedCluster.replica_of(
            primary, self.dir / "replica", slot="replica1", port=self.ports["replica"]
        )
        replica.start()
        log(f"cluster: replica on 127.0.0.1:{replica.port} (pg_basebackup, slot replica1, streaming)")

    def _load_demo_data(self, items, log):
        env = self.command_env()
        self.manage(env, "migrate", "--noinput")
        self.manage(env, "createcachetable")
        self.manage(env, "collectstatic", "--noinput")
        seeded = self.manage(env, "seed_demo", "--items", str(items))
        project = re.search(r"API token of \S+ for project (\S+)", seeded)
        token = re.search(r"X-Auth-Token: (\S+)", seeded)
        if not (project and token):
            raise ClusterError(f"seed_demo printed no token:\n{seeded[-2000:]}")
        self.state.update(project=project.group(1), token=token.group(1))
        self.save()
        self.replica().wait_until_caught_up(self.primary())
        log(f"cluster: demo data loaded ({items} items), replica caught up")

    # --- the processes ------------------------------------------------------------------------
    def command_env(self):
        """Management commands: the app's settings, straight to the primary (no pooler, unbounded)."""
        env = self.app_env("app1")
        env["DATABASE_URL"] = self.primary().url_for(DATABASE)
        for name in (
            "REPLICA_DATABASE_URL",
            "DB_PGBOUNCER",
            "DB_QUERY_TIMEOUT",
            "PROMETHEUS_MULTIPROC_DIR",
            "GUNICORN_CONTROL_SOCKET",
        ):
            env.pop(name)
        return env

    def app_env(self, name):
        bouncer = f"postgres://postgres@127.0.0.1:{self.ports['pgbouncer']}"
        folder = self.dir / name
        return {
            **{key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "DB_"))},
            "DEBUG": "0",
            "SECRET_KEY": self.state["secret_key"],
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback; production terminates TLS in nginx
            "SECURE_COOKIES": "0",
            "DATABASE_URL": f"{bouncer}/{DATABASE}",
            "REPLICA_DATABASE_URL": f"{bouncer}/{DATABASE}_replica",
            "DB_PGBOUNCER": "1",
            "DB_QUERY_TIMEOUT": str(QUERY_TIMEOUT),
            "CACHE_BACKEND": "database",
            "NUM_PROXIES": "1",
            "STATIC_ROOT": str(self.dir / "static"),
            "METRICS_TOKEN": self.state["metrics_token"],
            "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
            "GUNICORN_BIND": f"127.0.0.1:{self.ports[name]}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_WORKER_CLASS": "gthread",
            "GUNICORN_THREADS": "2",
            "GUNICORN_KEEPALIVE": "75",
            "GUNICORN_ACCESS_LOG": str(folder / "access.log"),
            "GUNICORN_CONTROL_SOCKET": str(folder / "gunicorn.ctl"),
        }

    def manage(self, env, *args):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if result.returncode != 0:
            raise ClusterError(
                f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}{result.stderr[-3000:]}"
            )
        return result.stdout

    def start_pgbouncer(self):
        folder = self.dir / "pgbouncer"
        folder.mkdir(exist_ok=True)
        (folder / "userlist.txt").write_text('"postgres" ""\n')
        ini = render(
            "pgbouncer/pgbouncer.ini",
            {
                "primary_host": "127.0.0.1",
                "primary_port": self.ports["primary"],
                "replica_host": "127.0.0.1",
                "replica_port": self.ports["replica"],
                "database": DATABASE,
                "statement_timeout_ms": QUERY_TIMEOUT * 1000,
                "listen_addr": "127.0.0.1",
                "listen_port": self.ports["pgbouncer"],
                "unix_socket_dir": folder,
                "auth_type": "trust",
                "auth_file": folder / "userlist.txt",
                "admin_user": "postgres",
                "logfile": folder / "pgbouncer.log",
                "pidfile": "",
                "query_timeout": QUERY_TIMEOUT + 0.5,
            },
        )
        (folder / "pgbouncer.ini").write_text(ini)
        as_postgres = (
            {"user": "postgres", "group": "postgres", "extra_groups": []} if os.geteuid() == 0 else {}
        )
        if as_postgres:
            shutil.chown(folder, "postgres", "postgres")
            for path in folder.iterdir():
                shutil.chown(path, "postgres", "postgres")
        self._spawn(
            "pgbouncer", ["pgbouncer", str(folder / "pgbouncer.ini")], folder / "stdout.log", **as_postgres
        )

    def start_app(self, name):
        folder = self.dir / name
        folder.mkdir(exist_ok=True)
        command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "project.wsgi"]
        self._spawn(name, command, folder / "gunicorn.log", env=self.app_env(name))

    def start_nginx(self):
        folder = self.dir / "nginx"
        temp = folder / "temp"
        temp.mkdir(parents=True, exist_ok=True)
        servers = "\n".join(
            f"    server 127.0.0.1:{self.ports[name]} max_fails=1 fail_timeout=5s;" for name in APP_SERVERS
        )
        site = render(
            "nginx/backups.conf",
            {
                "upstream_servers": servers,
                "listen": f"127.0.0.1:{self.ports['nginx']}",
                "server_name": "127.0.0.1 localhost",
                "forwarded_proto": "$scheme",
            },
        )
        (folder / "backups.conf").write_text(site)
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        if user:
            shutil.chown(temp, "nobody", "nogroup")
        (folder / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
            f"error_log {folder}/error.log warn;\n"
            "events { worker_connections 1024; }\n"
            f"http {{\n    access_log {folder}/access.log;\n"
            + "".join(
                f"    {kind}_temp_path {temp}/{kind};\n"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            + f"    include {folder}/backups.conf;\n}}\n"
        )
        self._spawn(
            "nginx", ["nginx", "-p", str(folder), "-c", str(folder / "nginx.conf")], folder / "stdout.log"
        )

    def _spawn(self, name, command, log_path, env=None, **kwargs):
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                command,
                cwd=REPO_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **kwargs,
            )
        self.pids[name] = process.pid
        self.save()
        wait_for_port(self.ports[name], timeout=60, process=process, name=name, log_path=log_path)

    def _wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            status, body = http_get(f"{self.base_url}/readyz")
            if status == 200 and all(
                http_get(f"{self.app_url(name)}/readyz")[1].get("reads_on") == "replica"
                for name in APP_SERVERS
            ):
                return
            if time.monotonic() > deadline:
                raise ClusterError(f"not ready after {timeout}s: {status} {body}")
            time.sleep(0.2)

    # --- stop ---------------------------------------------------------------------------------
    def stop_process(self, name, sig=signal.SIGTERM, timeout=20):
        """Signal the recorded process ``name`` (its whole group for SIGKILL) and wait until it is gone."""
        pid = self.pids.pop(name, None)
        self.save()
        if pid is None or not is_ours(pid, MARKERS[name]):
            return
        with contextlib.suppress(ProcessLookupError):
            if sig == signal.SIGKILL:
                os.killpg(pid, sig)  # gunicorn's workers die with their master, as in a crash
            else:
                os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)

    def down(self, log=print):
        if not self.state:
            log("cluster: nothing to stop")
        for name in ("nginx", *APP_SERVERS, "pgbouncer"):
            if name in self.pids:
                self.stop_process(name)
                log(f"cluster: stopped {name}")
        for name in ("replica", "primary"):
            if name in self.ports and (self.dir / name / "data").exists():
                server = ReplicatedCluster(self.dir / name, port=self.ports[name])
                server.stop("fast")
                log(f"cluster: stopped {name}")
        shutil.rmtree(self.dir, ignore_errors=True)
        log(f"cluster: removed {self.dir}")

    # --- status -------------------------------------------------------------------------------
    def running(self):
        return any(alive(pid) for pid in self.pids.values()) or any(
            (self.dir / name / "data" / "postmaster.pid").exists() for name in ("primary", "replica")
        )

    def status(self):
        """``[(component, ok, detail)]`` for every piece of the topology."""
        rows = []
        for name in ("primary", "replica"):
            server = ReplicatedCluster(self.dir / name, port=self.ports[name])
            up = server.pid is not None
            detail = f"127.0.0.1:{server.port}"
            if up and name == "replica":
                behind, receiver = server.sql(
                    "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn(), "
                    "(SELECT status FROM pg_stat_wal_receiver)"
                ).split("|")
                replay = "replaying" if behind == "t" else "caught up"
                detail += f", WAL receiver {receiver or 'absent'}, {replay}"
            rows.append((name, up, detail))
        for name in ("pgbouncer", *APP_SERVERS, "nginx"):
            pid = self.pids.get(name)
            up = pid is not None and alive(pid) and port_open(self.ports[name])
            rows.append((name, up, f"127.0.0.1:{self.ports[name]} pid {pid}"))
        status, body = http_get(f"{self.base_url}/readyz")
        rows.append(("readyz", status == 200, json.dumps(body)))
        return rows

    def _print_log_tails(self, log):
        for path in sorted(self.dir.glob("*/*.log")):
            text = path.read_text(errors="replace").strip()
            if text:
                log(f"--- {path.relative_to(self.dir)} (last lines)\n{text[-1500:]}")
