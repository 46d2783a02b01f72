"""The ``sort`` grammar (backups.listing.ordering), table-driven, without HTTP."""
import pytest

from backups.listing.ordering import Ordering, SortError


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, "created_at:desc,id:desc"),
        ("", "created_at:desc,id:desc"),
        ("   ", "created_at:desc,id:desc"),
        ("name", "name:desc,id:desc"),
        ("name:asc", "name:asc,id:asc"),
        ("name:ASC", "name:asc,id:asc"),
        ("name:Desc", "name:desc,id:desc"),
        (" name : asc , created_at ", "name:asc,created_at:desc,id:desc"),
        ("status:asc,created_at:desc", "status:asc,created_at:desc,id:desc"),
        ("created_at:desc,status:asc", "created_at:desc,status:asc,id:asc"),
        ("protected_at:asc", "protected_at:asc,id:asc"),
        ("updated_at", "updated_at:desc,id:desc"),
        ("id:asc", "id:asc"),
        ("id", "id:desc"),
        ("id:asc,name", "id:asc"),
        ("name:asc,id:desc", "name:asc,id:desc"),
    ],
)
def test_valid_sort_values_give_a_total_order(value, expected):
    assert str(Ordering.parse(value)) == expected


@pytest.mark.parametrize(
    "value, message",
    [
        ("size", "Invalid sort key 'size': allowed keys are created_at, updated_at, name, status, protected_at, id"),
        ("name:up", "Invalid sort direction 'up' for key 'name': allowed directions are asc, desc"),
        ("name,", "sort has an empty key at position 2"),
        (",name", "sort has an empty key at position 1"),
        ("name,,status", "sort has an empty key at position 2"),
        ("name:asc:desc", "Invalid sort token 'name:asc:desc'"),
        ("name,name:asc", "sort key 'name' is given twice"),
        ("Name", "Invalid sort key 'Name'"),
        (":asc", "Invalid sort key ''"),
        ("name:", "Invalid sort direction '' for key 'name'"),
        ("n" * 256, "sort is 256 characters long: at most 255 are allowed"),
    ],
)
def test_invalid_sort_values_are_refused_with_the_rule(value, message):
    with pytest.raises(SortError) as raised:
        Ordering.parse(value)
    assert str(raised.value).startswith(message)


def test_a_sort_of_exactly_255_characters_is_read():
    value = "name:asc," + ",".join(["status"]) + " " * (255 - len("name:asc,status"))
    assert len(value) == 255
    assert str(Ordering.parse(value)) == "name:asc,status:desc,id:desc"
