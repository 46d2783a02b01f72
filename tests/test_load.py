"""The load script's short form: 16 clients for 10 s against gunicorn on PostgreSQL, with 0 errors.

``bench/load/run.sh`` starts its own throwaway PostgreSQL cluster, seeds demo data, serves it with
gunicorn on 127.0.0.1 and drives it with wrk. Only errors are asserted here, never times: they
depend on the machine. The full run (60 s, 20,000 items) is ``bench/load/run.sh`` with no
settings. It runs once, in the PostgreSQL pass of the suite.
"""

import os
import re
import shutil
import subprocess

import pytest

from tests.conftest import REPO_DIR

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]


def test_short_load_run_has_no_error():
    if shutil.which("wrk") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wrk is not installed: CI must install Debian's wrk package")
        pytest.skip("wrk is not installed (apt-get install wrk)")
    env = {**os.environ, "DURATION": "10", "ITEMS": "2000", "CONNECTIONS": "16"}
    env.pop("DATABASE_URL", None)  # the script's own cluster, never the suite's database
    result = subprocess.run(
        ["bash", "bench/load/run.sh"], cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=600
    )
    print(result.stdout[-3000:])
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    match = re.fullmatch(r"load: (\d+) requests, (\d+) errors .*", summary)
    assert match, summary
    assert int(match.group(1)) > 0
    assert int(match.group(2)) == 0
