"""ParameterMemory: a valid query string is read once per process; what is remembered is the same answer.

Only the reading of the query string is remembered: the caller's rights, the path's project and the
data are the request's own every time, and an invalid query string is refused every time.
"""
import dataclasses
import sys
import threading

import pytest
from django.http import QueryDict

from backups.listing import selectors
from backups.listing.parameters import API_PARAMETERS, ListParameters, ParameterMemory
from backups.listing.selectors import ItemQuery
from tests.api.helpers import error, ids, token_client
from tests.factories import create_items, item_dict


class Reads:
    """A ``params`` callable that counts how often the memory had to read the query string."""

    def __init__(self, query_string):
        self.query_string, self.count = query_string, 0

    def __call__(self):
        self.count += 1
        return QueryDict(self.query_string)


def read(memory, query_string, reads=None, **kwargs):
    return memory.read(query_string, reads or Reads(query_string), **kwargs)


def test_a_valid_query_string_is_read_once_and_answered_from_memory_after():
    memory, reads = ParameterMemory(), Reads("status=error&limit=10")
    first = memory.read(reads.query_string, reads)
    assert memory.read(reads.query_string, reads) is first
    assert reads.count == 1
    fresh = ListParameters.read(QueryDict(reads.query_string))
    assert (first.ordering, first.paging, first.filterset.form.cleaned_data) == (
        fresh.ordering,
        fresh.paging,
        fresh.filterset.form.cleaned_data,
    )


def test_an_invalid_query_string_is_read_and_refused_every_time():
    memory, reads = ParameterMemory(), Reads("status=broken")
    for _ in range(2):
        assert memory.read(reads.query_string, reads).problem().startswith("Invalid status 'broken'")
    assert reads.count == 2


def test_the_list_and_the_count_remember_a_query_string_apart():
    memory = ParameterMemory()
    assert read(memory, "sort=size", validate_paging=False).valid  # the count ignores paging
    assert read(memory, "sort=size").problem().startswith("Invalid sort key 'size'")
    assert read(memory, "sort=size", validate_paging=False).valid


def test_the_least_recently_used_query_string_is_forgotten_first():
    memory = ParameterMemory(size=2)
    a, b = Reads("limit=1"), Reads("limit=2")
    read(memory, "limit=1", a), read(memory, "limit=2", b)
    read(memory, "limit=1", a)  # limit=1 is now the most recent
    read(memory, "limit=3")  # forgets limit=2
    read(memory, "limit=1", a), read(memory, "limit=2", b)
    assert (a.count, b.count) == (1, 2)


def test_a_long_query_string_is_read_every_time():
    memory = ParameterMemory(max_length=20)
    reads = Reads("name=" + "x" * 20)
    read(memory, reads.query_string, reads), read(memory, reads.query_string, reads)
    assert reads.count == 2


def test_the_pages_of_one_listing_share_one_reading_each_with_its_own_marker(monkeypatch):
    memory, fresh_reads = ParameterMemory(), []
    original = ListParameters.read.__func__
    counted = classmethod(lambda cls, *args, **kwargs: fresh_reads.append(1) or original(cls, *args, **kwargs))
    monkeypatch.setattr(ListParameters, "read", counted)
    first = read(memory, "status=error&limit=2")
    second = read(memory, "status=error&marker=i7&limit=2")
    third = read(memory, "marker=i5&status=error&limit=2")
    assert len(fresh_reads) == 1
    assert [p.paging.marker for p in (first, second, third)] == [None, "i7", "i5"]
    assert [p.params.get("marker") for p in (first, second, third)] == [None, "i7", "i5"]
    assert second.filterset is first.filterset and second.ordering == first.ordering
    same = [field.name for field in dataclasses.fields(ListParameters) if field.name not in ("params", "paging")]
    assert [getattr(second, name) for name in same] == [getattr(first, name) for name in same]
    assert read(memory, "status=error&limit=2") is first


@pytest.mark.parametrize(
    "query_string",
    ["limit=2&marker=a%20b", "limit=2&marker=a+b", "limit=2&marker=%E4%B8%AD", "marker=x&limit=2&marker=y",
     "limit=2&marker=", "limit=2&marker", "limit=2&marker=%ff"],
)
def test_a_new_marker_is_read_as_a_querydict_reads_it_without_building_one(query_string):
    memory = ParameterMemory()
    read(memory, "limit=2")
    reads = Reads(query_string)
    parameters = memory.read(query_string, reads)
    assert reads.count == 0  # the QueryDict is built only if read
    fresh = ListParameters.read(QueryDict(query_string))
    assert parameters.paging == fresh.paging and parameters.params.get("marker") == fresh.params.get("marker")
    assert reads.count == 1


