"""CBR into the inventory, and the cloud's two other ways in: IAM password login and AK/SK signing.

The CBR upstream answers from huaweicloudsdkcbr's own models (``tests.upstreams.cbr``), so the
mapping is checked against the real field set of ``BackupResp``.
"""
import json
from datetime import timedelta

import pytest
from huaweicloudsdkcbr.v1.model import BackupResp
from huaweicloudsdkcore.utils.http_utils import sanitize_for_serialization

from backups.models import CheckpointItem
from backups.sync.cbr import csbs_item
from backups.sync.models import AuthMethod, RunStatus
from tests.api.helpers import token_client
from tests.sync.helpers import FAST_RETRIES, run, source, walk_api
from tests.upstreams.cbr import CBRUpstream, backup
from tests.upstreams.iam import IAMUpstream

pytestmark = pytest.mark.django_db

PROJECT = "cbr-project"
#: Where each BackupResp key lands in the CSBS item ("extend_info.x": moved there; "": top level).
MOVED = {"resource_name": "extend_info", "resource_az": "extend_info", "image_type": "extend_info",
         "resource_size": "extend_info.size", "incremental": "extend_info"}


@pytest.fixture(autouse=True)
def fast_retries(settings):
    for name, value in FAST_RETRIES.items():
        setattr(settings, name, value)


def raw(index, **overrides):
    return sanitize_for_serialization(backup(index, **overrides))


# --- the mapping ---------------------------------------------------------------------------------


def test_the_mapping_of_one_backup_is_the_csbs_item_upstreams_md_describes():
    assert csbs_item(raw(1)) == {
        "id": "cbr-00001-b", "name": "autobk_0001", "description": "backup 1", "status": "protecting",
        "checkpoint_id": "chk-00001", "resource_id": "server-001", "resource_type": "OS::Nova::Server",
        "created_at": "2025-03-01T13:00:00.123000", "updated_at": "2025-03-01T13:09:00.123000",
        "protected_at": "2025-03-01T13:01:00.123000",
        "extend_info": {
            "auto_trigger": False, "bootable": True, "snapshot_id": "snap-00001", "support_lld": False,
            "supported_restore_mode": "backup", "os_images_data": [{"image_id": "image-00001"}],
            "contain_system_disk": True, "encrypted": False, "system_disk": False, "is_multi_az": False,
            "resource_name": "web-001", "resource_az": "ap-southeast-1a", "image_type": "backup",
            "size": 41 * 1024, "incremental": True,
        },
        "replication_records": [],
        "expired_at": "2025-03-31T13:00:00.123", "project_id": PROJECT, "vault_id": "vault-1",
        "enterprise_project_id": "0", "provider_id": "0daac4c5-6707-4851-97ba-169e36266b66",
        "children": [], "version": 1,
    }


@pytest.mark.parametrize("given, written", [
    ("2025-03-01T13:00:00.123456", "2025-03-01T13:00:00.123456"),
    ("2025-03-01T13:00:00.123", "2025-03-01T13:00:00.123000"),
    ("2025-03-01T21:00:00.123+08:00", "2025-03-01T13:00:00.123000"),
    ("2025-03-01T13:00:00Z", "2025-03-01T13:00:00.000000"),
    ("2025-03-01 13:00:00", "2025-03-01T13:00:00.000000"),
    ("2025-03-01", "2025-03-01T00:00:00.000000"),
    ("not a time", "not a time"),
    (None, None),
])
def test_cbr_timestamps_are_read_leniently_as_utc_when_no_offset(given, written):
    assert csbs_item(raw(0, created_at=given, updated_at=None, protected_at=None))["created_at"] == written


@pytest.mark.parametrize("gigabytes, megabytes", [(40, 40960), (0, 0), (None, None), (1.5, 1536.0)])
def test_resource_size_in_gb_becomes_extend_info_size_in_mb(gigabytes, megabytes):
    assert csbs_item(raw(0, resource_size=gigabytes))["extend_info"]["size"] == megabytes


def test_every_field_of_the_sdks_backup_resp_reaches_the_api(monkeypatch):
    """No key of ``BackupResp`` is lost on the way: each is served as is, moved, or kept as an extra."""
    monkeypatch.setenv("UP_TOKEN", "t")
    full = backup(3, parent_id="parent-1", scheduled_operation_id="policy-7", children=[backup(90)])
    with CBRUpstream({PROJECT: [full]}, tokens={"t"}) as cbr:
        assert run(source("cbr", kind="cbr", endpoint=cbr.url, project_id=PROJECT)).status == RunStatus.SUCCEEDED
    served = token_client(PROJECT).get(f"/v1/{PROJECT}/checkpoint_items/{full.id}").json()["checkpoint_item"]
    given = sanitize_for_serialization(full)
    assert set(given) == set(BackupResp.attribute_map.values())  # the fake fills every field
    for key, value in given.items():
        where = MOVED.get(key, "")
        if where == "extend_info.size":
            assert served["extend_info"]["size"] == value * 1024
        elif where == "extend_info":
            assert served["extend_info"][key] == value, key
        elif key in ("created_at", "updated_at", "protected_at"):
            assert served[key].startswith(value[:10]), key
        elif key == "extend_info":
            assert value.items() <= served["extend_info"].items()
        elif key == "replication_records":
            record = served[key][0]
            assert {k: v for k, v in value[0].items() if k != "created_at"}.items() <= record.items()
        else:
            assert served[key] == value, key
    assert "policy_id" not in served


