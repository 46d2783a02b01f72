"""keyset: the marker row's sort values read inside the page's query, for any scope; the next page's query."""
import pytest
from django.http import QueryDict

from backups.listing import keyset
from backups.listing.keyset import MarkerNotFound, Paging, keyset_page
from backups.listing.ordering import Ordering
from backups.listing.selectors import checkpoint_item_scope
from backups.models import CheckpointItem
from tests.factories import create_items, item_dict

pytestmark = pytest.mark.django_db


@pytest.fixture
def items():
    create_items("p", *(item_dict(id=f"i{n}", name=f"n{n % 3}", created_at=f"2024-05-0{1 + n % 4}T00:00:00") for n in range(8)))
    create_items("q", item_dict(id="theirs", created_at="2024-06-01T00:00:00"))  # the newest of all


def page_ids(scope, sort, marker, limit=3):
    page = keyset_page(scope, scope, Ordering.parse(sort), Paging(limit=limit, marker=marker), columns=("id",))
    return [row["id"] for row in page.rows]


@pytest.mark.parametrize("sort", [None, "name:asc", "name:desc,created_at:asc", "protected_at:asc,name:desc"])
def test_a_scope_that_joins_pages_like_the_plain_scope(items, sort):
    """A scope with a join takes the ORM's subquery; the page is the same."""
    plain = checkpoint_item_scope("p")
    joined = CheckpointItem.objects.filter(project_id="p", volume_backups__position=0).distinct()
    marker = page_ids(plain, sort, None)[-1]
    assert page_ids(joined, sort, marker) == page_ids(plain, sort, marker)
    assert page_ids(plain, sort, marker) == page_ids(plain, sort, None, limit=8)[3:6]


def test_a_marker_outside_the_scope_is_refused_after_one_empty_page(items, django_assert_num_queries):
    with django_assert_num_queries(2), pytest.raises(MarkerNotFound):  # the empty page, the marker
        page_ids(checkpoint_item_scope("p"), None, "theirs")
    assert len(page_ids(checkpoint_item_scope("p", all_tenants=True), None, "theirs", limit=20)) == 8  # visible there


@pytest.mark.parametrize(
    "query_string, next_query",
    [
        ("", ""),
        ("limit=4&status=available&offset=1", "limit=4&status=available"),
        ("marker=x&limit=4", "limit=4"),
        ("status=error&marker=x&status=available", "status=available"),  # the value that counts
        ("name=a%20b&az=x%2By", "name=a+b&az=x%2By"),
        ("name=%E4%B8%AD", "name=%E4%B8%AD"),
    ],
)
def test_the_next_page_keeps_the_query_but_marker_and_offset(query_string, next_query):
    assert keyset.next_page_query(QueryDict(query_string)) == next_query
    assert keyset.with_marker(next_query, "id 1") == (f"{next_query}&marker=id+1" if next_query else "marker=id+1")
