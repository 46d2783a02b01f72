"""The item's JSON shape (backups.document: kinds, keys, parse, render, jsontext) and its timestamps (backups.document.timestamps): parse and render rules."""

import copy
import datetime as dt
from types import SimpleNamespace

import pytest

from backups.choices import ItemStatus
from backups.document.jsontext import dumps
from backups.document.keys import (
    BACKUP_DATA_KEYS,
    EXTEND_INFO_KEYS,
    ITEM_KEYS,
    REPLICATION_RECORD_KEYS,
    VOLUME_BACKUP_KEYS,
)
from backups.document.parse import ItemInvalid, parse_item
from backups.document.render import render_item, render_parsed
from backups.document.timestamps import format_timestamp, parse_timestamp

UTC = dt.timezone.utc
STATUSES = ", ".join(ItemStatus.values)
MINIMAL = {
    "id": "item-1",
    "name": "backup_1",
    "status": "available",
    "created_at": "2017-04-15T04:20:37.277880",
}


def render(parsed):
    """``render_item`` on plain attribute objects, as ``services`` calls it for a batch."""
    item = SimpleNamespace(**parsed.fields)
    return render_item(
        item,
        [SimpleNamespace(**row) for row in parsed.volume_backups],
        [SimpleNamespace(**row) for row in parsed.replication_records],
    )


def with_change(item, path, value):
    """A deep copy of ``item`` with the dotted ``path`` (``extend_info.volume_backups.0.size``) set;
    ``DELETE`` removes the key."""
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


DELETE = object()


# --- render: every seed key, always -------------------------------------------------------------


def test_a_minimal_item_renders_every_seed_key_with_its_default():
    assert render(parse_item(MINIMAL)) == {
        "id": "item-1",
        "checkpoint_id": None,
        "name": "backup_1",
        "description": None,
        "status": "available",
        "resource_id": None,
        "resource_type": None,
        "created_at": "2017-04-15T04:20:37.277880",
        "updated_at": None,
        "protected_at": None,
        "backup_data": {key.name: None for key in BACKUP_DATA_KEYS},
        "extend_info": {
            **{key.name: None for key in EXTEND_INFO_KEYS},
            "fail_code": {},
            "os_images_data": [],
            "volume_backups": [],
        },
        "replication_records": [],
    }


def test_rendered_keys_come_in_the_seeds_order_then_the_unlisted_ones(sample_response):
    document = render(parse_item(sample_response["checkpoint_items"][0]))
    assert list(document) == [key.name for key in ITEM_KEYS] + [
        "backup_data",
        "extend_info",
        "replication_records",
    ]
    extend_info = document["extend_info"]
    assert list(extend_info) == [key.name for key in EXTEND_INFO_KEYS] + [
        "taskid",
        "hypervisor_type",
        "volume_backups",
    ]
    assert list(extend_info["volume_backups"][0]) == [key.name for key in VOLUME_BACKUP_KEYS]


def test_a_full_replication_record_renders_back_as_given():
    record = {
        "id": "rr-1",
        "status": "success",
        "source_region": "cn-north-1",
        "source_project_id": "p-src",
        "source_checkpoint_id": "cp-src",
        "source_checkpoint_item_id": "item-src",
        "destination_region": "cn-east-2",
        "destination_project_id": "p-dst",
        "destination_checkpoint_id": "cp-dst",
        "destination_checkpoint_item_id": "item-dst",
        "plan_id": "plan-1",
        "created_at": "2017-04-15T04:20:37.277880",
        "extra_info": {"progress": 100},
        "vendor_note": "kept",
    }
    assert [key.name for key in REPLICATION_RECORD_KEYS] == list(record)[:-1]
    document = render(parse_item({**MINIMAL, "replication_records": [record]}))
    assert document["replication_records"] == [record]


def test_policy_id_and_unlisted_top_level_keys_are_written_after_the_seed_keys():
    document = render(parse_item({**MINIMAL, "policy_id": "policy-7", "tenant_note": [1, "two"]}))
    assert list(document)[-2:] == ["policy_id", "tenant_note"]
    assert (document["policy_id"], document["tenant_note"]) == ("policy-7", [1, "two"])


def test_dumps_is_compact_json_text():
    assert dumps({"a": [1, 2.5, None], "b": "é"}) == '{"a":[1,2.5,null],"b":"é"}'


# --- parse: what is accepted, and kept as given ---------------------------------------------------