# --- a CBR source end to end -----------------------------------------------------------------------


def test_a_cbr_source_is_mirrored_and_served_by_the_csbs_api(monkeypatch):
    monkeypatch.setenv("UP_TOKEN", "t")
    backups = [backup(i) for i in range(130)]
    with CBRUpstream({PROJECT: backups}, tokens={"t"}) as cbr:
        src = source("cbr", kind="cbr", endpoint=cbr.url, project_id=PROJECT, page_size=50)
        result = run(src)
        assert (result.status, result.pages, result.items_created, result.upstream_count) == (
            RunStatus.SUCCEEDED, 3, 130, 130)
        served = walk_api(token_client(PROJECT).get, f"/v1/{PROJECT}/checkpoint_items", sort="id:asc")
        assert [item["id"] for item in served] == sorted(b.id for b in backups)
        by_id = {b.id: sanitize_for_serialization(b) for b in backups}
        for item in served:
            given = by_id[item["id"]]
            assert item["extend_info"]["size"] == given["resource_size"] * 1024
            assert (item["vault_id"], item["extend_info"]["resource_name"]) == (given["vault_id"], given["resource_name"])
            assert len(item["replication_records"]) == len(given.get("replication_records", []))

        cbr.backups[PROJECT] = backups[:-5]  # CBR has no "deleted": vanished backups are marked gone
        assert run(src).items_marked_gone == 5
    assert CheckpointItem.objects.filter(source=src, gone_at__isnull=False).count() == 5
    filtered = token_client(PROJECT).get(f"/v1/{PROJECT}/checkpoint_items", {"vault_id": "x"})
    assert filtered.status_code == 400  # CBR's extra keys are served, not new filters: the contract stays


# --- IAM password login ------------------------------------------------------------------------------


@pytest.fixture
def iam_env(monkeypatch):
    for name, value in (("IAM_USER", "sync-bot"), ("IAM_PASSWORD", "s3cret!"), ("IAM_DOMAIN", "acme")):
        monkeypatch.setenv(name, value)


def password_source(cbr, iam, **fields):
    return source(
        "cbr-iam", kind="cbr", endpoint=cbr.url, project_id=PROJECT, page_size=50, token_env="",
        auth_method=AuthMethod.PASSWORD, iam_endpoint=iam.auth_url, username_env="IAM_USER",
        password_env="IAM_PASSWORD", domain_env="IAM_DOMAIN", **fields,
    )


def test_iam_password_login_is_project_scoped_and_its_token_is_reused_across_pages(iam_env):
    with IAMUpstream(user="sync-bot", password="s3cret!", domain="acme", project_id=PROJECT) as iam, \
            CBRUpstream({PROJECT: [backup(i) for i in range(120)]}, tokens=iam.valid) as cbr:
        result = run(password_source(cbr, iam))
        assert result.status == RunStatus.SUCCEEDED, result.error
        assert (result.requests, iam.logins) == (3, 1)
        login = json.loads(iam.bodies[0])["auth"]
        assert login["scope"] == {"project": {"id": PROJECT}} and login["identity"]["methods"] == ["password"]
        assert login["identity"]["password"]["user"] == {"name": "sync-bot", "password": "s3cret!",
                                                         "domain": {"name": "acme"}}
        tokens = {headers["X-Auth-Token"] for _, path, headers in cbr.requests}
        assert len(tokens) == 1 and tokens <= set(iam.issued)


def test_a_token_about_to_expire_is_renewed_before_it_is_used(iam_env):
    # keystoneauth logs in again when a token has under two minutes left: these live one minute.
    with IAMUpstream(user="sync-bot", password="s3cret!", domain="acme", project_id=PROJECT,
                     lifetime=timedelta(minutes=1)) as iam, \
            CBRUpstream({PROJECT: [backup(i) for i in range(120)]}, tokens=iam.valid) as cbr:
        result = run(password_source(cbr, iam))
        assert result.status == RunStatus.SUCCEEDED and (result.requests, iam.logins) == (3, 3)
        assert len({headers["X-Auth-Token"] for _, _, headers in cbr.requests}) == 3


