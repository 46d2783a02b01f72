"""import_checkpoint_items and export_checkpoint_items: the round trip, all-or-nothing files, upserts."""

import copy
import io
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backups.choices import ItemStatus
from backups.models import CheckpointItem, ReplicationRecord, VolumeBackup
from backups.services import importing
from tests.conftest import SAMPLE_RESPONSE_PATH

pytestmark = pytest.mark.django_db

STATUSES = ", ".join(ItemStatus.values)
EXPECTED = 'a CSBS response: {"checkpoint_items": [...]} or {"checkpoint_item": {...}}'
SAMPLE_ID = "90c1d5fa-1b9f-4aeb-b2f4-81c806e98190"


def run_import(*files, project="proj-1", batch_size=None):
    """Run the import; return its standard output (standard error must stay empty)."""
    out, err = io.StringIO(), io.StringIO()
    options = {"batch_size": batch_size} if batch_size else {}
    call_command(
        "import_checkpoint_items", *map(str, files), project=project, stdout=out, stderr=err, **options
    )
    assert err.getvalue() == ""  # no progress bar when standard error is not a terminal
    return out.getvalue()


def refused_import(*files, project="proj-1", batch_size=None):
    """Run an import that must fail; return its error message."""
    with pytest.raises(CommandError) as raised:
        run_import(*files, project=project, batch_size=batch_size)
    return str(raised.value)


def run_export(*args, **options):
    out = io.StringIO()
    call_command("export_checkpoint_items", *args, stdout=out, **options)
    return out.getvalue()


def exported(**options):
    return json.loads(run_export(**options))["checkpoint_items"]


def write(tmp_path, name, body):
    path = tmp_path / name
    path.write_bytes(body if isinstance(body, bytes) else json.dumps(body).encode())
    return path


def leaves(value, path=""):
    """``{json_path: value}`` of every scalar, empty list and empty object in ``value``."""
    if isinstance(value, dict) and value:
        return {k: v for key, entry in value.items() for k, v in leaves(entry, f"{path}.{key}").items()}
    if isinstance(value, list) and value:
        return {k: v for i, entry in enumerate(value) for k, v in leaves(entry, f"{path}[{i}]").items()}
    return {path: value}


def typed(flat):
    return {path: (type(value).__name__, value) for path, value in flat.items()}


@pytest.fixture
def sample_item(sample_response):
    return sample_response["checkpoint_items"][0]


def items_like(sample_item, count, prefix="item"):
    """``count`` copies of the sample with ids item-0, item-1, …"""
    return [dict(copy.deepcopy(sample_item), id=f"{prefix}-{i}") for i in range(count)]


# --- the round trip -----------------------------------------------------------------------------


def kept(given, got):
    """The leaves of ``given`` as ``got`` has them: value and JSON type ("ram": 4096 stays a number)."""
    got = leaves(got)
    return typed({path: got.get(path, "<missing>") for path in leaves(given)})


def test_the_seed_sample_imports_and_exports_back_key_for_key(sample_response):
    run_import(SAMPLE_RESPONSE_PATH)
    [item] = exported(project="proj-1")
    given, got = leaves(sample_response["checkpoint_items"][0]), leaves(item)
    # Every input key comes back with the same value and JSON type ...
    assert kept(sample_response["checkpoint_items"][0], item) == typed(given)
    # ... and the seed's keys the input lacked come back as null, [] or {}.
    assert {path: value for path, value in got.items() if path not in given} == {
        ".description": None,
        ".protected_at": None,
        ".replication_records": [],
        ".extend_info.resource_type": None,
        ".extend_info.retention_duration": None,
        ".extend_info.dec": None,
        ".extend_info.dec_size": None,
        ".extend_info.volume_backups[0].source_volume_service_type": None,
        ".extend_info.volume_backups[0].dec_size": None,
        ".extend_info.volume_backups[1].source_volume_service_type": None,
        ".extend_info.volume_backups[1].dec_size": None,
    }


def test_an_export_imports_back_unchanged(tmp_path):
    run_import(SAMPLE_RESPONSE_PATH)
    first = run_export(project="proj-1")
    run_import(write(tmp_path, "export.json", first.encode()), project="proj-1")
    assert run_export(project="proj-1") == first