def test_a_query_string_with_more_pairs_than_django_reads_is_read_whole(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    memory = ParameterMemory()
    read(memory, "limit=2")
    reads = Reads("limit=2&marker=a&marker=b&marker=c")
    with pytest.raises(Exception, match="number of GET/POST parameters exceeded"):
        memory.read(reads.query_string, reads)


def test_a_bad_marker_of_a_remembered_listing_is_refused_as_ever():
    memory = ParameterMemory()
    read(memory, "limit=2&marker=i1")
    refused = read(memory, "limit=2&marker=a%00b")
    assert refused.problem() == ListParameters.read(QueryDict("limit=2&marker=a%00b")).problem()
    assert refused.problem().startswith("Invalid marker 'a\x00b': no such checkpoint item")


# A name percent-encoded (a marker in disguise?), and a raw non-ASCII byte (as WSGI hands it over, one
# latin-1 character a byte), which may change how the whole query string decodes.
@pytest.mark.parametrize("query_string", ["limit=2&%6Darker=x", "limit=2&mark%65r=x", "limit=2&name=\xe9&marker=x"])
def test_a_marker_that_is_not_plain_to_see_keeps_its_query_string_apart(query_string):
    memory, reads = ParameterMemory(), Reads("limit=2")
    read(memory, "limit=2", reads)
    other = Reads(query_string)
    read(memory, query_string, other)
    assert other.count == 1 and memory.read(query_string, other) is memory.read(query_string, other)
    assert other.count == 1  # remembered under its own query string


def test_remembered_parameters_cannot_be_changed():
    parameters = read(ParameterMemory(), "status=error")
    with pytest.raises(AttributeError):
        parameters.errors = {"status": "changed"}


@pytest.mark.django_db
def test_filtering_other_values_leaves_the_remembered_filterset_as_it_is():
    create_items("p", item_dict(id="a", name="alpha"), item_dict(id="b", name="beta"))
    parameters = read(ParameterMemory(), "name=alp")
    cleaned = dict(parameters.filterset.form.cleaned_data)
    query = ItemQuery("p").filtered(parameters.filterset)
    other = query._queryset({**query.inputs(), "filter.name": "bet"})
    assert list(other.values_list("id", flat=True)) == ["b"]
    assert parameters.filterset.form.cleaned_data == cleaned
    assert list(parameters.filter(selectors.checkpoint_item_scope("p")).values_list("id", flat=True)) == ["a"]


@pytest.mark.django_db
def test_threads_sharing_a_filterset_each_filter_their_own_values():
    create_items("p", *(item_dict(id=f"i{n}", name=f"name{n}") for n in range(8)))
    parameters = read(ParameterMemory(), "name=name0")
    query = ItemQuery("p").filtered(parameters.filterset)
    found, barrier = {}, threading.Barrier(8)

    def build(n):
        barrier.wait()
        for _ in range(50):
            queryset = query._queryset({**query.inputs(), "filter.name": f"name{n}"})
            found.setdefault(n, set()).add(str(queryset.query))

    threads = [threading.Thread(target=build, args=(n,)) for n in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns within a build, as a busy worker's may
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert all(sql == {str(query._queryset({**query.inputs(), "filter.name": f"name{n}"}).query)}
               for n, sql in found.items())


# --- over HTTP: the API remembers the reading only ------------------------------------------------


@pytest.fixture
def two_projects(db):
    create_items("proj-a", item_dict(id="a1", status="error"), item_dict(id="a2", status="available"))
    create_items("proj-b", item_dict(id="b1", status="error"))


def test_the_same_query_string_answers_each_project_with_its_own_items(two_projects):
    assert ids(token_client("proj-a").get("/v1/proj-a/checkpoint_items?status=error")) == ["a1"]
    assert ids(token_client("proj-b").get("/v1/proj-b/checkpoint_items?status=error")) == ["b1"]
    assert token_client("proj-b").get("/v1/proj-b/checkpoint_items/count?status=error").json() == {"count": 1}


def test_all_tenants_is_refused_to_a_tenant_after_an_admin_sent_the_same_query_string(two_projects):
    admin = token_client("proj-a", admin=True)
    assert sorted(ids(admin.get("/v1/proj-a/checkpoint_items?all_tenants=true&status=error"))) == ["a1", "b1"]
    tenant = token_client("proj-a")
    refused = error(tenant.get("/v1/proj-a/checkpoint_items?all_tenants=true&status=error"))
    assert refused == (403, "CSBS.9403", "No permission: all_tenants=true is allowed for admins only")


def test_the_api_reads_a_repeated_query_string_once(two_projects, monkeypatch):
    reads = []
    original = ListParameters.read.__func__
    counted = classmethod(lambda cls, *args, **kwargs: reads.append(1) or original(cls, *args, **kwargs))
    monkeypatch.setattr(ListParameters, "read", counted)
    api = token_client("proj-a")
    for _ in range(3):
        assert ids(api.get("/v1/proj-a/checkpoint_items?status=error&limit=5")) == ["a1"]
    assert len(reads) == 1
    assert API_PARAMETERS.read("status=error&limit=5", None).valid  # remembered: the callable is not called


def test_each_page_of_a_remembered_listing_links_to_its_own_next_page(db):
    create_items("proj-a", *(item_dict(id=f"i{n}", status="error", created_at=f"2024-05-0{1 + n}T00:00:00")
                             for n in range(6)))
    api, url = token_client("proj-a"), "/v1/proj-a/checkpoint_items"
    query = "status=error&limit=2&offset=0"
    pages = []
    while query:
        response = api.get(f"{url}?{query}")
        pages.append(ids(response))
        link = response.get("Link")
        assert link is None or link == (
            f'<http://testserver{url}?status=error&limit=2&marker={pages[-1][-1]}>; rel="next"'
        )
        query = link and link.partition("?")[2].partition(">")[0]
    assert pages == [["i5", "i4"], ["i3", "i2"], ["i1", "i0"], []]
