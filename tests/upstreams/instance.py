"""A second running instance of this very service, as the sync's CSBS upstream.

Its own SQLite database in a temporary folder, migrated and filled by ``seed_demo`` (or imports),
an admin API token, and ``manage.py runserver --noreload`` on a free loopback port, all in
subprocesses with their own environment: nothing is shared with the test's database but the code.
"""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import REPO_DIR

MANAGE = str(REPO_DIR / "manage.py")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServiceInstance:
    """``with ServiceInstance(folder, items=300, projects=3) as upstream:`` — ``url``, ``token``, ``manage()``."""

    def __init__(self, folder, *, items=300, projects=3, seed=7):
        self.folder = Path(folder)
        self.items, self.projects, self.seed = items, projects, seed
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "DATABASE_URL": f"sqlite:///{self.folder / 'upstream.sqlite3'}",
            "DEBUG": "1",
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.process = None
        self.port = None
        self.token = None
        self.project_ids = []

    def manage(self, *args, timeout=300, input=None):
        """Run ``manage.py ARGS`` against this instance's database; its stdout."""
        result = subprocess.run(
            [sys.executable, MANAGE, *args], env=self.env, cwd=REPO_DIR, capture_output=True, text=True,
            timeout=timeout, input=input,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
        return result.stdout

    def python(self, code):
        """Run ``code`` with Django set up on this instance's database (e.g. to delete an item)."""
        return self.manage("shell", "--no-imports", "-c", code)

    def python_last_line(self, code):
        return self.python(code).strip().splitlines()[-1]

    def start(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "-v", "0")
        if self.items:
            self.manage("seed_demo", "--items", str(self.items), "--projects", str(self.projects),
                        "--seed", str(self.seed), "--no-users")
        self.project_ids = json.loads(self.python_last_line(
            "import json; from backups.models import CheckpointItem; "
            "print(json.dumps(sorted(set(CheckpointItem.objects.values_list('project_id', flat=True)))))"
        ))
        self.token = self.manage("create_token", "--user", "mirror", "--project", "mirror-admin", "--admin")
        self.token = self.token.strip().splitlines()[-1]
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, MANAGE, "runserver", "--noreload", "--skip-checks",
             f"127.0.0.1:{self.port}"],
            env=self.env, cwd=REPO_DIR, stdout=subprocess.DEVNULL, stderr=open(self.folder / "server.log", "w"),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the upstream instance exited:\n{(self.folder / 'server.log').read_text()[-3000:]}")
            try:
                httpx.get(self.url + "/v1/openapi.json", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("the upstream instance did not start within 60 s")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def get(self, path, **params):
        return httpx.get(self.url + path, params=params, headers={"X-Auth-Token": self.token}, timeout=30)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