def test_a_401_from_the_upstream_logs_in_again_once(iam_env):
    with IAMUpstream(user="sync-bot", password="s3cret!", domain="acme", project_id=PROJECT) as iam, \
            CBRUpstream({PROJECT: [backup(i) for i in range(120)]}, tokens=iam.valid) as cbr:
        def revoke_after_first_page(source, progress):
            if progress.pages == 1:
                iam.revoke_all()  # e.g. the user's password changed: every token stops working

        result = run(password_source(cbr, iam), on_progress=revoke_after_first_page)
        assert result.status == RunStatus.SUCCEEDED, result.error
        assert (iam.logins, result.requests, result.retries) == (2, 4, 0)  # pages 1, 2 (401), 2, 3


def test_a_refused_iam_login_fails_the_run_with_iams_answer(iam_env, monkeypatch):
    monkeypatch.setenv("IAM_PASSWORD", "wrong")
    with IAMUpstream(user="sync-bot", password="s3cret!", domain="acme", project_id=PROJECT) as iam, \
            CBRUpstream({PROJECT: [backup(1)]}, tokens=iam.valid) as cbr:
        result = run(password_source(cbr, iam))
        assert result.status == RunStatus.FAILED and iam.refused == 1 and not cbr.requests
        assert f"IAM login at {iam.auth_url}/auth/tokens failed: HTTP 401" in result.error
        assert "The username or password is wrong." in result.error
        assert "wrong" not in result.error.replace("is wrong", "")  # the password is never recorded


# --- AK/SK signing ---------------------------------------------------------------------------------


def aksk_source(cbr, **fields):
    return source("cbr-aksk", kind="cbr", endpoint=cbr.url, project_id=PROJECT, page_size=50, token_env="",
                  auth_method=AuthMethod.AKSK, ak_env="CLOUD_AK", sk_env="CLOUD_SK", **fields)


def test_aksk_requests_carry_the_official_signers_signature(monkeypatch):
    monkeypatch.setenv("CLOUD_AK", "AKEXAMPLE0001")
    monkeypatch.setenv("CLOUD_SK", "sk-example-secret")
    with CBRUpstream({PROJECT: [backup(i) for i in range(120)]}, aksk={"AKEXAMPLE0001": "sk-example-secret"}) as cbr:
        result = run(aksk_source(cbr))
        assert result.status == RunStatus.SUCCEEDED, result.error
        assert len(cbr.signature_checks) == 3
        for sent, expected in cbr.signature_checks:
            assert sent == expected and sent.startswith("SDK-HMAC-SHA256 Access=AKEXAMPLE0001, SignedHeaders=")
        for _, path, headers in cbr.requests:
            assert headers["X-Project-Id"] == PROJECT and len(headers["X-Sdk-Date"]) == 16
            assert "sk-example-secret" not in json.dumps(headers) + path


def test_aksk_with_a_temporary_security_token_signs_it_too(monkeypatch):
    monkeypatch.setenv("CLOUD_AK", "AKTEMP")
    monkeypatch.setenv("CLOUD_SK", "sk-temp")
    monkeypatch.setenv("CLOUD_STS", "sts-token-value")
    with CBRUpstream({PROJECT: [backup(1)]}, aksk={"AKTEMP": "sk-temp"}) as cbr:
        result = run(aksk_source(cbr, security_token_env="CLOUD_STS"))
        assert result.status == RunStatus.SUCCEEDED, result.error
        [(_, _, headers)] = cbr.requests
        assert headers["X-Security-Token"] == "sts-token-value"
        assert "x-security-token" in headers["Authorization"].split("SignedHeaders=")[1]


def test_a_wrong_secret_key_is_refused_and_not_retried(monkeypatch):
    monkeypatch.setenv("CLOUD_AK", "AKEXAMPLE0001")
    monkeypatch.setenv("CLOUD_SK", "not-the-secret")
    with CBRUpstream({PROJECT: [backup(1)]}, aksk={"AKEXAMPLE0001": "sk-example-secret"}) as cbr:
        result = run(aksk_source(cbr))
    assert (result.status, result.requests, result.retries) == (RunStatus.FAILED, 1, 0)
    assert "HTTP 401" in result.error and "the signature does not match" in result.error


@pytest.mark.parametrize("page_size", [10, 100])
def test_a_page_costs_a_fixed_number_of_queries_whatever_its_size(monkeypatch, page_size):
    """An unchanged page: savepoint, lease, sightings read, their seen_at, the run, release."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setenv("UP_TOKEN", "t")
    with CBRUpstream({PROJECT: [backup(i) for i in range(4 * page_size)]}, tokens={"t"}) as cbr:
        src = source("cbr", kind="cbr", endpoint=cbr.url, project_id=PROJECT, page_size=page_size)
        run(src)
        with CaptureQueriesContext(connection) as four_pages:
            assert run(src).items_unchanged == 4 * page_size
        cbr.backups[PROJECT] = cbr.backups[PROJECT][: 2 * page_size]
        run(src)  # two pages now; the rest marked gone
        with CaptureQueriesContext(connection) as two_pages:
            assert run(src).items_unchanged == 2 * page_size
    per_page = (len(four_pages) - len(two_pages)) / 2
    assert per_page == 6, [q["sql"][:80] for q in four_pages.captured_queries]
