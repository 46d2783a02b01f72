"""GET /v1/{project_id}/checkpoint_items (and count, detail): the contract of API.md, over HTTP."""
import copy
import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backups.middleware import new_request_id
from tests.factories import DELETE, create_items, item_dict

from .helpers import error, ids, token_client

pytestmark = pytest.mark.django_db

P = "proj-a"
URL = f"/v1/{P}/checkpoint_items"


@pytest.fixture
def api():
    return token_client(P)


def at(day, time="00:00:00.000000"):
    return f"2024-05-{day:02d}T{time}"


# --- the item ------------------------------------------------------------------------------------


def expected_sample_item(sample_item):
    """The seed's sample as the API returns it: every listed key, missing ones as null/[]."""
    item = copy.deepcopy(sample_item)
    item.update(description=None, protected_at=None, replication_records=[])
    item["extend_info"].update(resource_type=None, retention_duration=None, dec=None, dec_size=None)
    for volume_backup in item["extend_info"]["volume_backups"]:
        volume_backup.update(source_volume_service_type=None, dec_size=None)
    return item


def test_the_seed_sample_comes_back_whole(api, sample_response):
    create_items(P, *sample_response["checkpoint_items"])
    expected = expected_sample_item(sample_response["checkpoint_items"][0])

    listed = api.get(URL)
    one = api.get(f"{URL}/{expected['id']}")
    count = api.get(f"{URL}/count")

    assert listed.status_code == 200 and listed["Content-Type"] == "application/json"
    assert listed.json() == {"checkpoint_items": [expected]}
    assert one.json() == {"checkpoint_item": expected}
    assert count.json() == {"count": 1}
    assert listed.json()["checkpoint_items"][0]["backup_data"]["ram"] == 4096  # a number stays a number
    assert listed.json()["checkpoint_items"][0]["extend_info"]["taskid"] == "e0a21692-2192-11e7-bf23-0242ac110007"


def test_timestamps_are_written_utc_with_six_fraction_digits(api):
    create_items(P, item_dict(created_at="2017-04-15T12:20:37+08:00", updated_at="2017-04-15T04:25:38.5Z"))
    item = api.get(URL).json()["checkpoint_items"][0]
    assert item["created_at"] == "2017-04-15T04:20:37.000000"
    assert item["updated_at"] == "2017-04-15T04:25:38.500000"


def test_volume_backups_keep_their_order(api, sample_response):
    item = item_dict()
    first, second = item["extend_info"]["volume_backups"]
    item["extend_info"]["volume_backups"] = [second, first, copy.deepcopy(first) | {"id": "third"}]
    create_items(P, item)
    returned = api.get(URL).json()["checkpoint_items"][0]["extend_info"]["volume_backups"]
    assert [v["id"] for v in returned] == [second["id"], first["id"], "third"]


@pytest.mark.parametrize("path", ["", "/", "/count", "/count/"])
def test_a_trailing_slash_is_accepted_without_redirect(api, path):
    assert api.get(URL + path).status_code == 200


def test_detail_with_trailing_slash(api):
    [item_id] = create_items(P, item_dict())
    assert api.get(f"{URL}/{item_id}/").json()["checkpoint_item"]["id"] == item_id


def test_an_unknown_item_is_404_with_the_csbs_message(api):
    assert error(api.get(f"{URL}/no-such-id")) == (404, "CSBS.3001", "Checkpoint_item (no-such-id) is not found.")


def test_an_empty_list_is_an_empty_array(api):
    response = api.get(URL)
    assert response.json() == {"checkpoint_items": []}
    assert "Link" not in response


# --- order ---------------------------------------------------------------------------------------


def test_default_order_is_created_at_desc_then_id_desc(api):
    a = item_dict(id="a", created_at=at(1))
    b = item_dict(id="b", created_at=at(2))
    c = item_dict(id="c", created_at=at(2))
    create_items(P, a, b, c)
    assert ids(api.get(URL)) == ["c", "b", "a"]


def test_strings_sort_by_code_point(api):
    names = ["a", "B", "é", "Z", "_", "b"]
    create_items(P, *(item_dict(id=f"id-{n}", name=n) for n in names))
    returned = [i["name"] for i in api.get(URL, {"sort": "name:asc"}).json()["checkpoint_items"]]
    assert returned == sorted(names) == ["B", "Z", "_", "a", "b", "é"]