@pytest.mark.parametrize(
    "path, value, attr, stored",
    [
        ("backup_data.ram", 4096, "ram", 4096),
        ("backup_data.ram", "4096", "ram", "4096"),
        ("backup_data.ram", 4096.5, "ram", 4096.5),
        ("extend_info.dec_size", "12", "dec_size", "12"),
        ("extend_info.fail_op", "", "fail_op", ""),
        ("backup_data.imagetype", "", "imagetype", ""),
        ("extend_info.progress", -1, "progress", -1),
        ("extend_info.size", 2**63 - 1, "size", 2**63 - 1),
        ("extend_info.fail_code", None, "fail_code", {}),
        ("extend_info.os_images_data", None, "os_images_data", []),
        (
            "extend_info.finished_at",
            "2017-04-15T12:25:38+08:00",
            "finished_at",
            dt.datetime(2017, 4, 15, 4, 25, 38, tzinfo=UTC),
        ),
        ("description", "", "description", ""),
        ("checkpoint_id", None, "checkpoint_id", None),
        ("name", "\U0010fffe name", "name", "\U0010fffe name"),  # below the NULLs' sentinel: typed
        ("name", "", "name", ""),
    ],
)
def test_parse_keeps_the_value_and_its_json_type(sample_response, path, value, attr, stored):
    parsed = parse_item(with_change(sample_response["checkpoint_items"][0], path, value))
    assert parsed.fields[attr] == stored
    assert type(parsed.fields[attr]) is type(stored)


def test_keys_the_seed_does_not_list_are_kept_per_section(sample_response):
    item = with_change(sample_response["checkpoint_items"][0], "backup_data.zone", "z1")
    item = with_change(item, "extend_info.volume_backups.0.lun", 3)
    parsed = parse_item(item)
    assert parsed.fields["backup_data_extra"] == {"zone": "z1"}
    assert parsed.fields["extend_info_extra"] == {
        "taskid": "e0a21692-2192-11e7-bf23-0242ac110007",
        "hypervisor_type": "QEMU",
    }
    assert parsed.volume_backups[0]["extra"] == {"lun": 3}
    assert parsed.volume_backups[1]["extra"] == {}


def test_volume_backups_keep_their_order(sample_response):
    parsed = parse_item(sample_response["checkpoint_items"][0])
    assert [(row["position"], row["source_volume_name"]) for row in parsed.volume_backups] == [
        (0, "karbor_xj_02"),
        (1, "karbor_01"),
    ]


# --- parse: what is refused, and where -----------------------------------------------------------


@pytest.mark.parametrize(
    "path, value, field, message",
    [
        ("id", DELETE, "id", "is required"),
        ("id", "", "id", "must not be empty"),
        ("id", 42, "id", "must be a string of at most 128 characters, got integer 42"),
        ("id", "x" * 129, "id", "is 129 characters long: at most 128 are allowed"),
        ("id", "a\x00b", "id", "must not contain NUL characters"),
        ("status", "done", "status", f'must be one of {STATUSES}, got string "done"'),
        ("status", None, "status", "is required"),
        ("status", DELETE, "status", "is required"),
        ("created_at", DELETE, "created_at", "is required"),
        (
            "created_at",
            1492230037,
            "created_at",
            "must be a string, an ISO 8601 time such as 2017-04-18T01:21:52.701973 (Z or ±HH:MM allowed)",
        ),
        ("created_at", "9999-12-31T23:59:59.999999", "created_at", "must be before 9999-12-31T23:59:59.999999"),
        (
            "created_at",
            "yesterday",
            "created_at",
            "is not an ISO 8601 time such as 2017-04-18T01:21:52.701973 (Z or ±HH:MM allowed)",
        ),
    ],
)
def test_parse_refuses_a_broken_item_naming_the_field(sample_response, path, value, field, message):
    with pytest.raises(ItemInvalid) as raised:
        parse_item(with_change(sample_response["checkpoint_items"][0], path, value))
    assert (raised.value.field, raised.value.message) == (field, message)


def test_an_item_that_is_not_an_object_is_refused():
    with pytest.raises(ItemInvalid) as raised:
        parse_item(["not", "an", "item"])
    assert (raised.value.field, raised.value.message) == (
        "item",
        'must be an object, got array ["not","an","item"]',
    )


