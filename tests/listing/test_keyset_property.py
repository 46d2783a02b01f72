"""Property: a marker walk returns every matching item exactly once, in the order of the sort.

Random items with many ties and NULLs, random sorts (1–3 keys, mixed directions), random filters
and limits; the expected order is computed in Python from API.md's rules (code-point strings,
NULL larger than every value, ``id`` tie-breaker in the last key's direction) — independently of
the SQL under test — and compared with what paging through the API returns.
"""
import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backups.listing.ordering import SORT_KEYS
from backups.models import CheckpointItem
from tests.api.helpers import ids, token_client
from tests.factories import create_items, item_dict

P = "prop"
URL = f"/v1/{P}/checkpoint_items"

TIMES = ["2024-01-01T00:00:00.000000", "2024-01-01T00:00:00.000001", "2024-06-30T12:00:00.000000"]
NAMES = ["a", "B", "b", "é", "backup", "Backup-2"]
STATUSES = ["available", "error", "protecting"]

items_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(NAMES),
            "status": st.sampled_from(STATUSES),
            "created_at": st.sampled_from(TIMES),
            "updated_at": st.one_of(st.none(), st.sampled_from(TIMES)),
            "protected_at": st.one_of(st.none(), st.sampled_from(TIMES)),
        }
    ),
    max_size=25,
)
sort_strategy = st.lists(
    st.tuples(st.sampled_from(SORT_KEYS), st.sampled_from(["asc", "desc", None])),
    min_size=0, max_size=3, unique_by=lambda pair: pair[0],
)
filter_strategy = st.fixed_dictionaries(
    {}, optional={"status": st.sampled_from(STATUSES), "name": st.sampled_from(["b", "B", "ack", "é"])}
)


def expected_order(rows, sort_pairs):
    """API.md's order, in Python."""
    keys = [(key, (direction or "desc") == "desc") for key, direction in sort_pairs] or [("created_at", True)]
    if "id" not in [key for key, _ in keys]:
        keys.append(("id", keys[-1][1]))

    def compare(a, b):
        for key, descending in keys:
            x, y = a[key], b[key]
            if x == y:
                continue
            if x is None or y is None:  # NULL is larger than every value
                result = 1 if x is None else -1
            else:  # Python compares str by code point, like the "C" collation
                result = 1 if x > y else -1
            return -result if descending else result
        return 0

    return [row["id"] for row in sorted(rows, key=functools.cmp_to_key(compare))]


def matches(row, filters):
    if "status" in filters and row["status"] != filters["status"]:
        return False
    if "name" in filters and filters["name"].casefold() not in row["name"].casefold():
        return False
    return True


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=items_strategy, sort_pairs=sort_strategy, filters=filter_strategy, limit=st.integers(1, 6))
def test_a_marker_walk_returns_every_matching_item_once_in_sort_order(rows, sort_pairs, filters, limit):
    CheckpointItem.objects.all().delete()
    rows = [dict(row, id=f"item-{n:02d}") for n, row in enumerate(rows)]
    create_items(P, *(item_dict(**row) for row in rows))
    api = token_client(P, username="prop")
    sort = ",".join(key if direction is None else f"{key}:{direction}" for key, direction in sort_pairs)

    walked, marker = [], None
    for _ in range(len(rows) + 2):
        params = dict(filters, limit=limit, sort=sort) | ({"marker": marker} if marker else {})
        page = ids(api.get(URL, params))
        walked += page
        if len(page) < limit:
            break
        marker = page[-1]

    assert walked == expected_order([r for r in rows if matches(r, filters)], sort_pairs)