def test_nulls_sort_last_ascending_and_first_descending(api):
    create_items(
        P,
        item_dict(id="early", protected_at=at(1)),
        item_dict(id="none-1"),
        item_dict(id="late", protected_at=at(3)),
        item_dict(id="none-2"),
    )
    assert ids(api.get(URL, {"sort": "protected_at:asc"})) == ["early", "late", "none-1", "none-2"]
    assert ids(api.get(URL, {"sort": "protected_at:desc"})) == ["none-2", "none-1", "late", "early"]


def test_ties_are_broken_by_id_in_the_direction_of_the_last_key(api):
    create_items(P, *(item_dict(id=i, status="available") for i in ["b", "c", "a"]))
    assert ids(api.get(URL, {"sort": "status:asc"})) == ["a", "b", "c"]
    assert ids(api.get(URL, {"sort": "status:desc"})) == ["c", "b", "a"]
    assert ids(api.get(URL, {"sort": "status:desc,id:asc"})) == ["a", "b", "c"]


def test_multi_key_sort_with_mixed_directions(api):
    create_items(
        P,
        item_dict(id="1", status="error", created_at=at(1)),
        item_dict(id="2", status="available", created_at=at(1)),
        item_dict(id="3", status="error", created_at=at(2)),
        item_dict(id="4", status="available", created_at=at(2)),
    )
    assert ids(api.get(URL, {"sort": "status:asc,created_at:desc"})) == ["4", "2", "3", "1"]
    assert ids(api.get(URL, {"sort": "status:desc,created_at:asc"})) == ["1", "3", "2", "4"]


# --- filters -------------------------------------------------------------------------------------


@pytest.fixture
def varied(db):
    create_items(
        P,
        item_dict(id="web", name="Web-Daily", status="available", resource_id="r-web", resource_type="OS::Nova::Server",
                  checkpoint_id="cp-1", policy_id="pol-1", created_at=at(1),
                  extend_info__resource_az="az1", extend_info__resource_name="Web-Server", extend_info__dec=True,
                  extend_info__image_type="backup", backup_data__eip="1.2.3.4", backup_data__private_ip="10.0.0.1"),
        item_dict(id="db", name="DB-nightly", status="error", resource_id="r-db", resource_type="OS::Cinder::Volume",
                  checkpoint_id="cp-2", policy_id="pol-2", created_at=at(2),
                  extend_info__resource_az="az2", extend_info__resource_name="Ünïcode-DB", extend_info__dec=False,
                  extend_info__image_type="replication", backup_data__eip="", backup_data__private_ip="1.2.3.4"),
        item_dict(id="old", name="web-old", status="available", resource_id="r-web", created_at=at(3),
                  extend_info__resource_az="az1", extend_info__resource_name="web-server",
                  backup_data__eip="5.6.7.8", backup_data__private_ip="10.0.0.9"),
    )
    create_items("proj-b", item_dict(id="other", name="Web-Daily", status="available"))


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"status": "available"}, ["old", "web"]),
        ({"status": "error"}, ["db"]),
        ({"status": "deleted"}, []),
        ({"name": "web"}, ["old", "web"]),
        ({"name": "WEB-d"}, ["web"]),
        ({"name": "nightly"}, ["db"]),
        ({"name": "%"}, []),
        ({"name": "_"}, []),
        ({"az": "az1"}, ["old", "web"]),
        ({"az": "AZ1"}, []),
        ({"resource_id": "r-web"}, ["old", "web"]),
        ({"resource_name": "server"}, ["old", "web"]),
        ({"resource_name": "ÜNÏCODE"}, ["db"]),
        ({"start_time": at(2)}, ["old", "db"]),
        ({"end_time": at(2)}, ["db", "web"]),
        ({"start_time": at(2), "end_time": at(2)}, ["db"]),
        ({"start_time": "2024-05-02T08:00:00+08:00"}, ["old", "db"]),
        ({"end_time": "2024-05-01 23:59:59Z"}, ["web"]),
        ({"start_time": "2024-05-02"}, ["old", "db"]),
        ({"image_type": "replication"}, ["db"]),
        ({"policy_id": "pol-1"}, ["web"]),
        ({"ip": "1.2.3.4"}, ["db", "web"]),
        ({"ip": "10.0.0.9"}, ["old"]),
        ({"checkpoint_id": "cp-2"}, ["db"]),
        ({"resource_type": "OS::Cinder::Volume"}, ["db"]),
        ({"dec": "true"}, ["web"]),
        ({"dec": "TRUE"}, ["web"]),
        ({"dec": "false"}, ["old", "db"]),
        ({"dec": "0"}, ["old", "db"]),
        ({"status": "available", "az": "az1", "name": "daily"}, ["web"]),
        ({"name": ""}, ["old", "db", "web"]),
        ({"status": "", "limit": "", "sort": "", "marker": "", "offset": ""}, ["old", "db", "web"]),
    ],
)
def test_filters(api, varied, params, expected):
    assert ids(api.get(URL, params)) == expected
    assert api.get(f"{URL}/count", params).json() == {"count": len(expected)}


