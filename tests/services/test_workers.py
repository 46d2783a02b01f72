"""A big file is read and prepared by worker processes (backups.services.workers): the same items,
the same refusals and the same summary as in-process, in the file's order."""

import copy
import io
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from backups.models import CheckpointItem
from backups.services import workers

pytestmark = pytest.mark.django_db


def run_import(tmp_path, items, batch_size=2):
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"checkpoint_items": items}))
    out = io.StringIO()
    call_command("import_checkpoint_items", str(path), project="p1", stdout=out, batch_size=batch_size)
    return out.getvalue()


def exported():
    out = io.StringIO()
    call_command("export_checkpoint_items", project="p1", stdout=out)
    return json.loads(out.getvalue())["checkpoint_items"]


@pytest.fixture(params=["in-process", "workers"])
def mode(request, monkeypatch):
    if request.param == "workers":
        monkeypatch.setattr(workers, "POOL_FROM_BYTES", 0)
        monkeypatch.setattr(workers, "workers_for", lambda size: 2)
    return request.param


def items_like(sample, count):
    return [dict(copy.deepcopy(sample), id=f"item-{i}", name=f"backup-{i}") for i in range(count)]


def test_the_items_and_the_summary_are_the_same_either_way(tmp_path, sample_response, mode):
    items = items_like(sample_response["checkpoint_items"][0], 9)
    items[4]["extend_info"]["size"] = 2.75
    items[7]["extend_info"]["size"] = 2**70  # orjson cannot write it: the batch goes pickled
    output = run_import(tmp_path, items)
    assert "9 items (9 created, 0 updated)" in output
    assert "  extend_info.size: 1 value kept as given (integer beyond 64 bits)" in output
    assert "  extend_info.size: 1 value kept as given (number)" in output
    by_id = {item["id"]: item for item in exported()}
    assert by_id["item-4"]["extend_info"]["size"] == 2.75
    assert by_id["item-7"]["extend_info"]["size"] == 2**70
    assert sorted(by_id) == [f"item-{i}" for i in range(9)]


def test_a_refused_item_is_named_and_nothing_is_written_either_way(tmp_path, sample_response, mode):
    items = items_like(sample_response["checkpoint_items"][0], 9)
    items[5]["status"] = "lost"
    with pytest.raises(CommandError, match=r"item 5 \(id item-5\): status: must be one of"):
        run_import(tmp_path, items)
    assert CheckpointItem.objects.count() == 0


def test_a_repeated_id_across_batches_is_refused_either_way(tmp_path, sample_response, mode):
    items = items_like(sample_response["checkpoint_items"][0], 9)
    items[8]["id"] = "item-1"
    with pytest.raises(CommandError, match=r"item 8 \(id item-1\): id: appears earlier in this file"):
        run_import(tmp_path, items)
    assert CheckpointItem.objects.count() == 0


def test_braces_in_strings_do_not_lose_or_repeat_items(tmp_path, sample_response, mode):
    """The workers' pieces are cut by counting braces; a string holding some may fool the count,
    and the worker's parse then sends the file back to be read in-process."""
    items = items_like(sample_response["checkpoint_items"][0], 7)
    items[2]["name"] = 'a{"b": [1, {'
    items[5]["description"] = "}, {"
    items[6]["name"] = "}}}"
    output = run_import(tmp_path, items)
    assert "7 items (7 created, 0 updated)" in output
    by_id = {item["id"]: item for item in exported()}
    assert (by_id["item-2"]["name"], by_id["item-5"]["description"]) == ('a{"b": [1, {', "}, {")


@pytest.mark.parametrize(
    "text, message",
    [
        (lambda body: body[: len(body) * 2 // 3], "it ends too early (a truncated file?)"),
        (lambda body: body + b" trailing", "parse error: trailing garbage"),
        (lambda body: body.replace(b"}, {", b"} {", 1), "after array element, I expect ',' or ']'"),
    ],
    ids=["truncated", "trailing garbage", "missing comma"],
)
def test_broken_json_gets_the_same_message_either_way(tmp_path, sample_response, mode, text, message):
    items = items_like(sample_response["checkpoint_items"][0], 6)
    path = tmp_path / "broken.json"
    path.write_bytes(text(json.dumps({"checkpoint_items": items}).encode()))
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("import_checkpoint_items", str(path), project="p1", stdout=io.StringIO(), batch_size=2)
    assert CheckpointItem.objects.count() == 0


def test_a_detail_response_imports_either_way(tmp_path, sample_response, mode):
    path = tmp_path / "detail.json"
    path.write_text(json.dumps({"checkpoint_item": sample_response["checkpoint_items"][0]}))
    call_command("import_checkpoint_items", str(path), project="p1", stdout=io.StringIO())
    assert CheckpointItem.objects.count() == 1