# --- timestamps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, instant",
    [
        ("2017-04-15T04:20:37.277880", dt.datetime(2017, 4, 15, 4, 20, 37, 277880, tzinfo=UTC)),
        ("2017-04-15T04:20:37.277880Z", dt.datetime(2017, 4, 15, 4, 20, 37, 277880, tzinfo=UTC)),
        ("2017-04-15T04:20:37z", dt.datetime(2017, 4, 15, 4, 20, 37, tzinfo=UTC)),
        ("2017-04-15T12:20:37.277880+08:00", dt.datetime(2017, 4, 15, 4, 20, 37, 277880, tzinfo=UTC)),
        ("2017-04-15T12:20:37+0800", dt.datetime(2017, 4, 15, 4, 20, 37, tzinfo=UTC)),
        ("2017-04-14T23:20:37-05:00", dt.datetime(2017, 4, 15, 4, 20, 37, tzinfo=UTC)),
        ("2017-04-15 04:20:37.277880", dt.datetime(2017, 4, 15, 4, 20, 37, 277880, tzinfo=UTC)),
        ("2017-04-15T04:20", dt.datetime(2017, 4, 15, 4, 20, tzinfo=UTC)),
        ("2017-04-15T04:20:37.2", dt.datetime(2017, 4, 15, 4, 20, 37, 200000, tzinfo=UTC)),
        ("2017-04-15T04:20:37.277880999", dt.datetime(2017, 4, 15, 4, 20, 37, 277880, tzinfo=UTC)),
        ("2016-02-29T00:00:00", dt.datetime(2016, 2, 29, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_accepts_iso_8601_with_a_time_and_gives_utc(text, instant):
    parsed = parse_timestamp(text)
    assert parsed == instant
    assert parsed.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "text, message",
    [
        ("2017-04-15", "a date alone is ambiguous: give a time too"),
        ("2017-02-30T00:00:00", "is not a valid instant (day is out of range for month)"),
        ("2017-02-30T00:00:00.000000", "is not a valid instant (day is out of range for month)"),
        ("2017-04-15T24:00:00", "is not a valid instant (hour must be in 0..23)"),
        ("2017-04-15T04:20:37.277880+25:00", "is not a valid instant"),
        ("2017-04-15T04:20:37,277880", "is not an ISO 8601 time"),
        ("2017-4-15T04:20:37", "is not an ISO 8601 time"),
        ("20170415T042037", "is not an ISO 8601 time"),
        ("", "is not an ISO 8601 time"),
        ("2017-04-15T04:20:37.277880 ", "is not an ISO 8601 time"),
        ("２０17-04-15T04:20:37", "is not an ISO 8601 time"),
        ("9999-12-31T23:59:59.999999", "must be before 9999-12-31T23:59:59.999999"),
        (1492230037, "must be a string"),
        (None, "must be a string"),
    ],
)
def test_parse_timestamp_refuses_with_a_message_saying_why(text, message):
    with pytest.raises(ValueError) as raised:
        parse_timestamp(text)
    assert str(raised.value).startswith(message)


def test_a_date_alone_is_midnight_utc_where_the_caller_allows_it():
    assert parse_timestamp("2017-04-15", allow_date=True) == dt.datetime(2017, 4, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "instant, text",
    [
        (dt.datetime(2017, 4, 15, 4, 20, 37, 277880, tzinfo=UTC), "2017-04-15T04:20:37.277880"),
        (dt.datetime(2017, 4, 15, 4, 20, 37, tzinfo=UTC), "2017-04-15T04:20:37.000000"),
        (
            dt.datetime(2017, 4, 15, 12, 20, 37, 5, tzinfo=dt.timezone(dt.timedelta(hours=8))),
            "2017-04-15T04:20:37.000005",
        ),
        (dt.datetime(2017, 4, 15, 4, 20, 37, 277880), "2017-04-15T04:20:37.277880"),
        (None, None),
    ],
)
def test_format_timestamp_writes_utc_with_six_fraction_digits_and_no_offset(instant, text):
    assert format_timestamp(instant) == text


@pytest.mark.parametrize(
    "text",
    [
        "2017-04-15T04:20:37.277880",
        "2017-04-15T12:20:37.1+08:00",
        "2017-04-15 04:20Z",
        "2000-01-01T00:00:00.000001",
    ],
)
def test_a_parsed_timestamp_formats_back_to_the_same_instant(text):
    assert parse_timestamp(format_timestamp(parse_timestamp(text))) == parse_timestamp(text)


@pytest.mark.parametrize("name", ["\U0010ffff", "\U0010ffff and more"])
def test_a_name_that_sorts_with_the_nulls_is_kept_as_given(sample_response, name):
    """``name`` sorts as ``COALESCE(name, U+10FFFF)``: a name from the sentinel up would sort among
    the items without one, so it is kept as given and counts as absent (its column NULL)."""
    parsed = parse_item(with_change(sample_response["checkpoint_items"][0], "name", name))
    assert parsed.fields["name"] is None
    assert ("name", "string") in parsed.loose
    assert render_parsed(parsed)["name"] == name