def test_a_detail_response_imports_its_one_item(tmp_path, sample_item):
    assert "1 item (1 created, 0 updated)" in run_import(
        write(tmp_path, "detail.json", {"checkpoint_item": sample_item})
    )
    [item] = exported(project="proj-1")
    assert kept(sample_item, item) == typed(leaves(sample_item))


def test_a_top_level_policy_id_is_kept(tmp_path, sample_item):
    sample_item["policy_id"] = "policy-7"
    run_import(write(tmp_path, "policy.json", {"checkpoint_items": [sample_item]}))
    [item] = exported(project="proj-1")
    assert item["policy_id"] == "policy-7"
    assert CheckpointItem.objects.get().policy_id == "policy-7"  # a column: the API filters on it


def test_a_file_with_a_utf8_byte_order_mark_is_read(tmp_path):
    run_import(write(tmp_path, "bom.json", b"\xef\xbb\xbf" + SAMPLE_RESPONSE_PATH.read_bytes()))
    assert CheckpointItem.objects.count() == 1


def test_an_empty_list_imports_nothing_and_says_so(tmp_path):
    path = write(tmp_path, "empty.json", {"checkpoint_items": []})
    assert run_import(path).splitlines()[0].startswith(f"{path}: 0 items (0 created, 0 updated) in ")


# --- refused files: a message naming file, item, id and field; nothing written -------------------


def _breakage(change):
    """A file of three sample items, item 1 (or the file) changed by ``change(items)``."""

    def build(items):
        body = change(items)
        return body if isinstance(body, bytes) else json.dumps({"checkpoint_items": items}).encode()

    return build


def _set(index, path, value):
    def change(items):
        target = items[index]
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value

    return _breakage(change)


_DELETE = object()


def _whole(make):
    return _breakage(lambda items: make(json.dumps({"checkpoint_items": items}).encode()))


