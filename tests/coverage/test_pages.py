"""The coverage pages (/coverage/, /coverage/resource/) and the CSV: same answer as the API, same access as the list."""

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group, User

from backups.models import ProjectMembership

from ..api.helpers import token_client
from .histories import AS_OF, DAY, P, Q, backup, load

AT = "as_of=2026-03-01T12:00:00Z"
ROW = re.compile(r'<tr class="[^"]*" data-resource="([^"]+)">')


def make_user(username, *projects, staff=False):
    user = User.objects.create_user(username, password="pw", is_staff=staff)
    user.groups.add(Group.objects.get(name="Support"))
    for project in projects:
        ProjectMembership.objects.create(user=user, project_id=project)
    return user


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def histories(db):
    load()


@pytest.fixture
def member(client, histories):
    user = make_user("member", P)
    client.force_login(user)
    return user


def rows(response):
    assert response.status_code == 200, response.content[:2000]
    return ROW.findall(response.content.decode())


def read_csv(response):
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_login_required(client, db):
    response = client.get("/coverage/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_report_page_lists_the_resources_at_risk_with_why_and_counts(client, member):
    response = client.get(f"/coverage/?project={P}&{AT}")
    assert rows(response) == ["never", "shared", "deleted", "running", "older", "gap"]
    page = response.content.decode()
    for tab, count in (("unprotected", 5), ("failing", 2), ("unreplicated", 1), ("any", 6), ("all", 12)):
        assert re.search(rf'id="tab-{tab}"[^>]*>\s*<span class="category-count">{count}</span>', page), tab
    assert "No good backup in 7 days" in page
    assert "No good backup; 3 failed in a row: Snapshot quota exceeded." in page
    assert 'aria-current="page">Coverage</a>' in page


def test_category_tab_shows_that_category(client, member):
    assert rows(client.get(f"/coverage/?project={P}&{AT}&category=failing")) == ["never", "running"]


def test_rows_link_to_the_resource_page_and_to_its_backups_in_the_list(client, member):
    page = client.get(f"/coverage/?project={P}&{AT}&category=unreplicated").content.decode()
    links = re.findall(r'href="([^"]+)"', page)
    resource = next(link for link in links if link.startswith("/coverage/resource/"))
    assert parse_qs(urlsplit(resource.replace("&amp;", "&")).query) == {
        "project": [P], "resource_id": ["gap"], "as_of": ["2026-03-01T12:00:00Z"],
    }
    listing = next(link for link in links if link.startswith("/?") and "resource_id=gap" in link)
    assert parse_qs(urlsplit(listing.replace("&amp;", "&")).query) == {
        "project": [P], "resource_id": ["gap"], "end_time": ["2026-03-01T12:00:00Z"],
    }
    listed = client.get(listing.replace("&amp;", "&")).content.decode()
    assert set(re.findall(r'href="/backups/([^/"]+)/"', listed)) == {"gap-1", "gap-2", "gap-replica"}


def test_member_cannot_open_another_project(client, member):
    assert client.get(f"/coverage/?project={Q}").status_code == 403


def test_all_tenants_covers_the_member_projects_only(client, member):
    query = f"{AT}&category=all&resource_id=shared&all_tenants=true"
    assert rows(client.get(f"/coverage/?project={P}&{query}")) == ["shared"]
    client.force_login(make_user("staffer", staff=True))
    page = client.get(f"/coverage/?project={P}&{query}")
    assert rows(page) == ["shared", "shared"]
    assert f'<span class="id">{Q}</span>' in page.content.decode()


def test_invalid_parameters_are_shown_beside_their_fields(client, member):
    response = client.get(f"/coverage/?project={P}&days=0&az={'a' * 65}")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="f-days-error">must be an integer from 1 to 3650' in page
    assert 'id="f-az-error">Ensure this value has at most 64 characters' in page or "must be at most 64 characters long" in page


def test_page_costs_a_fixed_number_of_queries(client, db, django_assert_num_queries):
    from backups.document.parse import parse_item
    from backups.services.upsert import upsert_items

    upsert_items(P, [parse_item(backup(f"b{n}", f"srv-{n % 60}", AS_OF - n * DAY / 10, "error")) for n in range(300)])
    client.force_login(make_user("member", P))
    for limit in (10, 50):
        with django_assert_num_queries(6):  # session, user, 2 permissions, memberships, the report
            assert len(rows(client.get(f"/coverage/?project={P}&{AT}&limit={limit}"))) == limit


def test_csv_holds_the_same_resources_as_the_api_in_the_same_order(client, member):
    query = f"{AT}&category=any"
    exported = read_csv(client.get(f"/coverage/export.csv?project={P}&{query}"))
    api = token_client(P).get(f"/ext/v1/{P}/coverage?{query}").json()["resources"]
    assert [(r["project"], r["resource_id"]) for r in exported] == [(r["project_id"], r["resource_id"]) for r in api]
    never = exported[0]
    assert never["categories"] == "unprotected failing"
    assert never["failure_streak"] == "3"
    assert never["latest_fail_reason"] == "Snapshot quota exceeded"
    assert never["last_backup_at"] == "2026-02-28T12:00:00.000000"
    assert never["why"] == api[0]["why"]


def test_csv_is_every_row_not_one_page(client, member):
    exported = read_csv(client.get(f"/coverage/export.csv?project={P}&{AT}&category=all&limit=2"))
    assert len(exported) == 12


def test_csv_with_invalid_parameters_goes_to_the_page(client, member):
    response = client.get(f"/coverage/export.csv?project={P}&days=x")
    assert response.status_code == 302 and response["Location"].startswith("/coverage/?")


def test_resource_page_shows_the_row_and_the_timeline(client, member):
    response = client.get(f"/coverage/resource/?project={P}&resource_id=broken&{AT}")
    assert response.status_code == 200
    page = response.content.decode()
    assert "2 failed in a row: Backup timed out." in page
    svg = page[page.index('<svg viewBox="0 0 760 150"') : page.index("</svg>")]
    assert len(re.findall(r'<a href="/backups/broken-\d/" class="mark"', svg)) == 5
    assert svg.count('class="seg-error"') == 4 and svg.count('class="seg-available"') == 1
    assert page.index("broken-5") < page.index("broken-1")  # the table: newest first


def test_resource_page_draws_replicated_backups(client, member):
    page = client.get(f"/coverage/resource/?project={P}&resource_id=gap&{AT}").content.decode()
    assert page.count('<path class="replicated"') == 1


def test_resource_page_of_an_unknown_or_foreign_resource(client, member):
    assert client.get(f"/coverage/resource/?project={P}&resource_id=nope&{AT}").status_code == 404
    assert client.get(f"/coverage/resource/?project={Q}&resource_id=shared").status_code == 403
    assert client.get(f"/coverage/resource/?project={P}").status_code == 400


def test_resource_page_costs_a_fixed_number_of_queries(client, member, django_assert_num_queries):
    with django_assert_num_queries(7):  # session, user, 2 permissions, memberships, the row, the history
        client.get(f"/coverage/resource/?project={P}&resource_id=running&{AT}")


def test_overview_and_list_link_to_coverage(client, member):
    assert 'href="/coverage/"' in client.get(f"/?project={P}").content.decode()
    assert 'id="coverage-link"' in client.get(f"/overview/?project={P}").content.decode()


def test_resource_page_at_the_beginning_of_time(client, member):
    response = client.get(f"/coverage/resource/?project={P}&resource_id=never&as_of=0001-01-02T00:00Z&days=3650")
    assert response.status_code == 404  # nothing was created before then; and no overflow


def test_a_backup_gone_upstream_protects_nothing_on_the_page(client, member):
    from django.utils import timezone

    from backups.models import CheckpointItem

    CheckpointItem.objects.filter(pk="broken-3").update(gone_at=timezone.now())
    assert "broken" in rows(client.get(f"/coverage/?project={P}&{AT}&category=unprotected"))
    resource = client.get(f"/coverage/resource/?project={P}&resource_id=broken&{AT}").content.decode()
    assert "broken-3" not in resource and "broken-4" in resource
