"""The ingest rule (issue 11): every kind of looseness of real CSBS answers imports whole and comes
back through the API and the export key for key and type for type; filters see it as absent."""

import copy
import io
import json

import pytest
from django.core.management import call_command

from backups.models import CheckpointItem
from tests.api.helpers import ids, token_client

pytestmark = pytest.mark.django_db

P = "proj-loose"
ITEM_ID = "90c1d5fa-1b9f-4aeb-b2f4-81c806e98190"  # the sample's
DELETE = object()


def changed(item, path, value):
    """A copy of ``item`` with the dotted ``path`` (list positions as numbers) set, or deleted."""
    item = copy.deepcopy(item)
    *parents, last = path.split(".")
    target = item
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is DELETE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return item


def run_import(tmp_path, *items):
    path = tmp_path / "dump.json"
    path.write_text(json.dumps({"checkpoint_items": list(items)}))
    out = io.StringIO()
    call_command("import_checkpoint_items", str(path), project=P, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def exported():
    out = io.StringIO()
    call_command("export_checkpoint_items", project=P, stdout=out)
    return json.loads(out.getvalue())["checkpoint_items"]


def api_item(item_id=ITEM_ID):
    response = token_client(P).get(f"/v1/{P}/checkpoint_items/{item_id}")
    assert response.status_code == 200, response.content
    return response.json()["checkpoint_item"]


def typed(value):
    """A value with the JSON type of every leaf spelled out, so 1, 1.0, "1" and true all differ."""
    if isinstance(value, dict):
        return {key: typed(entry) for key, entry in value.items()}
    if isinstance(value, list):
        return [typed(entry) for entry in value]
    return (type(value).__name__, value)


@pytest.fixture
def baseline(tmp_path, sample_response):
    """The sample as the API renders it when nothing is loose (the keys the seed lists filled in)."""
    sample = sample_response["checkpoint_items"][0]
    run_import(tmp_path, sample)
    rendered = api_item()
    CheckpointItem.objects.all().delete()
    return sample, rendered


#: (JSON path, value given, the summary's line or None when the value is typed or kept in its
#: JSON column, a query that would match the value had it been typed → ids it finds).
LOOSE = [
    ("protected_at", "", 'protected_at: 1 value kept as given (string)', None),
    ("updated_at", "2017-04-15", "updated_at: 1 value kept as given (string)", None),
    ("updated_at", 1492230338, "updated_at: 1 value kept as given (integer)", None),
    ("extend_info.finished_at", "2017-02-30T00:00:00", "extend_info.finished_at: 1 value kept as given (string)", None),
    ("extend_info.dec", "yes", "extend_info.dec: 1 value kept as given (string)", ("dec=true", [])),
    ("extend_info.dec", 1, "extend_info.dec: 1 value kept as given (integer)", ("dec=false", [ITEM_ID])),
    ("extend_info.resource_az", 12, "extend_info.resource_az: 1 value kept as given (integer)", ("az=12", [])),
    ("extend_info.resource_az", "z" * 65, "extend_info.resource_az: 1 value kept as given (string)", None),
    ("extend_info.resource_name", ["karbor_02"], "extend_info.resource_name: 1 value kept as given (array)",
     ("resource_name=karbor", [])),
    ("extend_info.image_type", "snapshot", "extend_info.image_type: 1 value kept as given (string)",
     ("image_type=backup", [])),
    ("backup_data.eip", 10, "backup_data.eip: 1 value kept as given (integer)", ("ip=10", [])),
    ("backup_data.private_ip", "10.0.0.1\x00", "backup_data.private_ip: 1 value kept as given (string)",
     ("ip=10.0.0.1", [])),
    ("name", "n" * 256, "name: 1 value kept as given (string)", ("name=nnn", [])),
    ("name", 42, "name: 1 value kept as given (integer)", ("name=42", [])),
    ("description", "a\x00b", "description: 1 value kept as given (string)", None),
    ("checkpoint_id", "c" * 129, "checkpoint_id: 1 value kept as given (string)", None),
    ("resource_id", None, None, None),
    ("policy_id", 42, "policy_id: 1 value kept as given (integer)", None),
    ("policy_id", None, "policy_id: 1 value kept as given (null)", None),
    ("extend_info.size", 2.75, "extend_info.size: 1 value kept as given (number)", None),
    ("extend_info.size", "10240", "extend_info.size: 1 value kept as given (string)", None),
    ("extend_info.size", 2**70, "extend_info.size: 1 value kept as given (integer beyond 64 bits)", None),
    ("extend_info.average_speed", -(2**63) - 1,
     "extend_info.average_speed: 1 value kept as given (integer beyond 64 bits)", None),
    ("extend_info.progress", 2**40, "extend_info.progress: 1 value kept as given (integer)", None),
    ("extend_info.progress", 99.5, "extend_info.progress: 1 value kept as given (number)", None),
    ("extend_info.auto_trigger", "false", "extend_info.auto_trigger: 1 value kept as given (string)", None),
    ("extend_info.fail_code", None, "extend_info.fail_code: 1 value kept as given (null)", None),
    ("extend_info.fail_code", "BackupService.9002", "extend_info.fail_code: 1 value kept as given (string)", None),
    ("extend_info.fail_code", {"code": "a\x00"}, "extend_info.fail_code: 1 value kept as given (object)", None),
    ("extend_info.fail_op", "replicate", "extend_info.fail_op: 1 value kept as given (string)", None),
    ("extend_info.os_images_data", None, "extend_info.os_images_data: 1 value kept as given (null)", None),
    ("extend_info.os_images_data", ["fe84dd80"], "extend_info.os_images_data: 1 value kept as given (array)", None),
    ("extend_info.volume_backups", None, "extend_info.volume_backups: 1 value kept as given (null)", None),
    ("extend_info.volume_backups", {}, "extend_info.volume_backups: 1 value kept as given (object)", None),
    ("extend_info.volume_backups", ["vb"], "extend_info.volume_backups: 1 value kept as given (array)", None),
    ("extend_info.volume_backups.0.size", "0",
     "extend_info.volume_backups[].size: 1 value kept as given (string)", None),
    ("extend_info.volume_backups.1.bootable", "true",
     "extend_info.volume_backups[].bootable: 1 value kept as given (string)", None),
    ("extend_info.volume_backups.0.lun", "a\x00",
     "extend_info.volume_backups[].*: 1 value kept as given (unknown keys with NUL or integers beyond 64 bits)",
     None),
    ("extend_info.taskid", "e0a2\x00",
     "extend_info.*: 1 value kept as given (unknown keys with NUL or integers beyond 64 bits)", None),
    ("extend_info.taskid", 2**64, "extend_info.*: 1 value kept as given (unknown keys with NUL or integers "
     "beyond 64 bits)", None),
    ("extend_info", "none", "extend_info: 1 value kept as given (string)", ("az=az1.dc1", [])),
    ("extend_info", None, "extend_info: 1 value kept as given (null)", None),
    ("backup_data", [], "backup_data: 1 value kept as given (array)", ("ip=", [ITEM_ID])),
    ("replication_records", {}, "replication_records: 1 value kept as given (object)", None),
    ("backup_data.ram", True, None, None),
    ("backup_data.ram", {"mb": 4096}, None, None),
    ("backup_data.disk", 40.5, None, None),
    ("extend_info.dec_size", "12", None, None),
    ("extend_info.hypervisor_type", 1.0, None, None),
    ("zone", {"a": [1, 2.5, "", None, False]}, None, None),
    ("extend_info.fail_reason", "", None, None),
]


@pytest.mark.parametrize("path, value, summary, query", LOOSE, ids=[f"{p}={v!r}"[:60] for p, v, _, _ in LOOSE])
def test_a_loose_value_imports_and_comes_back_as_given(tmp_path, baseline, path, value, summary, query):
    sample, rendered = baseline
    output = run_import(tmp_path, changed(sample, path, value))
    expected = changed(rendered, path, value)
    # Through the API and through the export: key for key, type for type, in the same places.
    assert typed(api_item()) == typed(expected)
    assert list(api_item()) == list(expected)
    assert typed(exported()) == [typed(expected)]
    loose_lines = [line.strip() for line in output.splitlines()[1:-1]]
    assert loose_lines == ([summary] if summary else [])
    if query is not None:
        parameters, found = query
        assert ids(token_client(P).get(f"/v1/{P}/checkpoint_items?{parameters}")) == found


def test_a_replication_record_with_an_unknown_status_keeps_it(tmp_path, sample_response):
    sample = sample_response["checkpoint_items"][0]
    sample["replication_records"] = [
        {"id": "rr-1", "status": "lost", "extra_info": {"progress": 50.5}, "created_at": ""}
    ]
    output = run_import(tmp_path, sample)
    assert "replication_records[].status: 1 value kept as given (string)" in output
    assert "replication_records[].created_at: 1 value kept as given (string)" in output
    [record] = api_item()["replication_records"]
    assert (record["id"], record["status"], record["extra_info"], record["created_at"]) == (
        "rr-1", "lost", {"progress": 50.5}, ""
    )
    assert CheckpointItem.objects.get().replication_records.get().status is None  # for querying: absent


def test_an_item_without_a_name_imports_and_sorts_with_the_nulls(tmp_path, sample_response):
    sample = sample_response["checkpoint_items"][0]
    named = dict(copy.deepcopy(sample), id="named", name="zz_last_by_name")
    nameless = changed(dict(sample, id="nameless"), "name", DELETE)
    run_import(tmp_path, named, nameless)
    assert api_item("nameless")["name"] is None
    client = token_client(P)
    assert ids(client.get(f"/v1/{P}/checkpoint_items?sort=name:asc")) == ["named", "nameless"]
    assert ids(client.get(f"/v1/{P}/checkpoint_items?sort=name:desc")) == ["nameless", "named"]
    # Marker paging crosses the NULL both ways.
    assert ids(client.get(f"/v1/{P}/checkpoint_items?sort=name:asc&marker=named")) == ["nameless"]
    assert ids(client.get(f"/v1/{P}/checkpoint_items?sort=name:desc&marker=nameless")) == ["named"]
    assert ids(client.get(f"/v1/{P}/checkpoint_items?name=zz")) == ["named"]


def test_a_time_kept_as_given_sorts_with_the_nulls(tmp_path, sample_response):
    sample = sample_response["checkpoint_items"][0]
    dated = dict(copy.deepcopy(sample), id="dated", protected_at="2017-04-15T04:25:38.680638")
    blank = dict(copy.deepcopy(sample), id="blank", protected_at="")
    run_import(tmp_path, dated, blank)
    client = token_client(P)
    assert ids(client.get(f"/v1/{P}/checkpoint_items?sort=protected_at:asc")) == ["dated", "blank"]
    assert ids(client.get(f"/v1/{P}/checkpoint_items?sort=protected_at:desc")) == ["blank", "dated"]
    assert api_item("blank")["protected_at"] == ""


def test_a_timestamp_with_an_offset_is_typed_and_written_in_utc(tmp_path, sample_response):
    sample = sample_response["checkpoint_items"][0]
    sample["updated_at"] = "2017-04-15T12:25:38.680638+08:00"
    sample["extend_info"]["finished_at"] = "2017-04-15T04:25:38Z"
    output = run_import(tmp_path, sample)
    item = api_item()
    assert (item["updated_at"], item["extend_info"]["finished_at"]) == (
        "2017-04-15T04:25:38.680638", "2017-04-15T04:25:38.000000"
    )
    assert "updated_at: 1 timestamp rewritten in UTC" in output
    assert "extend_info.finished_at: 1 timestamp rewritten in UTC" in output
    client = token_client(P)
    assert ids(client.get(f"/v1/{P}/checkpoint_items?sort=updated_at:asc")) == [ITEM_ID]


def test_the_summary_counts_per_key_and_kind(tmp_path, sample_response):
    sample = sample_response["checkpoint_items"][0]
    items = [dict(copy.deepcopy(sample), id=f"item-{i}") for i in range(5)]
    for item in items[:3]:
        item["extend_info"]["dec"] = "yes"
    items[3]["extend_info"]["dec"] = 0
    output = run_import(tmp_path, *items)
    assert output.splitlines()[1:3] == [
        "  extend_info.dec: 1 value kept as given (integer)",
        "  extend_info.dec: 3 values kept as given (string)",
    ]
    assert "5 items (5 created, 0 updated)" in output.splitlines()[0]


def test_a_realistic_loose_dump_imports_whole_and_round_trips(tmp_path, sample_response):
    """Floats, empty strings, strings for numbers, unknown keys and missing keys, all in one file."""
    sample = sample_response["checkpoint_items"][0]
    loose = [
        changed(dict(sample, id="float"), "extend_info.size", 2.75),
        changed(dict(sample, id="empty"), "protected_at", ""),
        changed(dict(sample, id="string"), "extend_info.volume_backups.0.size", "20"),
        changed(dict(sample, id="unknown"), "extend_info.zone", {"name": "z1", "weight": 0.5}),
        changed(changed(dict(sample, id="missing"), "name", DELETE), "backup_data", DELETE),
    ]
    run_import(tmp_path, *loose)
    by_id = {item["id"]: item for item in exported()}
    assert sorted(by_id) == ["empty", "float", "missing", "string", "unknown"]
    for given in loose:
        got = by_id[given["id"]]
        assert typed(api_item(given["id"])) == typed(got)

        def leaves(value, path=""):
            if isinstance(value, dict) and value:
                return {k: v for key, e in value.items() for k, v in leaves(e, f"{path}.{key}").items()}
            if isinstance(value, list) and value:
                return {k: v for i, e in enumerate(value) for k, v in leaves(e, f"{path}[{i}]").items()}
            return {path: typed(value)}

        # Every key given comes back with its value and JSON type.
        given_leaves, got_leaves = leaves(given), leaves(got)
        assert {path: got_leaves.get(path) for path in given_leaves} == given_leaves
