"""Live servers for the scale-out tests: a real primary + streaming replica pair and gunicorn on it.

The pair is started here (``backups.testing.pgreplication``: ``initdb``, then ``pg_basebackup -R`` with a slot
from that throwaway primary), whatever database the suite's pass uses; gunicorn runs the app on it
on loopback with the settings under test. Everything is removed at the end of the module.
"""

import os
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from backups.testing.pgcluster import bin_dir, free_port
from backups.testing.pgreplication import ReplicatedCluster
from tests.conftest import REPO_DIR, SAMPLE_RESPONSE_PATH

DATABASE = "backups"
PROJECT = "routing"
PASSWORD = "routing-Passw0rd-long-enough"
SEED = f"""
import json
from django.contrib.auth import get_user_model
from backups.models import ApiToken, ProjectMembership
from backups.document.parse import parse_item
from backups.services.upsert import upsert_items
items = json.load(open({str(SAMPLE_RESPONSE_PATH)!r}))["checkpoint_items"]
upsert_items({PROJECT!r}, [parse_item(item) for item in items])
user = get_user_model().objects.create_superuser("operator", password={PASSWORD!r})
ProjectMembership.objects.create(user=user, project_id={PROJECT!r})
print(ApiToken.issue(user=user, project_id={PROJECT!r})[1])
"""


class Pair:
    """A primary and its streaming replica, with the app's schema and the sample item."""

    def __init__(self):
        if bin_dir() is None:
            if os.environ.get("CI") == "true":
                pytest.fail("no PostgreSQL binaries: CI must install Debian's postgresql")
            pytest.skip("no PostgreSQL binaries under /usr/lib/postgresql")
        self.primary = ReplicatedCluster(tempfile.mkdtemp(prefix="routing-primary-")).start()
        self.primary.sql(f"CREATE DATABASE {DATABASE}")
        self.primary.sql("CREATE TABLE touch (at timestamptz)")
        self.replica = ReplicatedCluster.replica_of(self.primary, tempfile.mkdtemp(prefix="routing-replica-"))
        self.replica.start()
        env = {**os.environ, "DATABASE_URL": self.primary.url_for(DATABASE), "DEBUG": "1"}
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput"], cwd=REPO_DIR, env=env, check=True, capture_output=True)
        seeded = subprocess.run([*manage, "shell", "-c", SEED], cwd=REPO_DIR, env=env, check=True,
                                capture_output=True, text=True)
        self.token = seeded.stdout.strip().splitlines()[-1]
        self.caught_up()

    def caught_up(self):
        self.replica.wait_until_caught_up(self.primary)

    def fresh_then_paused(self):
        """Replay a new transaction (so the replay timestamp is now), then pause replay on the replica."""
        self.primary.sql("INSERT INTO touch VALUES (now())")
        self.caught_up()
        self.replica.sql("SELECT pg_wal_replay_pause()")

    def resume(self):
        self.replica.sql("SELECT pg_wal_replay_resume()")
        self.caught_up()

    def rename_on_primary(self, item_id, name):
        """Change the item's name (column and stored API JSON) with SQL on the primary only."""
        quoted = name.replace("'", "''")
        self.primary.sql(
            f"UPDATE backups_checkpointitem SET name = '{quoted}', name_folded = lower('{quoted}'), "
            f"document = jsonb_set(document::jsonb, '{{name}}', to_jsonb('{quoted}'::text))::text "
            f"WHERE id = '{item_id}'", database=DATABASE)

    def remove(self):
        self.replica.thaw()
        self.primary.thaw()
        self.replica.remove()
        self.primary.remove()


class App:
    """gunicorn (one sync worker) serving the app with ``env`` on a free loopback port."""

    def __init__(self, env):
        self.bind = f"127.0.0.1:{free_port()}"
        self.base = f"http://{self.bind}"
        self.log = tempfile.TemporaryFile()
        env = {**os.environ, "DEBUG": "1", "GUNICORN_BIND": self.bind, "GUNICORN_WORKERS": "1",
               "GUNICORN_ACCESS_LOG": os.devnull, **env}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "project.wsgi"],
            cwd=REPO_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{self.base}/healthz", timeout=5)
                return
            except requests.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start:\n{self.output()}")
                time.sleep(0.1)

    def workers(self):
        """Pids of the master's worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return sorted(int(pid) for pid in children.read_text().split())

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()

    def wait_for_reads_on(self, where, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            body = requests.get(f"{self.base}/readyz", timeout=10).json()
            if body.get("reads_on") == where:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"reads not on the {where} after {timeout}s: {body}")
            time.sleep(0.1)


def login(base, username="operator", password=PASSWORD):
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=10)
    response = session.post(f"{base}/accounts/login/", timeout=10, data={
        "username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]})
    assert response.status_code == 200 and "sessionid" in session.cookies, response.text[:500]
    return session


class FormFields(HTMLParser):
    """The fields of a page's forms as a browser posts them untouched (inputs, checked boxes,
    selected options, text areas), in document order."""

    def __init__(self):
        super().__init__()
        self.fields = []
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind not in ("submit", "button", "file"):
                self.fields.append([name, attrs.get("value", "on" if kind == "checkbox" else "")])
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields.append([self._select, attrs.get("value", "")])
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
            self.fields.append(self._textarea)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data


def form_fields(html):
    parser = FormFields()
    parser.feed(html)
    for field in parser.fields:  # a browser drops the newline that opens a text area
        if field[1].startswith("\n"):
            field[1] = field[1][1:]
    return parser.fields
