"""The real client (huaweicloud-sdk-python's ``openstack.csbs.v1``) in its own virtualenv, on a live server.

The SDK pins old libraries (``keystoneauth1<=3.4.0``), so it never enters the project's virtualenv:
it is installed once into a cached virtualenv of its own (``SDK_VENV_DIR``, else
``$XDG_CACHE_HOME/backups-service/sdk-venv-<hash of the pins>``, ``~/.cache`` by default), built
under a lock so that parallel runs (SQLite and PostgreSQL) share it, and reused by later runs.
``tests/sdk_client_script.py`` runs there, against pytest-django's ``live_server``, and prints
what the client got; this module asserts on it and on the HTTP exchanges the client recorded.

Building the virtualenv needs PyPI: when PyPI is unreachable the test is skipped, unless ``CI=true``
(CI reaches PyPI, so there the test must run and fails if it cannot). ``SDK_CLIENT_REPORT=path``
keeps the client's report (calls, results, every HTTP exchange) in that file.
"""
import copy
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.cache import cache
from django.core.management import call_command

from backups.document.parse import parse_item
from backups.services.upsert import upsert_items
from tests.conftest import REPO_DIR, SAMPLE_RESPONSE_PATH

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

#: The SDK and every library it pulls in, pinned: the newest releases that satisfy its own pins and
#: work on Python 3.11 (keystoneauth1 3.4.0 with current requests, as CLIENT.md says).
SDK_REQUIREMENTS = (
    "huaweicloud-sdk-python==1.0.28",
    "keystoneauth1==3.4.0",
    "requests==2.34.2",
    "urllib3==2.8.0",
    "idna==3.20",
    "charset-normalizer==3.5.3",
    "certifi==2026.10.19.post1",
    "iso8601==2.1.0",
    "pbr==7.1.3",
    "six==1.17.0",
    "stevedore==5.10.0",
    "deprecation==2.1.0",
    "packaging==26.4",
)
SCRIPT = Path(__file__).with_name("sdk_client_script.py")
PIP_OPTIONS = ("--disable-pip-version-check", "--no-input", "--timeout", "20", "--retries", "1")

PROJECT, OTHER = "sdk-project", "sdk-other-project"
SAMPLE = json.loads(SAMPLE_RESPONSE_PATH.read_text(encoding="utf-8"))["checkpoint_items"][0]
SORT = "status:asc,created_at:desc"
NAME = "daily backup"  # lower case, and a space the SDK sends as '+'
ITEM_FIELDS = (
    "id", "checkpoint_id", "name", "description", "status", "resource_id", "resource_type",
    "created_at", "updated_at", "protected_at", "backup_data", "extend_info", "replication_records",
)


# --- the SDK's virtualenv --------------------------------------------------------------------------


def sdk_venv_dir():
    if os.environ.get("SDK_VENV_DIR"):
        return Path(os.environ["SDK_VENV_DIR"])
    pins = "\n".join((f"python{sys.version_info.major}.{sys.version_info.minor}", *SDK_REQUIREMENTS))
    digest = hashlib.sha256(pins.encode()).hexdigest()[:12]
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    if not os.access(cache_home if cache_home.exists() else cache_home.parent, os.W_OK):
        cache_home = Path(tempfile.gettempdir())
    return cache_home / "backups-service" / f"sdk-venv-{digest}"