def test_a_parameter_given_twice_counts_with_its_last_value(api, varied):
    assert ids(api.get(f"{URL}?status=error&status=available")) == ["old", "web"]


def test_all_tenants_returns_every_project_for_an_admin(varied):
    admin = token_client(P, admin=True)
    assert ids(admin.get(URL, {"all_tenants": "true", "name": "web-daily"})) == ["web", "other"]
    assert ids(admin.get("/v1/proj-b/checkpoint_items", {"all_tenants": "False", "name": "web-daily"})) == ["other"]
    assert admin.get(f"{URL}/count", {"all_tenants": "1"}).json() == {"count": 4}


# --- invalid parameters: 400 CSBS.9001 naming the parameter and the rule ---------------------------


@pytest.mark.parametrize(
    "query, message",
    [
        ("stauts=error", "Unknown parameter 'stauts': allowed parameters are all_tenants, az, checkpoint_id, dec, "
                         "end_time, image_type, ip, limit, marker, name, offset, policy_id, resource_id, "
                         "resource_name, resource_type, sort, start_time, status"),
        ("status=broken", "Invalid status 'broken': must be one of waiting_protect, protecting, available, "
                          "waiting_restore, restoring, error, waiting_delete, deleting, deleted"),
        ("status=Available", "Invalid status 'Available': must be one of"),
        ("limit=0", "Invalid limit '0': must be an integer from 1 to 1000"),
        ("limit=1001", "Invalid limit '1001': must be an integer from 1 to 1000"),
        ("limit=-1", "Invalid limit '-1': must be an integer from 1 to 1000"),
        ("limit=ten", "Invalid limit 'ten': must be an integer from 1 to 1000"),
        ("limit=1.5", "Invalid limit '1.5'"),
        ("limit=99999999999999999999999", "Invalid limit '99999999999999999999999'"),
        ("offset=-1", "Invalid offset '-1': must be an integer from 0 to"),
        ("offset=x", "Invalid offset 'x'"),
        ("marker=unknown", "Invalid marker 'unknown': no such checkpoint item"),
        ("sort=size", "Invalid sort key 'size': allowed keys are created_at, updated_at, name, status, protected_at, id"),
        ("sort=name:up", "Invalid sort direction 'up' for key 'name'"),
        ("sort=name,name", "sort key 'name' is given twice"),
        ("sort=name,", "sort has an empty key at position 2"),
        ("start_time=yesterday", "Invalid start_time 'yesterday': is not an ISO 8601 time"),
        ("end_time=2017-04-18", "Invalid end_time '2017-04-18': a date alone is ambiguous"),
        ("start_time=2017-02-30T00:00:00", "Invalid start_time '2017-02-30T00:00:00': is not a valid instant"),
        ("start_time=2024-05-03T00:00:00&end_time=2024-05-02T00:00:00",
         "Invalid start_time '2024-05-03T00:00:00': must not be later than end_time"),
        ("dec=yes", "Invalid dec 'yes': must be true, false, 1 or 0"),
        ("all_tenants=maybe", "Invalid all_tenants 'maybe': must be true, false, 1 or 0"),
        ("image_type=snapshot", "Invalid image_type 'snapshot': must be one of backup, replication"),
        ("name=" + "x" * 256, "Invalid name '" + "x" * 40 + "': must be at most 255 characters long"),
        ("name=a%00b", "must not contain NUL characters"),
        ("status=broken&limit=0", "Invalid status 'broken'"),
    ],
)
def test_invalid_parameters_are_refused_naming_the_rule(api, query, message):
    status, code, text = error(api.get(f"{URL}?{query}"))
    assert (status, code) == (400, "CSBS.9001")
    assert text.startswith(message) or message in text, text


def test_every_invalid_parameter_is_named_at_once(api):
    _, _, text = error(api.get(f"{URL}?status=broken&limit=0&sort=size"))
    assert "Invalid status 'broken'" in text and "Invalid limit '0'" in text and "Invalid sort key 'size'" in text


def test_count_accepts_and_ignores_paging_parameters(api, varied):
    response = api.get(f"{URL}/count", {"limit": "5000", "marker": "nope", "offset": "x", "sort": "bad", "status": "error"})
    assert response.json() == {"count": 1}


