"""``GET /ext/v1/{project_id}/coverage``: the report as JSON, tenancy, parameters, errors, OpenAPI."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from backups.models import ProjectMembership

from ..api.helpers import error, token_client
from .histories import AS_OF, P, Q, load

pytestmark = pytest.mark.django_db
AT = "as_of=2026-03-01T12:00:00Z"


@pytest.fixture
def histories(db):
    load()


def url(project=P, query=AT):
    return f"/ext/v1/{project}/coverage" + (f"?{query}" if query else "")


def resources(response):
    assert response.status_code == 200, response.content
    return [(r["project_id"], r["resource_id"]) for r in response.json()["resources"]]


def test_report_body_whole(histories):
    response = token_client(P).get(url(query=AT + "&limit=1"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "as_of": "2026-03-01T12:00:00.000000",
        "days": 7,
        "failures": 3,
        "category": "any",
        "counts": {"resources": 12, "unprotected": 5, "failing": 2, "unreplicated": 1, "any": 6},
        "resources": [
            {
                "project_id": P,
                "resource_id": "never",
                "resource_name": "never-server",
                "resource_type": "OS::Nova::Server",
                "resource_az": "az-1",
                "categories": ["unprotected", "failing"],
                "why": "No good backup; 3 failed in a row: Snapshot quota exceeded.",
                "backup_count": 3,
                "last_backup": {"id": "never-3", "created_at": "2026-02-28T12:00:00.000000", "status": "error"},
                "last_available_backup": None,
                "newest_available_replication": None,
                "failure_streak": 3,
                "failing_since": "2026-02-26T12:00:00.000000",
                "latest_fail_reason": "Snapshot quota exceeded",
                "last_replication": None,
            }
        ],
    }
    assert response["Link"] == f'<http://testserver{url(query=None)}?as_of=2026-03-01T12%3A00%3A00Z&limit=1&offset=1>; rel="next"'


def test_replication_of_a_resource(histories):
    body = token_client(P).get(url(query=AT + "&category=unreplicated")).json()
    (gap,) = body["resources"]
    assert gap["last_replication"] == {
        "backup": {"id": "gap-1", "created_at": "2026-02-26T12:00:00.000000"},
        "replicated_at": "2026-02-26T13:00:00.000000",
        "destination_region": "cn-north-4",
    }
    assert gap["newest_available_replication"] == "none"


@pytest.mark.parametrize(
    "category, expected",
    [
        ("", ["never", "shared", "deleted", "running", "older", "gap"]),
        ("unprotected", ["never", "shared", "deleted", "running", "older"]),
        ("failing", ["never", "running"]),
        ("unreplicated", ["gap"]),
    ],
)
def test_category(histories, category, expected):
    response = token_client(P).get(url(query=f"{AT}&category={category}"))
    assert [r for _, r in resources(response)] == expected


def test_paging_with_offset_follows_the_link(histories):
    client = token_client(P)
    seen, next_url = [], url(query=AT + "&limit=4")
    while next_url:
        response = client.get(next_url)
        seen += resources(response)
        next_url = response.get("Link", "").partition("<http://testserver")[2].partition(">")[0] or None
    assert [r for _, r in seen] == ["never", "shared", "deleted", "running", "older", "gap"]


def test_filters_are_the_lists(histories):
    response = token_client(P).get(url(query=AT + "&category=all&az=az-2"))
    assert resources(response) == [(P, "shared")]
    response = token_client(P).get(url(query=AT + "&category=all&resource_name=RENAMED"))
    assert resources(response) == [(P, "tie")]


# --- tenancy -----------------------------------------------------------------------------------------


def test_a_token_of_another_project_gets_403_like_the_api(histories):
    status, code, message = error(token_client(Q).get(url()))
    assert (status, code, message) == (403, "CSBS.9403", f"No permission to read project {P}")
    assert error(token_client(Q).get(f"/v1/{P}/checkpoint_items"))[:2] == (403, "CSBS.9403")


def test_no_token_is_401(histories):
    assert error(Client().get(url()))[:2] == (401, "CSBS.9401")


def test_all_tenants_is_every_project_the_caller_may_read(histories):
    all_query = AT + "&category=all&resource_id=shared&all_tenants=true"
    assert resources(token_client(P).get(url(query=all_query))) == [(P, "shared")]
    assert resources(token_client(Q).get(url(Q, all_query))) == [(Q, "shared")]
    assert resources(token_client(P, admin=True).get(url(query=all_query))) == [(P, "shared"), (Q, "shared")]


def test_a_logged_in_user_reads_their_member_projects(histories, client):
    user = User.objects.create_user("member")
    ProjectMembership.objects.create(user=user, project_id=P)
    client.force_login(user)
    all_query = AT + "&category=all&resource_id=shared&all_tenants=true"
    assert resources(client.get(url(query=all_query))) == [(P, "shared")]
    assert error(client.get(url(Q)))[:2] == (403, "CSBS.9403")
    ProjectMembership.objects.create(user=user, project_id=Q)
    assert resources(client.get(url(query=all_query))) == [(P, "shared"), (Q, "shared")]


# --- parameters and errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, message",
    [
        ("marker=x", "Unknown parameter 'marker': allowed parameters are all_tenants, as_of, az, category, days, failures, limit, offset, resource_id, resource_name, resource_type"),
        ("status=error", "Unknown parameter 'status': allowed parameters are all_tenants, as_of, az, category, days, failures, limit, offset, resource_id, resource_name, resource_type"),
        ("days=0", "Invalid days '0': must be an integer from 1 to 3650"),
        ("failures=x", "Invalid failures 'x': must be an integer from 1 to 1000"),
        ("category=bad", "Invalid category 'bad': must be one of any, unprotected, failing, unreplicated, all"),
        ("limit=1001", "Invalid limit '1001': must be an integer from 1 to 1000"),
        ("as_of=2026-03-01&days=-1", "Invalid days '-1': must be an integer from 1 to 3650; Invalid as_of '2026-03-01': a date alone is ambiguous: give a time too, an ISO 8601 time such as 2017-04-18T01:21:52.701973 (Z or ±HH:MM allowed)"),
    ],
)
def test_invalid_parameters_are_one_400(histories, query, message):
    assert error(token_client(P).get(url(query=query))) == (400, "CSBS.9001", message)


@pytest.mark.parametrize("parameter, value", [("az", "a" * 65), ("resource_id", "x\x00"), ("all_tenants", "maybe"), ("resource_name", "n" * 256)])
def test_filter_messages_are_the_lists_own(histories, parameter, value):
    from urllib.parse import urlencode

    query = urlencode({parameter: value})
    ours = error(token_client(P).get(url(query=query)))
    lists = error(token_client(P).get(f"/v1/{P}/checkpoint_items?{query}"))
    assert ours == lists


def test_empty_values_are_absent_and_the_last_value_counts(histories):
    response = token_client(P).get(url(query=AT + "&days=&category=failing&category=unreplicated"))
    assert response.json()["days"] == 7
    assert [r for _, r in resources(response)] == ["gap"]


def test_default_as_of_is_now(histories):
    from django.utils import timezone

    from backups.document.timestamps import parse_timestamp

    before = timezone.now()
    as_of = parse_timestamp(token_client(P).get(url(query="")).json()["as_of"])
    assert before <= as_of <= timezone.now()


@pytest.mark.parametrize(
    "path",
    [f"/ext/v1/{P}/coverage/extra", f"/ext/v1/{P}/other", "/ext/", "/ext/v2/x", f"/v1/{P}/coverage", "/ext/v1/bad!id/coverage"],
)
def test_other_paths_are_csbs_404s(histories, path):
    assert error(token_client(P).get(path))[:2] == (404, "CSBS.9404")


def test_trailing_slash_is_accepted(histories):
    assert token_client(P).get(f"/ext/v1/{P}/coverage/?{AT}").status_code == 200


def test_only_get_and_head(histories):
    client = token_client(P)
    assert error(client.post(url()))[:2] == (405, "CSBS.9405")
    assert client.head(url()).status_code == 200


def test_a_page_costs_a_fixed_number_of_queries(db, django_assert_num_queries):
    from backups.document.parse import parse_item
    from backups.services.upsert import upsert_items

    from .histories import DAY, backup

    upsert_items(P, [parse_item(backup(f"b{n}", f"srv-{n % 50}", AS_OF - n * DAY / 10, "error" if n % 4 else "available")) for n in range(300)])
    client = token_client(P)
    with django_assert_num_queries(2):  # the token, the report
        client.get(url(query=f"{AT}&category=all&limit=1"))
    for limit in (1, 10, 50):
        with django_assert_num_queries(1):  # the report (the token is remembered: backups.api.token_cache)
            body = client.get(url(query=f"{AT}&category=all&limit={limit}")).json()
        assert len(body["resources"]) == limit


# --- OpenAPI -------------------------------------------------------------------------------------------


def test_openapi_describes_the_report_with_its_parameters(db):
    description = Client().get("/v1/openapi.json").json()
    operation = description["paths"]["/ext/v1/{project_id}/coverage"]["get"]
    names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert names == {"az", "resource_id", "resource_name", "resource_type", "all_tenants", "days", "failures", "as_of", "category", "limit", "offset"}
    assert set(operation["responses"]) >= {"200", "400", "401", "403", "404"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["required"] == ["as_of", "days", "failures", "category", "counts", "resources"]
    assert "/v1/{project_id}/checkpoint_items" in description["paths"]


def test_a_backup_gone_upstream_protects_nothing(histories):
    """``broken``'s one good backup vanished from its sync source (gone): out of the API's answers,
    and out of the report too — the resource has four failures and no good backup left."""
    from django.utils import timezone

    from backups.models import CheckpointItem

    assert (P, "broken") not in resources(token_client(P).get(url(query=f"{AT}&category=unprotected")))
    CheckpointItem.objects.filter(pk="broken-3").update(gone_at=timezone.now())
    response = token_client(P).get(url(query=f"{AT}&category=unprotected"))
    assert (P, "broken") in resources(response)
    [broken] = [r for r in response.json()["resources"] if r["resource_id"] == "broken"]
    assert broken["backup_count"] == 4 and broken["failure_streak"] == 4
