"""The browse pages: access, list (filters, search, presets, sort, paging, count), detail, overview, CSV."""

import csv
import datetime as dt
import html
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.models.query import QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backups.document.parse import parse_item
from backups.document.timestamps import format_timestamp
from backups.models import ProjectMembership
from backups.services.upsert import upsert_items
from backups.ui import csv_export, list_page

PROJECT = "proj-a"
OTHER = "proj-b"
NOW = timezone.now().replace(microsecond=0)
DETAIL_LINK = re.compile(r'href="/backups/([^/"]+)/"')


def item(item_id, *, name=None, status="available", created_at=None, **fields):
    """A CSBS item; ``fields`` go to the top level, ``ei_*`` to extend_info, ``bd_*`` to backup_data."""
    extend_info = {k[3:]: v for k, v in fields.items() if k.startswith("ei_")}
    backup_data = {k[3:]: v for k, v in fields.items() if k.startswith("bd_")}
    top = {k: v for k, v in fields.items() if not k.startswith(("ei_", "bd_"))}
    return {
        "id": item_id,
        "name": name if name is not None else f"backup-{item_id}",
        "status": status,
        "created_at": format_timestamp(created_at or NOW - dt.timedelta(hours=1)),
        "resource_type": "OS::Nova::Server",
        "backup_data": backup_data,
        "extend_info": {"image_type": "backup", **extend_info},
        **top,
    }


def seed(project, *items):
    upsert_items(project, [parse_item(i) for i in items])


def make_user(username, *projects, staff=False, support=True):
    user = User.objects.create_user(username, password="pw", is_staff=staff)
    if support:
        user.groups.add(Group.objects.get(name="Support"))
    for project in projects:
        ProjectMembership.objects.create(user=user, project_id=project)
    return user


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def member(client, db):
    user = make_user("member", PROJECT)
    client.force_login(user)
    return user


@pytest.fixture
def staff(client, db):
    user = make_user("staffer", staff=True)
    client.force_login(user)
    return user


@pytest.fixture
def catalogue(db):
    """Six items of PROJECT covering every filter, and one of OTHER."""
    seed(
        PROJECT,
        item(
            "a1",
            name="Web-Server nightly",
            status="available",
            created_at=NOW - dt.timedelta(hours=2),
            resource_id="srv-web",
            checkpoint_id="cp-1",
            policy_id="pol-1",
            bd_eip="1.2.3.4",
            bd_private_ip="10.0.0.1",
            ei_resource_az="az1",
            ei_resource_name="web-01",
            ei_dec=True,
        ),
        item(
            "a2",
            name="db weekly",
            status="error",
            created_at=NOW - dt.timedelta(days=3),
            resource_id="srv-db",
            checkpoint_id="cp-2",
            policy_id="pol-2",
            resource_type="OS::Cinder::Volume",
            bd_private_ip="10.0.0.2",
            ei_resource_az="az2",
            ei_resource_name="DB-01",
            ei_fail_op="backup",
            ei_fail_reason="disk full",
            ei_fail_code={"Code": 1},
        ),
        item(
            "a3",
            name="web replica",
            status="protecting",
            created_at=NOW - dt.timedelta(days=10),
            resource_id="srv-web",
            checkpoint_id="cp-1",
            ei_resource_az="az1",
            ei_resource_name="web-01",
            ei_image_type="replication",
            ei_progress=40,
            ei_dec=False,
        ),
        item(
            "a4",
            name="ÉTÉ archive",
            status="deleted",
            created_at=NOW - dt.timedelta(days=40),
            resource_id="srv-x",
            ei_resource_name="x-01",
        ),
        item(
            "a5",
            name="<script>alert(1)</script>",
            status="available",
            created_at=NOW - dt.timedelta(hours=30),
            resource_id="srv-x",
            ei_resource_name="x-01",
            ei_fail_reason="<b>bold</b>",
        ),
        item(
            "a6",
            name="=cmd|' /C calc'!A0",
            status="available",
            created_at=NOW - dt.timedelta(days=5),
            resource_id="srv-y",
            ei_resource_name="@sum(1+1)",
        ),
    )
    seed(OTHER, item("b1", name="Web-Server other project", resource_id="srv-web"))


def page_ids(response):
    return [row["id"] for row in response.context["page"].rows]