@pytest.mark.parametrize(
    "build, message",
    [
        pytest.param(
            _set(1, "status", "done"),
            f'item 1 (id item-1): status: must be one of {STATUSES}, got string "done"',
            id="unknown status",
        ),
        pytest.param(
            _set(1, "created_at", "15/04/2017 04:20"),
            "item 1 (id item-1): created_at: is not an ISO 8601 time such as 2017-04-18T01:21:52.701973 "
            "(Z or ±HH:MM allowed)",
            id="bad timestamp",
        ),
        pytest.param(_set(1, "id", _DELETE), "item 1 (no id): id: is required", id="missing id"),
        pytest.param(_set(1, "id", ""), "item 1 (id ): id: must not be empty", id="empty id"),
        pytest.param(
            _set(1, "created_at", _DELETE), "item 1 (id item-1): created_at: is required", id="missing created_at"
        ),
        pytest.param(
            _set(1, "created_at", ""),
            "item 1 (id item-1): created_at: is not an ISO 8601 time such as 2017-04-18T01:21:52.701973 "
            "(Z or ±HH:MM allowed)",
            id="empty created_at",
        ),
        pytest.param(_set(1, "status", None), "item 1 (id item-1): status: is required", id="null status"),
        pytest.param(
            _set(1, "id", 7),
            "item 1: id: must be a string of at most 128 characters, got integer 7",
            id="id not a string",
        ),
        pytest.param(
            _set(2, "id", "item-0"),
            "item 2 (id item-0): id: appears earlier in this file: each id may appear once",
            id="duplicate ids",
        ),
        pytest.param(
            _breakage(lambda items: items.__setitem__(1, "item")),
            'item 1: must be an object, got string "item"',
            id="item not an object",
        ),
        pytest.param(
            _whole(lambda text: text[: len(text) * 5 // 6]),
            "is not valid JSON after item 1: it ends too early (a truncated file?)",
            id="truncated JSON",
        ),
        pytest.param(
            _whole(lambda text: text + b" trailing"),
            "is not valid JSON after item 2: parse error: trailing garbage, "
            """near '{"checkpoint_items":[]} trailing'""",
            id="trailing garbage",
        ),
        pytest.param(
            _whole(lambda text: text.replace(b"backup_d32c", b"backup_\xff\xfe", 1)),
            """is not valid JSON: it is not UTF-8, near 'etype": ""}, "name": "backup_\ufffd\ufffd", """
            """"resource_id": "f45c477a-5'""",
            id="invalid UTF-8",
        ),
        pytest.param(
            _whole(lambda text: b"checkpoint_items: none"),
            "is not valid JSON: lexical error: invalid char in json text, near 'checkpoint_items: none'",
            id="not JSON",
        ),
        pytest.param(_whole(lambda text: b""), f"is empty: expected {EXPECTED}", id="empty file"),
        pytest.param(
            _whole(lambda text: b'[{"id": "x"}]'), f"is an array: expected {EXPECTED}", id="not an object"
        ),
        pytest.param(
            _whole(lambda text: b"{}"), f"is an empty object: expected {EXPECTED}", id="empty object"
        ),
        pytest.param(
            _whole(lambda text: b'{"error_code": "CSBS.9001", "error_msg": "x"}'),
            f"starts with the key 'error_code': expected {EXPECTED}",
            id="another body",
        ),
        pytest.param(
            _whole(lambda text: b'{"checkpoint_items": {"id": "x"}}'),
            "checkpoint_items is an object: it must be an array",
            id="list not an array",
        ),
        pytest.param(
            _whole(lambda text: b'{"checkpoint_item": [{"id": "x"}]}'),
            "checkpoint_item is an array: it must be an object",
            id="detail not an object",
        ),
    ],
)
def test_a_bad_file_writes_nothing_and_the_message_names_file_item_id_and_field(
    tmp_path, sample_item, build, message
):
    path = write(tmp_path, "bad.json", build(items_like(sample_item, 3)))
    # One item a batch: items before the bad one reach the database, then roll back with the file.
    error = refused_import(path, batch_size=1)
    assert error == f"{path}: {message}; nothing of this file was written"
    assert (CheckpointItem.objects.count(), VolumeBackup.objects.count()) == (0, 0)


def test_an_id_of_another_project_is_refused_and_nothing_is_written(tmp_path, sample_item):
    run_import(SAMPLE_RESPONSE_PATH, project="proj-1")
    sample_item["name"] = "taken over"
    path = write(tmp_path, "other.json", {"checkpoint_items": [*items_like(sample_item, 2), sample_item]})
    assert refused_import(path, project="proj-2", batch_size=2) == (
        f"{path}: item 2 (id {SAMPLE_ID}): id: already belongs to another project (proj-1): an id is unique "
        "across projects; nothing of this file was written"
    )
    assert list(CheckpointItem.objects.values_list("id", "project_id", "name")) == [
        (SAMPLE_ID, "proj-1", "backup_d32c")
    ]


def test_when_the_second_file_is_bad_the_first_stays_and_the_third_is_not_read(tmp_path, sample_item):
    first = write(tmp_path, "first.json", {"checkpoint_items": items_like(sample_item, 2)})
    sample_item.update(id="second-0", status="done")
    second = write(tmp_path, "second.json", {"checkpoint_items": [sample_item]})
    third = write(
        tmp_path, "third.json", {"checkpoint_item": dict(sample_item, id="third-0", status="available")}
    )
    assert refused_import(first, second, third) == (
        f'{second}: item 0 (id second-0): status: must be one of {STATUSES}, got string "done"; '
        "nothing of this file was written\n"
        f"already imported and kept: {first} (2 items (2 created, 0 updated))\n"
        f"not read: {third}"
    )
    assert sorted(CheckpointItem.objects.values_list("id", flat=True)) == ["item-0", "item-1"]


def test_a_missing_file_is_refused_before_anything_is_imported(tmp_path):
    missing = tmp_path / "missing.json"
    assert refused_import(SAMPLE_RESPONSE_PATH, missing) == f"{missing}: no such file; nothing was imported"
    assert refused_import(tmp_path) == f"{tmp_path}: not a regular file; nothing was imported"
    assert CheckpointItem.objects.count() == 0


@pytest.mark.parametrize("project", ["", "a b", "x" * 65, "proj/1", "ünïcode", "proj-1\n"])
def test_an_invalid_project_id_is_refused(project):
    assert refused_import(SAMPLE_RESPONSE_PATH, project=project) == (
        f"Invalid project id {project!r}: use 1 to 64 characters of letters, digits, '_' and '-'"
    )
    assert CheckpointItem.objects.count() == 0


def test_ids_sharing_a_digest_are_not_taken_for_duplicates(tmp_path, sample_item, monkeypatch):
    monkeypatch.setattr(importing, "_digest", lambda item_id: 0)  # every id collides
    path = write(tmp_path, "items.json", {"checkpoint_items": items_like(sample_item, 5)})
    assert "5 items (5 created, 0 updated)" in run_import(path, batch_size=2)
    repeated = write(
        tmp_path, "repeated.json", {"checkpoint_items": [*items_like(sample_item, 3), sample_item]}
    )
    repeated.write_text(repeated.read_text().replace(SAMPLE_ID, "item-1").replace("item-", "rep-"))
    assert refused_import(repeated, project="proj-2", batch_size=2) == (
        f"{repeated}: item 3 (id rep-1): id: appears earlier in this file: each id may appear once; "
        "nothing of this file was written"
    )


def test_a_repeated_id_in_a_later_batch_is_refused(tmp_path, sample_item):
    items = items_like(sample_item, 5)
    items[4]["id"] = "item-1"
    path = write(tmp_path, "items.json", {"checkpoint_items": items})
    assert refused_import(path, batch_size=2) == (
        f"{path}: item 4 (id item-1): id: appears earlier in this file: each id may appear once; "
        "nothing of this file was written"
    )


# --- upserts ------------------------------------------------------------------------------------


def test_importing_twice_updates_and_never_duplicates():
    assert "1 item (1 created, 0 updated)" in run_import(SAMPLE_RESPONSE_PATH)
    assert "1 item (0 created, 1 updated)" in run_import(SAMPLE_RESPONSE_PATH)
    assert (CheckpointItem.objects.count(), VolumeBackup.objects.count()) == (1, 2)


def test_a_reimport_replaces_values_and_children_in_their_new_order(tmp_path, sample_item):
    run_import(SAMPLE_RESPONSE_PATH)
    volume_backups = sample_item["extend_info"]["volume_backups"]
    third = dict(volume_backups[0], id="vb-3", source_volume_name="karbor_03")
    sample_item["extend_info"]["volume_backups"] = [volume_backups[1], third]
    sample_item.update(name="renamed", status="error", replication_records=[{"id": "rr-1", "status": "fail"}])
    sample_item["backup_data"]["ram"] = "8192"
    run_import(write(tmp_path, "changed.json", {"checkpoint_items": [sample_item]}))
    [item] = exported(project="proj-1")
    assert (item["name"], item["status"], item["backup_data"]["ram"]) == ("renamed", "error", "8192")
    assert [vb["source_volume_name"] for vb in item["extend_info"]["volume_backups"]] == [
        "karbor_01",
        "karbor_03",
    ]
    assert [rr["id"] for rr in item["replication_records"]] == ["rr-1"]
    assert list(VolumeBackup.objects.order_by("position").values_list("position", "volume_backup_id")) == [
        (0, "8eb98e91-8924-4d4b-b6d6-28fb7b751e9c"),
        (1, "vb-3"),
    ]
    assert ReplicationRecord.objects.count() == 1


def test_the_closing_lines_give_counts_and_items_per_second(tmp_path, sample_item):
    run_import(SAMPLE_RESPONSE_PATH)
    path = write(tmp_path, "two.json", {"checkpoint_items": [sample_item, dict(sample_item, id="new")]})
    lines = run_import(path).splitlines()
    assert len(lines) == 2
    assert re.fullmatch(
        rf"{re.escape(str(path))}: 2 items \(1 created, 1 updated\) in \d+\.\d s, [\d,]+ items/s", lines[0]
    )
    assert re.fullmatch(
        r"Imported 1 file into proj-1: 2 items \(1 created, 1 updated\) in \d+\.\d s, [\d,]+ items/s",
        lines[1],
    )


def test_a_batch_costs_the_same_queries_whatever_its_size(tmp_path, sample_item):
    one = write(tmp_path, "one.json", {"checkpoint_items": items_like(sample_item, 1)})
    many = write(tmp_path, "many.json", {"checkpoint_items": items_like(sample_item, 50, prefix="many")})

    def queries(path, project):
        """The writes' statements (the statistics' look-ups depend on what the tables held before)."""
        with CaptureQueriesContext(connection) as context:
            run_import(path, project=project)
        statistics = ("sqlite_stat1", "sqlite_master", "pg_class", "ANALYZE")
        return len([q for q in context.captured_queries if not any(word in q["sql"] for word in statistics)])

    created_one, created_many = queries(one, "proj-1"), queries(many, "proj-2")
    assert created_one == created_many
    assert queries(many, "proj-2") == created_many + 3  # an update deletes the old children, then items


def test_text_with_copy_separators_and_backslashes_survives(tmp_path, sample_item):
    text = 'tab\tnewline\ncarriage\rbackslash\\N quote" \\. end'
    sample_item.update(description=text, name=text, note={text: [text]})
    sample_item["extend_info"]["volume_backups"][0]["name"] = text
    run_import(write(tmp_path, "text.json", {"checkpoint_items": [sample_item]}))
    [item] = exported(project="proj-1")
    assert kept(sample_item, item) == typed(leaves(sample_item))
    assert CheckpointItem.objects.get().name == text


# --- export -------------------------------------------------------------------------------------


@pytest.fixture
def two_projects(tmp_path, sample_item):
    """proj-1: two items created at the same instant (tie: id descending) and an older one; proj-2: one."""
    newest = dict(copy.deepcopy(sample_item), id="b-tie", created_at="2017-05-01T00:00:00.000000")
    tie = dict(copy.deepcopy(sample_item), id="a-tie", created_at="2017-05-01T00:00:00.000000")
    run_import(write(tmp_path, "p1.json", {"checkpoint_items": [tie, sample_item, newest]}), project="proj-1")
    other = dict(copy.deepcopy(sample_item), id="other", created_at="2017-04-20T00:00:00.000000")
    run_import(write(tmp_path, "p2.json", {"checkpoint_items": [other]}), project="proj-2")


def test_export_writes_one_project_in_the_apis_default_order(two_projects):
    assert [item["id"] for item in exported(project="proj-1")] == ["b-tie", "a-tie", SAMPLE_ID]
    assert [item["id"] for item in exported(project="proj-2")] == ["other"]


def test_export_all_tenants_writes_every_project(two_projects):
    assert [item["id"] for item in exported(all_tenants=True)] == ["b-tie", "a-tie", "other", SAMPLE_ID]
    assert exported(all_tenants=True, project="proj-2") == exported(all_tenants=True)


def test_export_body_is_the_stored_documents(two_projects):
    documents = CheckpointItem.objects.order_by("-created_at", "-id").filter(project_id="proj-1")
    assert run_export(project="proj-1") == (
        '{"checkpoint_items": [\n' + ",\n".join(documents.values_list("document", flat=True)) + "\n]}\n"
    )


def test_export_to_a_file(tmp_path, two_projects):
    target = tmp_path / "out.json"
    assert run_export(project="proj-1", output=str(target)) == f"{target}: 3 items exported\n"
    assert target.read_text(encoding="utf-8") == run_export(project="proj-1")
    assert [
        path.name for path in tmp_path.iterdir() if path.name.startswith(".")
    ] == []  # no partial file left


def test_export_of_an_empty_project_is_an_empty_list():
    assert run_export(project="nobody") == '{"checkpoint_items": []}\n'


@pytest.mark.parametrize(
    "options, message",
    [
        ({}, "Give --project PROJECT, or --all-tenants to export every project"),
        (
            {"project": "a b"},
            "Invalid project id 'a b': use 1 to 64 characters of letters, digits, '_' and '-'",
        ),
    ],
)
def test_export_refuses_without_a_valid_project(options, message):
    with pytest.raises(CommandError) as raised:
        run_export(**options)
    assert str(raised.value) == message


def test_export_to_an_unwritable_place_says_so(tmp_path):
    target = tmp_path / "missing-dir" / "out.json"
    with pytest.raises(CommandError) as raised:
        run_export(project="proj-1", output=str(target))
    assert str(raised.value) == f"{target}: cannot be written (No such file or directory)"