def run_or_fail(command, what, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        pytest.fail(f"{what} failed (exit {result.returncode}):\n{output}")
    return result


def build_sdk_venv(venv):
    """Create ``venv`` and install the pinned SDK there; skip if PyPI is unreachable outside CI."""
    python = venv / "bin" / "python"
    run_or_fail([sys.executable, "-m", "venv", "--clear", str(venv)], "creating its virtualenv", timeout=300)
    with tempfile.TemporaryDirectory() as scratch:
        probe = subprocess.run(
            [str(python), "-m", "pip", "download", *PIP_OPTIONS, "--no-deps", "--dest", scratch,
             SDK_REQUIREMENTS[0]],
            capture_output=True, text=True, timeout=300,
        )
    if probe.returncode != 0:
        reason = f"PyPI is unreachable: pip could not download {SDK_REQUIREMENTS[0]}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true, so this test must run):\n{probe.stderr[-3000:]}")
        pytest.skip(f"{reason}; the real-client test needs it once, to build its virtualenv (CI=true: fails)")
    run_or_fail(
        [str(python), "-m", "pip", "install", *PIP_OPTIONS, *SDK_REQUIREMENTS],
        "installing the SDK into its virtualenv",
        timeout=900,
    )
    run_or_fail(
        [str(python), "-c", "import collections, collections.abc; "
         "collections.MutableMapping = collections.abc.MutableMapping; import openstack.csbs.v1._proxy"],
        "importing the SDK",
        timeout=120,
    )