def api_ids(client, project, params):
    response = client.get(f"/v1/{project}/checkpoint_items", params)
    assert response.status_code == 200, response.content
    return [i["id"] for i in response.json()["checkpoint_items"]]


# --- access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/overview/", "/export.csv", "/backups/a1/"])
def test_pages_require_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_login_page_logs_in_and_lands_on_the_list(client, db):
    make_user("alice", PROJECT)
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"username": "alice", "password": "pw"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_logout_is_a_post_and_returns_to_login(client, member):
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("url", ["/", "/overview/", "/export.csv", "/backups/a1/"])
def test_user_without_the_view_permission_gets_a_friendly_403(client, catalogue, url):
    client.force_login(make_user("nobody", PROJECT, support=False))
    response = client.get(url)
    assert response.status_code == 403
    assert (
        "Ask an administrator to add you to the <strong>Support</strong> group" in response.content.decode()
    )


def test_user_without_a_project_gets_a_clear_page(client, catalogue):
    client.force_login(make_user("lonely"))
    response = client.get("/")
    assert response.status_code == 200
    assert "is not a member of any project" in response.content.decode()


def test_member_sees_their_first_project_by_default_and_only_their_projects(client, catalogue):
    client.force_login(make_user("two", OTHER, PROJECT))  # OTHER granted first
    response = client.get("/")
    assert response.context["access"].project == OTHER
    assert response.context["access"].projects == (PROJECT, OTHER)  # listed sorted
    assert page_ids(response) == ["b1"]
    assert page_ids(client.get("/", {"project": PROJECT})) == ["a1", "a5", "a2", "a6", "a3", "a4"]


@pytest.mark.parametrize("project", [OTHER, "no-such-project", "bad project!"])
def test_member_cannot_open_a_project_they_do_not_belong_to(client, member, catalogue, project):
    response = client.get("/", {"project": project})
    assert response.status_code == 403
    assert "it is not one of your projects" in response.content.decode()


def test_member_may_not_use_all_tenants(client, member, catalogue):
    response = client.get("/", {"all_tenants": "true"})
    assert response.status_code == 403
    assert "all_tenants=true is allowed for staff only" in response.content.decode()
    assert response.context["page"] is None


def test_staff_pick_any_project_or_all_projects(client, staff, catalogue):
    response = client.get("/")
    assert response.context["access"].projects == (PROJECT, OTHER)
    assert response.context["access"].project == PROJECT  # no membership: the first project with items
    assert page_ids(client.get("/", {"project": OTHER})) == ["b1"]
    everything = client.get("/", {"all_tenants": "true", "name": "web-server"})
    assert page_ids(everything) == ["b1", "a1"]
    assert '<th scope="col">Project</th>' in everything.content.decode()


def test_staff_may_open_a_project_without_items(client, staff, catalogue):
    response = client.get("/", {"project": "empty-one"})
    assert response.status_code == 200
    assert "empty-one" in response.context["access"].projects
    assert 'id="empty-state"' in response.content.decode()