def test_count_still_refuses_unknown_parameters(api):
    assert error(api.get(f"{URL}/count?stauts=x"))[:2] == (400, "CSBS.9001")


def test_detail_takes_no_parameters(api):
    [item_id] = create_items(P, item_dict())
    assert error(api.get(f"{URL}/{item_id}?limit=1"))[:2] == (400, "CSBS.9001")


# --- paging --------------------------------------------------------------------------------------


@pytest.fixture
def ten(db):
    # created_at ties in pairs, so the id tie-breaker is exercised on every page boundary
    return create_items(P, *(item_dict(id=f"i{n}", created_at=at(1 + n // 2)) for n in range(10)))


def test_limit_and_marker_walk_every_item_once(api, ten):
    expected = ids(api.get(URL))
    seen, marker = [], None
    while True:
        params = {"limit": 3} | ({"marker": marker} if marker else {})
        page = ids(api.get(URL, params))
        seen += page
        if len(page) < 3:
            break
        marker = page[-1]
    assert seen == expected and len(expected) == 10


def test_offset_skips_from_the_start_or_after_the_marker(api, ten):
    everything = ids(api.get(URL))
    assert ids(api.get(URL, {"offset": 2, "limit": 3})) == everything[2:5]
    assert ids(api.get(URL, {"marker": everything[1], "offset": 2, "limit": 3})) == everything[4:7]
    assert ids(api.get(URL, {"offset": 50})) == []


def test_the_marker_need_not_match_the_filters(api):
    create_items(
        P,
        item_dict(id="e1", status="error", created_at=at(1)),
        item_dict(id="a2", status="available", created_at=at(2)),
        item_dict(id="e3", status="error", created_at=at(3)),
    )
    assert ids(api.get(URL, {"status": "error", "marker": "a2"})) == ["e1"]


def test_marker_paging_crosses_nulls(api):
    create_items(
        P,
        *(item_dict(id=f"n{k}") for k in range(3)),
        *(item_dict(id=f"p{k}", protected_at=at(1 + k % 2)) for k in range(4)),
    )
    for direction in ("asc", "desc"):
        expected = ids(api.get(URL, {"sort": f"protected_at:{direction}"}))
        walked = []
        for _ in range(7):
            params = {"sort": f"protected_at:{direction}", "limit": 2} | ({"marker": walked[-1]} if walked else {})
            walked += ids(api.get(URL, params))
        assert walked == expected


def test_a_marker_of_another_project_is_refused_like_an_unknown_one(api):
    create_items("proj-b", item_dict(id="theirs"))
    assert error(api.get(URL, {"marker": "theirs"})) == (
        400, "CSBS.9001", "Invalid marker 'theirs': no such checkpoint item")


def test_a_full_page_links_to_the_next(api, ten):
    response = api.get(URL, {"limit": 4, "status": "available", "offset": 1})
    page = ids(response)
    assert response["Link"] == (
        f'<http://testserver{URL}?limit=4&status=available&marker={page[-1]}>; rel="next"'
    )
    last = api.get(URL, {"limit": 5, "marker": ids(api.get(URL))[4]})
    assert len(ids(last)) == 5 and "Link" in last
    assert api.get(URL, {"limit": 5, "marker": ids(last)[-1]}).json() == {"checkpoint_items": []}
    assert "Link" not in api.get(URL, {"limit": 11})


# --- cost ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 1000])
def test_a_list_request_costs_the_same_few_queries_for_any_limit_and_never_counts(api, ten, django_assert_num_queries, limit):
    marker = ids(api.get(URL))[1]
    with django_assert_num_queries(1) as captured:  # the page, the marker's values in it (the token is remembered)
        response = api.get(URL, {"limit": limit, "marker": marker, "sort": "protected_at:asc,name:desc"})
    assert response.status_code == 200
    assert not any("COUNT(" in q["sql"].upper() for q in captured.captured_queries)


def test_only_an_empty_page_after_a_marker_looks_the_marker_up(api, ten, django_assert_num_queries):
    everything = ids(api.get(URL))
    with django_assert_num_queries(2):  # the empty page, then the marker: unknown
        assert error(api.get(URL, {"marker": "unknown"}))[0] == 400
    with django_assert_num_queries(2):  # the empty page, then the marker: the last item
        assert ids(api.get(URL, {"marker": everything[-1]})) == []


def test_the_body_is_the_stored_documents_byte_for_byte(api):
    """The documents go out as stored (read as bytes on PostgreSQL, never decoded and re-encoded)."""
    from backups.models import CheckpointItem

    create_items(P, item_dict(id="b", name="备份-财务 ✓ 🙂", created_at="2024-05-01T00:00:00"), item_dict(id="a", name="plain"))
    stored = [CheckpointItem.objects.get(pk=pk).document for pk in ("b", "a")]  # newest first
    response = api.get(URL)
    assert response.content == ('{"checkpoint_items":[' + ",".join(stored) + "]}").encode()
    assert response.json()["checkpoint_items"][0]["name"] == "备份-财务 ✓ 🙂"


def test_the_page_query_selects_the_stored_document_only(api, ten):
    with CaptureQueriesContext(connection) as captured:
        api.get(URL, {"limit": 2})
    page_sql = captured.captured_queries[-1]["sql"]
    assert "document" in page_sql and "volumebackup" not in page_sql.lower()


# --- request ids ---------------------------------------------------------------------------------


def test_every_response_carries_a_request_id(api):
    response = api.get(URL)
    assert response["X-Request-Id"].startswith("req-")
    assert response["X-Openstack-Request-Id"] == response["X-Request-Id"]
    assert error(api.get(f"{URL}?bad=1"))[0] == 400


@pytest.mark.parametrize(
    "sent, echoed",
    [
        ("req-0123-abcd", True),
        ("2f0e9a86-5a4b-4a4e-9d62-3a7e7a0b1c2d", False),
        ("req-evil\r\nSet-Cookie: x=1", False),
        ("req-" + "a" * 200, False),
        ("<script>", False),
    ],
)
def test_a_sane_request_id_is_echoed_and_others_replaced(api, sent, echoed):
    response = api.get(URL, HTTP_X_REQUEST_ID=sent)
    if echoed:
        assert response["X-Request-Id"] == sent
    else:
        assert response["X-Request-Id"] != sent
        assert response["X-Request-Id"].startswith("req-") and "\n" not in response["X-Request-Id"]


def test_a_new_request_id_is_req_and_a_random_version_4_uuid():
    ids_made = {new_request_id() for _ in range(200)}
    assert len(ids_made) == 200
    for made in ids_made:
        assert made.startswith("req-") and str(uuid.UUID(made[4:])) == made[4:]
        assert (uuid.UUID(made[4:]).version, uuid.UUID(made[4:]).variant) == (4, uuid.RFC_4122)


def test_a_bare_uuid_request_id_gets_the_prefix(api):
    response = api.get(URL, HTTP_X_REQUEST_ID="2F0E9A86-5A4B-4A4E-9D62-3A7E7A0B1C2D")
    assert response["X-Request-Id"] == "req-2f0e9a86-5a4b-4a4e-9d62-3a7e7a0b1c2d"


# --- other errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_other_methods_are_405(api, method):
    response = getattr(api, method)(URL)
    status, code, _ = error(response)
    assert (status, code) == (405, "CSBS.9405")
    assert response["Allow"] == "GET, HEAD"


def test_head_answers_like_get_without_a_body(api, ten):
    response = api.head(URL, {"limit": 2})
    assert response.status_code == 200 and response.content == b"" and "Link" in response


@pytest.mark.parametrize("path", ["/v1/", "/v1/proj-a", "/v1/proj-a/backups", "/v1/" + "p" * 65 + "/checkpoint_items",
                                  "/v1/proj-a/checkpoint_items/a/b"])
def test_unknown_paths_under_v1_are_404_json(api, path):
    assert error(api.get(path))[:2] == (404, "CSBS.9404")


def test_the_sdk_headers_are_fine(api, ten):
    response = api.get(URL, {"limit": 2}, CONTENT_TYPE="application/json", HTTP_ACCEPT="*/*")
    assert len(ids(response)) == 2
    assert api.get(URL, {"dec": "False"}, HTTP_ACCEPT="text/html")["Content-Type"] == "application/json"


def test_deleting_the_sample_fields_gives_nulls(api):
    create_items(P, item_dict(id="bare", checkpoint_id=DELETE, backup_data=DELETE, extend_info=DELETE))
    item = api.get(URL).json()["checkpoint_items"][0]
    assert item["checkpoint_id"] is None
    assert item["backup_data"] == dict.fromkeys(
        ["__openstack_region_name", "cloudservicetype", "disk", "imagetype", "ram", "vcpus", "eip", "private_ip"])
    assert item["extend_info"]["volume_backups"] == [] and item["extend_info"]["fail_code"] == {}
    assert item["extend_info"]["os_images_data"] == [] and item["extend_info"]["progress"] is None
    json.dumps(item)