@pytest.fixture(scope="session")
def sdk_python():
    """The Python of the SDK's cached virtualenv, built on first use."""
    venv = sdk_venv_dir()
    python, ready = venv / "bin" / "python", venv / "READY"
    if not ready.exists():
        venv.parent.mkdir(parents=True, exist_ok=True)
        with open(venv.parent / f"{venv.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # a parallel run may be building it; wait for it
            if not ready.exists():
                build_sdk_venv(venv)
                ready.write_text("\n".join(SDK_REQUIREMENTS) + "\n")
    return python


# --- data ------------------------------------------------------------------------------------------


def item(index):
    """A variation of the seed's sample: names, statuses, times (ties in pairs), types and dec vary."""
    data = copy.deepcopy(SAMPLE)
    created = datetime(2024, 5, 1, 8, 0) + timedelta(hours=index // 2)
    data |= {
        "id": f"sdk-item-{index:02d}",
        "name": f"Daily Backup {index:02d}" if index % 3 == 0 else f"weekly_{index:02d}",
        "status": "error" if index % 4 == 0 else "available",
        "created_at": created.isoformat(timespec="microseconds"),
        "resource_type": "OS::Cinder::Volume" if index % 2 else "OS::Nova::Server",
    }
    if index % 5 < 2:
        data["extend_info"]["dec"] = index % 5 == 0
    return data


def in_default_order(items):
    """API.md's default order: created_at desc, id desc (code point order; the ids are ASCII)."""
    return [i["id"] for i in sorted(items, key=lambda i: (i["created_at"], i["id"]), reverse=True)]


def in_sort_order(items):
    """``SORT`` = status asc, created_at desc, then id in the direction of the last key (desc)."""
    return [i["id"] for i in sorted(sorted(items, key=lambda i: (i["created_at"], i["id"]), reverse=True),
                                    key=lambda i: i["status"])]


@pytest.fixture
def catalogue():
    """25 items in PROJECT (the seed's sample and 24 variations), one in OTHER."""
    items = [copy.deepcopy(SAMPLE), *(item(index) for index in range(24))]
    other = item(99) | {"id": "sdk-item-of-another-project"}
    upsert_items(PROJECT, [parse_item(data) for data in items])
    upsert_items(OTHER, [parse_item(other)])
    return items, other


def issue_token(*args):
    """``create_token`` as from the shell; the token is its last line."""
    out = StringIO()
    call_command("create_token", *args, stdout=out)
    return out.getvalue().splitlines()[-1]


# --- running the client ----------------------------------------------------------------------------


def run_client(sdk_python, config, script=SCRIPT):
    """Run ``script`` in the SDK's virtualenv with a clean environment; return its JSON report."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "NO_PROXY": "*",  # the live server is on loopback; never send it to a proxy
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    result = subprocess.run(
        [str(sdk_python), str(script)], input=json.dumps(config), capture_output=True, text=True,
        env=env, cwd=REPO_DIR, timeout=300,
    )
    assert result.returncode == 0, f"the client script failed:\n{result.stderr[-5000:]}"
    if os.environ.get("SDK_CLIENT_REPORT"):  # a path: keep what the client sent and got, for a reader
        Path(os.environ["SDK_CLIENT_REPORT"]).write_text(result.stdout, encoding="utf-8")
    return json.loads(result.stdout)


def api_answer(client, path, token, **params):
    """The API's own answer (Django's test client) as the SDK surfaces it: status, code, ``[code]msg``."""
    response = client.get(f"/v1/{PROJECT}/{path}", params, HTTP_X_AUTH_TOKEN=token)
    body = json.loads(response.content)
    return {
        "http_status": response.status_code,
        "error_code": body["error_code"],
        "details": f"[{body['error_code']}]{body['error_msg']}",
    }


def surfaced(error):
    return {key: error[key] for key in ("http_status", "error_code", "details")}


def query_of(exchange):
    return dict(parse_qsl(urlsplit(exchange["url"]).query, keep_blank_values=True))


def path_of(exchange):
    return urlsplit(exchange["url"]).path


def test_real_client_lists_pages_filters_gets_counts_and_surfaces_errors(
    live_server, sdk_python, catalogue, client
):
    items, other = catalogue
    cache.clear()  # failed authentications of earlier tests count towards the 429 limit
    token = issue_token("--user", "sdk-user", "--project", PROJECT)
    admin_token = issue_token("--user", "sdk-admin", "--project", PROJECT, "--admin")
    base_url = live_server.url
    assert urlsplit(base_url).hostname in ("localhost", "127.0.0.1")

    report = run_client(sdk_python, {
        "base_url": base_url, "project_id": PROJECT, "other_project_id": OTHER,
        "token": token, "admin_token": admin_token,
        "status": "error", "name": NAME, "resource_type": "OS::Cinder::Volume", "sort": SORT,
        "get_id": SAMPLE["id"], "unknown_id": "no-such-item", "other_project_item_id": other["id"],
    })

    everything = in_default_order(items)
    assert len(everything) == len(set(everything)) == 25
    by_id = {data["id"]: data for data in items}

    def where(keep):
        return [item_id for item_id in everything if keep(by_id[item_id])]

    # Listing: every item exactly once, in the API's order, whatever the page size.
    assert report["paged_by_10"] == everything
    assert report["paged_by_5"] == everything
    assert report["unpaginated"] == everything
    assert report["paged_by_7_sorted"] == in_sort_order(items)
    # Filters.
    assert report["by_status"] == where(lambda d: d["status"] == "error")
    assert report["by_name"] == where(lambda d: NAME in d["name"].lower())
    assert report["by_dec_true"] == where(lambda d: d["extend_info"].get("dec") is True)
    assert report["by_dec_false"] == where(lambda d: not d["extend_info"].get("dec"))
    assert report["by_resource_type"] == where(lambda d: d["resource_type"] == "OS::Cinder::Volume")
    assert report["proxy_resource_type_bug"]["class"] == "TypeError"  # CLIENT.md's SDK bug, still there
    assert report["all_tenants"] == in_default_order([*items, other])
    # Get: every field the SDK declares equals the API's JSON (and the seed's where it has them).
    api_item = client.get(f"/v1/{PROJECT}/checkpoint_items/{SAMPLE['id']}", HTTP_X_AUTH_TOKEN=token).json()
    assert report["get"] == {field: api_item["checkpoint_item"][field] for field in ITEM_FIELDS}
    assert {k: v for k, v in report["get"].items() if k in SAMPLE and not isinstance(v, dict)} == {
        k: v for k, v in SAMPLE.items() if k in ITEM_FIELDS and not isinstance(v, dict)
    }
    # Count.
    assert report["count_available"] == len(where(lambda d: d["status"] == "available"))
    assert report["count_by_name"] == len(report["by_name"])
    assert report["count_ignoring_paging"] == 25

    # Errors: the SDK's exception carries exactly the API's status, error_code and error_msg.
    errors = report["errors"]

    def api(path, **params):
        return api_answer(client, f"checkpoint_items{path}", token, **params)

    expected = {
        "unknown_id": ("NotFoundException", "CSBS.3001", api("/no-such-item")),
        "other_project_item": ("NotFoundException", "CSBS.3001", api(f"/{other['id']}")),
        "bad_sort": ("BadRequestException", "CSBS.9001", api("", sort="size:asc")),
        "bad_count_status": ("BadRequestException", "CSBS.9001", api("/count", status="bogus")),
        "limit_over_1000": ("BadRequestException", "CSBS.9001", api("", limit="1001")),
        "all_tenants_not_admin": ("HttpException", "CSBS.9403", api("", all_tenants="True")),
        "other_project": ("HttpException", "CSBS.9403", None),
        "unknown_token": ("HttpException", "CSBS.9401", None),
    }
    assert sorted(errors) == sorted(expected)
    for name, (cls, code, answer) in expected.items():
        assert (name, cls in errors[name]["is_a"], errors[name]["error_code"]) == (name, True, code)
        if answer is not None:
            assert (name, surfaced(errors[name])) == (name, answer)
    # get_checkpoint_item replaces the message with its own ("No CheckpointItem found for …") and
    # keeps the API's in ``details``; the other calls keep the API's error_msg as their message.
    assert errors["unknown_id"] == {
        "class": "ResourceNotFound",
        "is_a": ["ResourceNotFound", "NotFoundException", "HttpException", "SDKException", "Exception"],
        "http_status": 404,
        "error_code": "CSBS.3001",
        "error_msg": "No CheckpointItem found for no-such-item",
        "details": "[CSBS.3001]Checkpoint_item (no-such-item) is not found.",
        "str": "ResourceNotFound: No CheckpointItem found for no-such-item, "
        "[CSBS.3001]Checkpoint_item (no-such-item) is not found.",
    }
    for name in expected.keys() - {"unknown_id", "other_project_item"}:
        error = errors[name]
        assert (name, f"[{error['error_code']}]{error['error_msg']}") == (name, error["details"])
    assert surfaced(errors["other_project"]) == {
        "http_status": 403,
        "error_code": "CSBS.9403",
        "details": f"[CSBS.9403]No permission to read project {OTHER}",
    }
    assert errors["unknown_token"]["http_status"] == 401

    assert_exchanges(report["exchanges"], everything)


def assert_exchanges(exchanges, everything):
    """What the client sent (CLIENT.md) and that every answer was JSON."""
    for exchange in exchanges:
        assert exchange["method"] == "GET", exchange
        assert exchange["body"] is None, exchange
        assert exchange["headers"]["Content-Type"] == "application/json", exchange
        assert exchange["headers"]["X-Auth-Token"] == "<token>", exchange
        assert exchange["response_content_type"] == "application/json", exchange
        assert exchange["response_request_id"].startswith("req-"), exchange
        assert not path_of(exchange).endswith("/"), exchange
    lists = [e for e in exchanges if path_of(e).endswith("/checkpoint_items")]
    assert {e["headers"]["Accept"] for e in lists} == {"application/json"}
    assert {e["headers"]["Accept"] for e in exchanges if e not in lists} == {"*/*"}

    # paged_by_10: three pages (10, 10, 5), the marker being each page's last id; stops on the short page.
    assert [(query_of(e), e["status"]) for e in exchanges[:3]] == [
        ({"limit": "10"}, 200),
        ({"limit": "10", "marker": everything[9]}, 200),
        ({"limit": "10", "marker": everything[19]}, 200),
    ]
    # paged_by_5: five full pages, then the empty page that ends it.
    assert [query_of(e) for e in exchanges[3:9]] == [
        {"limit": "5", **({"marker": everything[k - 1]} if k else {})} for k in range(0, 30, 5)
    ]
    assert exchanges[8]["response_bytes"] == len('{"checkpoint_items":[]}')
    # The SDK's encodings: booleans as True/False, spaces as '+'.
    queries = [urlsplit(e["url"]).query for e in exchanges]
    assert any("dec=True" in q.split("&") for q in queries)
    assert any("dec=False" in q.split("&") for q in queries)
    assert any("all_tenants=True" in q.split("&") for q in queries)
    assert any("name=daily+backup" in q.split("&") for q in queries)