# --- the list: filters with the API's names -------------------------------------------------------


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"status": "error"}, ["a2"]),
        ({"name": "WEB"}, ["a1", "a3"]),
        ({"name": "été"}, ["a4"]),
        ({"az": "az1"}, ["a1", "a3"]),
        ({"resource_id": "srv-x"}, ["a5", "a4"]),
        ({"resource_name": "db"}, ["a2"]),
        ({"start_time": format_timestamp(NOW - dt.timedelta(days=4))}, ["a1", "a5", "a2"]),
        ({"end_time": format_timestamp(NOW - dt.timedelta(days=4))}, ["a6", "a3", "a4"]),
        ({"image_type": "replication"}, ["a3"]),
        ({"policy_id": "pol-2"}, ["a2"]),
        ({"ip": "10.0.0.1"}, ["a1"]),
        ({"ip": "1.2.3.4"}, ["a1"]),
        ({"checkpoint_id": "cp-1"}, ["a1", "a3"]),
        ({"resource_type": "OS::Cinder::Volume"}, ["a2"]),
        ({"dec": "true"}, ["a1"]),
        ({"dec": "false"}, ["a5", "a2", "a6", "a3", "a4"]),
        ({"status": "available", "resource_id": "srv-x"}, ["a5"]),
        ({"name": ""}, ["a1", "a5", "a2", "a6", "a3", "a4"]),
    ],
)
def test_each_filter_uses_the_api_parameter_and_returns_what_the_api_returns(
    client, member, catalogue, params, expected
):
    response = client.get("/", params)
    assert response.status_code == 200
    assert page_ids(response) == expected
    assert api_ids(client, PROJECT, params) == expected


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({"status": "bogus"}, "status", "must be one of waiting_protect"),
        ({"end_time": "2017-04-18"}, "end_time", "a date alone is ambiguous"),
        (
            {"start_time": "2026-01-02T00:00", "end_time": "2026-01-01T00:00"},
            "start_time",
            "must not be later than end_time",
        ),
        ({"dec": "maybe"}, "dec", "must be true, false, 1 or 0"),
        ({"sort": "size"}, "sort", "Invalid sort key &#x27;size&#x27;"),
        ({"limit": "0"}, "limit", "must be an integer from 1 to 1000"),
        ({"marker": "no-such-item"}, "marker", "Invalid marker &#x27;no-such-item&#x27;"),
        ({"stauts": "error"}, "__all__", "Unknown parameter &#x27;stauts&#x27;"),
        ({"q": "x" * 256}, "q", "must be at most 255 characters long"),
    ],
)
def test_invalid_values_are_form_errors_on_a_friendly_400_page(
    client, member, catalogue, params, field, message
):
    response = client.get("/", params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Some parameters are not valid" in body
    assert message in body
    assert field in response.context["query"].errors


def test_filter_form_carries_the_api_parameter_names(client, member, catalogue):
    body = client.get("/").content.decode()
    for name in [
        "status",
        "name",
        "az",
        "resource_id",
        "resource_name",
        "start_time",
        "end_time",
        "image_type",
        "policy_id",
        "ip",
        "checkpoint_id",
        "resource_type",
        "dec",
        "q",
        "project",
        "sort",
    ]:
        assert re.search(rf'<(input|select)[^>]* name="{name}"', body), name
        assert re.search(rf'<label for="f-{name}"', body), name


# --- quick search, presets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "term, expected",
    [
        ("web", ["a1", "a3"]),  # name, folded
        ("db-0", ["a2"]),  # resource name, folded
        ("a4", ["a4"]),  # exact id
        ("10.0.0.2", ["a2"]),  # exact private IP
        ("1.2.3.4", ["a1"]),  # exact EIP
        ("10.0.0", []),  # IPs and ids match whole, not in part
        ("nothing-like-this", []),
    ],
)
def test_quick_search_matches_name_resource_name_id_or_ip(client, member, catalogue, term, expected):
    response = client.get("/", {"q": term})
    assert page_ids(response) == expected


def test_quick_search_offers_the_api_filters_it_stands_for(client, member, catalogue):
    response = client.get("/", {"q": "web"})
    body = response.content.decode()
    assert "has no API parameter" in body
    assert "q=" not in response.context["api"].url
    assert [r["label"] for r in response.context["refinements"]] == [
        "name contains",
        "resource name contains",
        "IP is",
    ]


def test_presets_fill_start_time_relative_to_now(client, member, catalogue):
    presets = client.get("/", {"end_time": format_timestamp(NOW)}).context["presets"]
    assert [p["label"] for p in presets] == ["Last 24 h", "Last 7 days", "Last 30 days"]
    day = parse_qs(urlsplit(presets[0]["url"]).query)
    assert "end_time" not in day
    start = dt.datetime.strptime(day["start_time"][0], "%Y-%m-%dT%H:%MZ").replace(tzinfo=dt.timezone.utc)
    assert abs(timezone.now() - dt.timedelta(hours=24) - start) < dt.timedelta(minutes=2)
    assert page_ids(client.get(presets[0]["url"])) == ["a1"]
    assert page_ids(client.get(presets[1]["url"])) == ["a1", "a5", "a2", "a6"]


# --- sorting --------------------------------------------------------------------------------------


def test_sort_links_sort_then_reverse(client, member, catalogue):
    columns = client.get("/").context["columns"]
    assert columns["created_at"]["aria_sort"] == "descending"  # the default, created_at:desc
    by_name = client.get(columns["name"]["url"])
    assert parse_qs(urlsplit(columns["name"]["url"]).query)["sort"] == ["name:asc"]
    assert page_ids(by_name) == ["a5", "a6", "a1", "a2", "a3", "a4"]  # code points: "<" "=" "W" "d" "w" "É"
    assert 'aria-sort="ascending"' in by_name.content.decode()
    again = by_name.context["columns"]["name"]["url"]
    assert parse_qs(urlsplit(again).query)["sort"] == ["name:desc"]
    assert page_ids(client.get(again)) == ["a4", "a3", "a2", "a1", "a6", "a5"]


