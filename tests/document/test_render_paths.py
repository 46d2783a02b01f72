"""The two ways an item is rendered agree to the byte: from model instances (``render_item``: single
saves, the admin) and from a parsed item's dicts (``render_parsed``: the import, the sync, demo data,
with a renderer generated per key table)."""

import pytest

from backups.document.jsontext import dumps
from backups.document.parse import parse_item
from backups.document.render import render_item, render_parsed
from backups.services.upsert import build_item
from bench.dataset import item_dicts
from tests.services.test_ingest_rule import LOOSE, changed


def both_renderings(data):
    parsed = parse_item(data)
    return dumps(render_parsed(parsed)), dumps(render_item(*build_item("p", parsed)))


def test_the_seed_sample_renders_the_same_both_ways(sample_response):
    for data in sample_response["checkpoint_items"]:
        from_dicts, from_models = both_renderings(data)
        assert from_dicts == from_models


@pytest.mark.parametrize("path, value", [(p, v) for p, v, _, _ in LOOSE], ids=[f"{p}={v!r}"[:60] for p, v, _, _ in LOOSE])
def test_a_loose_item_renders_the_same_both_ways(sample_response, path, value):
    from_dicts, from_models = both_renderings(changed(sample_response["checkpoint_items"][0], path, value))
    assert from_dicts == from_models


def test_generated_items_render_the_same_both_ways():
    for _, data in item_dicts(300, 3, seed=11):
        from_dicts, from_models = both_renderings(data)
        assert from_dicts == from_models