def test_sort_links_keep_filters_and_drop_the_marker(client, member, catalogue):
    response = client.get("/", {"status": "available", "limit": "1", "marker": "a1"})
    query = parse_qs(urlsplit(response.context["columns"]["status"]["url"]).query)
    assert query == {"status": ["available"], "limit": ["1"], "project": [PROJECT], "sort": ["status:asc"]}


# --- keyset paging, page size, count --------------------------------------------------------------


@pytest.fixture
def many(db):
    """37 items with ties on created_at (groups of 4) and NULL protected_at on every third."""
    items = []
    for n in range(37):
        created = NOW - dt.timedelta(minutes=n // 4)
        fields = {} if n % 3 == 0 else {"protected_at": format_timestamp(created + dt.timedelta(seconds=n))}
        items.append(item(f"m{n:02d}", name=f"n{n % 5}", created_at=created, **fields))
    seed(PROJECT, *items)
    return sorted(i["id"] for i in items)


def walk(client, url, direction):
    """Follow next (or previous) links to the end; return the pages' ids."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(page_ids(response))
        url = response.context[f"{direction}_url"]
    return pages, response


@pytest.mark.parametrize(
    "sort", ["", "name:asc", "protected_at:desc", "protected_at:asc,name:desc", "status,id:asc"]
)
@pytest.mark.parametrize("limit", ["10", "25"])
def test_next_and_previous_pages_visit_every_item_exactly_once(client, member, many, sort, limit):
    params = {"limit": limit, **({"sort": sort} if sort else {})}
    forward, last = walk(client, "/?" + "&".join(f"{k}={v}" for k, v in params.items()), "next")
    flat = [i for page in forward for i in page]
    assert sorted(flat) == many and len(flat) == len(set(flat))
    assert flat == api_ids(client, PROJECT, {**params, "limit": "1000"})
    backward, first = (
        walk(client, last.context["previous_url"], "previous") if len(forward) > 1 else ([], last)
    )
    assert backward == forward[-2::-1]
    assert first.context["previous_url"] is None


def test_previous_page_is_an_api_marker_url(client, member, many):
    second = client.get(client.get("/", {"limit": "10"}).context["next_url"])
    third = client.get(second.context["next_url"])
    previous = parse_qs(urlsplit(third.context["previous_url"]).query)
    assert previous["marker"] == [page_ids(client.get("/", {"limit": "10"}))[-1]]
    assert "marker" not in parse_qs(urlsplit(second.context["previous_url"]).query)


@pytest.mark.parametrize("limit", [10, 25, 50, 100])
def test_page_size_choice(client, member, many, limit):
    response = client.get("/", {"limit": str(limit)})
    assert len(page_ids(response)) == min(limit, 37)
    sizes = response.context["page_sizes"]
    assert [s["size"] for s in sizes] == [10, 25, 50, 100]
    assert [s["size"] for s in sizes if s["current"]] == [limit]


def test_default_page_size_is_25(client, member, many):
    response = client.get("/")
    assert len(page_ids(response)) == 25
    assert "limit=25" in response.context["api"].url


def test_count_is_exact_below_the_cap_and_capped_above(client, member, many, monkeypatch):
    response = client.get("/", {"limit": "10"})
    assert (response.context["page"].count, response.context["page"].count_capped) == (37, False)
    assert "37 backups match" in response.content.decode()
    monkeypatch.setattr(list_page, "COUNT_CAP", 20)
    response = client.get("/", {"limit": "10"})
    assert (response.context["page"].count, response.context["page"].count_capped) == (20, True)
    assert "20+ backups match" in response.content.decode()


def test_count_runs_over_a_limited_subquery_never_a_full_count(client, member, many):
    with CaptureQueriesContext(connection) as captured:
        client.get("/")
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and f"LIMIT {list_page.COUNT_CAP + 1}" in counts[0]


def test_empty_state(client, member, catalogue):
    response = client.get("/", {"status": "restoring"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="empty-state"' in body and "No backups match" in body
    assert "0 backups match" in body


# --- the API link ---------------------------------------------------------------------------------


def test_api_link_is_the_same_query_and_the_api_returns_the_same_ids(client, member, many):
    first = client.get("/", {"limit": "10", "sort": "name:asc", "name": "n"})
    second = client.get(first.context["next_url"])
    api = second.context["api"]
    parts = urlsplit(api.url)
    assert parts.path == f"/v1/{PROJECT}/checkpoint_items"
    assert parse_qs(parts.query) == {
        "name": ["n"],
        "sort": ["name:asc"],
        "limit": ["10"],
        "marker": [page_ids(first)[-1]],
    }
    assert api_ids(client, PROJECT, parse_qs(parts.query)) == page_ids(second)
    assert api.curl == f"curl -H \"X-Auth-Token: $TOKEN\" '{api.url}'"
    count = client.get(urlsplit(api.count_url).path, parse_qs(urlsplit(api.count_url).query)).json()
    assert count == {"count": 37}


# --- the detail page ------------------------------------------------------------------------------


def test_detail_page_shows_the_item_its_children_and_the_raw_json(client, member, db, sample_response):
    document = sample_response["checkpoint_items"][0]
    document["replication_records"] = [
        {
            "id": "rr-1",
            "status": "success",
            "source_region": "cn-north-1",
            "destination_region": "ap-south-1",
            "destination_project_id": "dest-proj",
            "destination_checkpoint_item_id": "replica-1",
            "created_at": "2017-04-16T01:00:00",
        }
    ]
    document["policy_id"] = "pol-9"
    seed(PROJECT, document)
    response = client.get(f"/backups/{document['id']}/")
    assert response.status_code == 200
    body = response.content.decode()
    for text in [
        "backup_d32c",
        "karbor_02",
        "az1.dc1",
        "OS::Nova::Server",
        "2017-04-15 04:20:37 UTC",
        "manualbk_47222",
        "karbor_xj_02",
        "fe84dd80-0229-4918-8d3d-cbb33154b565",
        "taskid",
        "QEMU",
        "ap-south-1",
        "dest-proj",
        "replica-1",
        "4096",
    ]:
        assert text in body, text
    volume_rows = re.findall(r"<td>(70675cbc[^<]*|8eb98e91[^<]*)</td>", body)
    assert volume_rows == ["70675cbc-d3a8-43a7-9f81-c8b6bc3f5d6d", "8eb98e91-8924-4d4b-b6d6-28fb7b751e9c"]
    raw = re.search(r'<pre class="code" id="raw-json-text" tabindex="0">(.*?)</pre>', body, re.S).group(1)
    api = client.get(f"/v1/{PROJECT}/checkpoint_items/{document['id']}").json()
    assert json.loads(html.unescape(raw)) == api
    assert 'data-copy-target="raw-json-text" hidden' in body
    links = {
        name: parse_qs(urlsplit(response.context[f"same_{name}_url"]).query)
        for name in ("resource", "checkpoint", "policy")
    }
    assert links == {
        "resource": {"project": [PROJECT], "resource_id": [document["resource_id"]]},
        "checkpoint": {"project": [PROJECT], "checkpoint_id": [document["checkpoint_id"]]},
        "policy": {"project": [PROJECT], "policy_id": ["pol-9"]},
    }


def test_detail_page_shows_values_kept_as_given_where_they_belong_and_marked(client, member, db, sample_response):
    """A value its column cannot hold is shown as the API returns it, not as the empty column."""
    document = sample_response["checkpoint_items"][0]
    other = {**json.loads(json.dumps(document)), "id": "as-sent"}
    document["protected_at"] = ""
    document["extend_info"]["dec"] = "yes"
    document["extend_info"]["volume_backups"][0]["size"] = 2.75
    seed(PROJECT, document)
    response = client.get(f"/backups/{document['id']}/")
    body = response.content.decode()
    badge = '<span class="badge as-given"'
    dec = re.search(r"<dt>dec</dt><dd>(.*?)</dd>", body, re.S).group(1)
    assert dec.startswith("yes") and badge in dec
    protected = re.search(r"<dt>protected_at</dt><dd>(.*?)</dd>", body, re.S).group(1)
    assert "(empty)" in protected and badge in protected
    assert re.search(r"<td>2\.75 " + re.escape(badge), body)
    section = re.search(r'<section aria-labelledby="as-given-title".*?</section>', body, re.S).group(0)
    assert "Kept as given (2)" in section
    assert "<code>extend_info.dec</code>" in section and "<code>protected_at</code>" in section
    assert body.count(badge) == 3  # in place: dec, protected_at, size
    seed(PROJECT, other)
    plain = client.get(f"/backups/{other['id']}/").content.decode()
    assert badge not in plain and 'id="as-given"' not in plain


def test_failed_backup_shows_its_reason_and_code_prominently(client, member, catalogue):
    body = client.get("/backups/a2/").content.decode()
    failure = re.search(r'<section class="alert alert-error failure".*?</section>', body, re.S).group(0)
    assert "This backup failed during backup" in failure
    assert "disk full" in failure and "&quot;Code&quot;: 1" in failure
    assert "This backup failed" not in client.get("/backups/a1/").content.decode()


def test_names_and_reasons_are_escaped_everywhere(client, member, catalogue):
    for url in ["/", "/backups/a5/", "/?q=script"]:
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, url
    assert "<b>bold</b>" not in client.get("/backups/a5/").content.decode()


def test_detail_of_another_projects_item_is_404(client, member, catalogue):
    response = client.get("/backups/b1/")
    assert response.status_code == 404
    assert "There is no backup <code>b1</code> in your projects." in response.content.decode()
    assert client.get("/backups/no-such/").status_code == 404


def test_staff_open_any_projects_item(client, staff, catalogue):
    assert client.get("/backups/b1/").status_code == 200


# --- the overview ---------------------------------------------------------------------------------


def test_overview_counts_per_day_and_status_for_the_current_filter(client, member, db):
    day = (NOW - dt.timedelta(days=2)).replace(hour=12, minute=0, second=0)
    seed(
        PROJECT,
        item("o1", created_at=day, status="available"),
        item("o2", created_at=day + dt.timedelta(minutes=1), status="error"),
        item("o3", created_at=day + dt.timedelta(minutes=2), status="error"),
        item("o4", created_at=day - dt.timedelta(days=1), status="available", resource_id="other"),
        item("o5", created_at=NOW - dt.timedelta(days=45), status="available"),  # outside the default 30 days
    )
    response = client.get("/overview/")
    overview = response.context["overview"]
    assert (overview.total, overview.failures, len(overview.days)) == (4, 2, 30)
    by_day = {d["day"]: d["counts"] for d in overview.days if d["total"]}
    assert by_day == {
        day.date(): {"available": 1, "error": 2},
        (day - dt.timedelta(days=1)).date(): {"available": 1},
    }
    body = response.content.decode()
    assert '<svg viewBox="0 0 760 240" role="img" aria-labelledby="chart-title chart-desc"' in body
    assert f"<title>{day.date():%Y-%m-%d}: 2 error</title>" in body
    assert "4 backups in all, 2 error, 2 available." in body
    filtered = client.get("/overview/", {"status": "error"}).context["overview"]
    assert (filtered.total, filtered.failures) == (2, 2)
    wide = client.get("/overview/", {"start_time": format_timestamp(NOW - dt.timedelta(days=60))}).context[
        "overview"
    ]
    assert (wide.total, len(wide.days)) == (5, 61)


def test_overview_runs_one_grouped_query(client, member, catalogue):
    with CaptureQueriesContext(connection) as captured:
        client.get("/overview/")
    grouped = [q["sql"] for q in captured.captured_queries if "GROUP BY" in q["sql"]]
    assert len(grouped) == 1


# --- CSV ------------------------------------------------------------------------------------------


def read_csv(response):
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_streams_the_current_filter_in_the_current_order(client, member, catalogue):
    response = client.get(
        "/export.csv", {"resource_id": "srv-web", "sort": "created_at:asc", "limit": "1", "marker": "a1"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        rf'attachment; filename="checkpoint_items-{PROJECT}-\d{{8}}T\d{{6}}Z.csv"',
        response["Content-Disposition"],
    )
    rows = read_csv(response)
    assert rows[0] == [
        "id",
        "name",
        "status",
        "project",
        "resource_id",
        "resource_name",
        "resource_type",
        "az",
        "image_type",
        "created_at",
        "updated_at",
        "protected_at",
        "size",
        "fail_op",
        "fail_reason",
        "eip",
        "private_ip",
        "checkpoint_id",
        "policy_id",
    ]
    assert [r[0] for r in rows[1:]] == ["a3", "a1"]  # every matching row: marker and limit do not apply
    a1 = dict(zip(rows[0], rows[2], strict=True))
    assert a1 == {
        "id": "a1",
        "name": "Web-Server nightly",
        "status": "available",
        "project": PROJECT,
        "resource_id": "srv-web",
        "resource_name": "web-01",
        "resource_type": "OS::Nova::Server",
        "az": "az1",
        "image_type": "backup",
        "created_at": format_timestamp(NOW - dt.timedelta(hours=2)),
        "updated_at": "",
        "protected_at": "",
        "size": "",
        "fail_op": "",
        "fail_reason": "",
        "eip": "1.2.3.4",
        "private_ip": "10.0.0.1",
        "checkpoint_id": "cp-1",
        "policy_id": "pol-1",
    }


def test_csv_guards_against_formula_injection(client, member, catalogue):
    rows = {r[0]: r for r in read_csv(client.get("/export.csv"))[1:]}
    assert rows["a6"][1] == "'=cmd|' /C calc'!A0"
    assert rows["a6"][5] == "'@sum(1+1)"
    assert rows["a5"][1] == "<script>alert(1)</script>"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("a=b", "a=b"),
        (-5, -5),
        (None, ""),
    ],
)
def test_csv_cell(value, expected):
    assert csv_export.csv_cell(value) == expected


def test_csv_is_read_in_chunks_by_an_iterator(client, member, catalogue, monkeypatch):
    seen = []
    real_iterator = QuerySet.iterator

    def spy(self, chunk_size=None):
        seen.append(chunk_size)
        return real_iterator(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    response = client.get("/export.csv")
    assert seen == []  # nothing is read before the body is consumed
    read_csv(response)
    assert seen == [csv_export.CSV_CHUNK_SIZE]


def test_csv_with_invalid_parameters_goes_to_the_list_with_the_errors(client, member, catalogue):
    response = client.get("/export.csv", {"status": "bogus"})
    assert response.status_code == 302 and response["Location"] == "/?status=bogus"


# --- speed and soundness --------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["10", "100"])
def test_list_page_runs_a_fixed_number_of_queries(client, member, many, limit, django_assert_num_queries):
    # session, user, the user's and the group's permissions, memberships, page, count = 7;
    # with a marker, + the ids before the page = 8 (the marker's sort values are read in the page's query).
    with django_assert_num_queries(7):
        client.get("/", {"limit": limit})
    with django_assert_num_queries(8):
        client.get("/", {"limit": limit, "marker": "m03", "sort": "protected_at:asc"})


def test_list_page_does_not_read_the_documents(client, member, many):
    with CaptureQueriesContext(connection) as captured:
        client.get("/")
    assert not any('"document"' in q["sql"] for q in captured.captured_queries)


def test_pages_load_no_asset_from_the_internet(client, member, catalogue):
    for url in ["/", "/backups/a1/", "/overview/", "/accounts/login/"]:
        body = client.get(url).content.decode()
        # Absolute links go to this server only (the API request); nothing is loaded from elsewhere.
        assert not re.search(r'(src|href)="(https?:)?//(?!testserver/)', body), url
        assert not re.search(r'src="(https?:)?//', body), url
    assert client.get("/static/backups/browse.css").status_code == 200
    assert client.get("/static/backups/browse.js").status_code == 200


def test_staff_get_admin_and_api_docs_links(client, staff, catalogue):
    body = client.get("/").content.decode()
    assert 'href="/admin/"' in body and 'href="/v1/docs/"' in body


def test_member_gets_no_admin_link(client, member, catalogue):
    assert 'href="/admin/"' not in client.get("/").content.decode()


def test_pages_answer_only_get_and_head(client, member, catalogue):
    assert client.post("/").status_code == 405
    assert client.head("/").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/?q=%00",
        "/?name=%00",
        "/?project=%00",
        "/?marker=" + "x" * 300,
        "/?sort=" + "name," * 60,
        "/?limit=99999999999999999999999",
        "/?start_time=9999-12-31T23:59:59.999999",
        "/?q=' OR 1=1 --",
        "/overview/?start_time=2999-01-01T00:00",
        "/overview/?start_time=1970-01-01T00:00",
        "/overview/?status=bogus",
        "/export.csv?sort=bogus",
        "/backups/%00/",
        "/backups/" + "x" * 300 + "/",
    ],
)
def test_hostile_input_gets_a_page_never_a_500(client, member, catalogue, url):
    response = client.get(url)
    assert response.status_code in {200, 302, 400, 403, 404}
    assert response["Content-Type"].startswith("text/html")
