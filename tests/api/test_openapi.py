"""The OpenAPI description at /v1/openapi.json and its docs page at /v1/docs/: public, complete, offline."""

import copy
import json
import re

import jsonschema
import pytest
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

from backups import choices
from backups.document.parse import parse_item
from backups.listing import keyset, ordering
from backups.listing.filtersets import CheckpointItemFilterSet
from backups.models import ApiToken
from backups.services.upsert import upsert_items

LIST = "/v1/{project_id}/checkpoint_items"
COUNT = "/v1/{project_id}/checkpoint_items/count"
DETAIL = "/v1/{project_id}/checkpoint_items/{item_id}"
COVERAGE = "/ext/v1/{project_id}/coverage"  # the service's own extension (tests/coverage/)
ERROR_STATUSES = {"400", "401", "403", "404", "405", "429", "500", "503"}


@pytest.fixture
def spec(client):
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def parameters(spec, path):
    return {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}


def as_json_schema(schema, components):
    """OpenAPI 3.0 schema -> JSON Schema: ``nullable`` becomes a null alternative, ``$ref`` inlined."""
    if isinstance(schema, list):
        return [as_json_schema(s, components) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return as_json_schema(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    converted = {
        k: as_json_schema(v, components) for k, v in schema.items() if k not in ("nullable", "example")
    }
    if schema.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def validator(spec, path, status):
    media = spec["paths"][path]["get"]["responses"][status]["content"]["application/json"]
    return jsonschema.Draft7Validator(as_json_schema(media["schema"], spec["components"]["schemas"]))


# --- served, valid, public ------------------------------------------------------------------------


def test_description_is_served_as_json_without_a_token(client):
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["openapi"].startswith("3.")


def test_description_ignores_a_bad_token(client):
    assert client.get("/v1/openapi.json", HTTP_X_AUTH_TOKEN="not-a-token").status_code == 200


def test_description_is_valid_openapi(spec):
    validate_schema(spec)  # drf-spectacular's copy of the OpenAPI 3.0 JSON Schema


def test_generation_emits_no_warning(tmp_path):
    # A warning means a path, parameter or response drf-spectacular had to guess: fail instead.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "openapi.yaml"))


def test_every_path_is_described_without_the_optional_slash(spec):
    assert set(spec["paths"]) == {LIST, COUNT, DETAIL, COVERAGE}
    assert {method for path in spec["paths"].values() for method in path} == {"get"}


# --- parameters ------------------------------------------------------------------------------------


def test_list_and_count_take_every_filter_and_the_paging_parameters(spec):
    expected = set(CheckpointItemFilterSet.base_filters) | {"sort", *keyset.PARAMETERS, "project_id"}
    for path in (LIST, COUNT):
        assert set(parameters(spec, path)) == expected, path


def test_detail_takes_only_its_path(spec):
    assert set(parameters(spec, DETAIL)) == {"project_id", "item_id"}


@pytest.mark.parametrize(
    "name, expected",
    [
        ("status", {"type": "string", "enum": list(choices.ItemStatus.values)}),
        ("image_type", {"type": "string", "enum": list(choices.ImageType.values)}),
        ("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1000}),
        ("offset", {"type": "integer", "minimum": 0, "maximum": keyset.MAX_OFFSET, "default": 0}),
        ("start_time", {"type": "string", "format": "date-time", "example": "2017-04-18T01:21:52.701973"}),
        ("end_time", {"type": "string", "format": "date-time", "example": "2017-04-18T01:21:52.701973"}),
        ("name", {"type": "string", "maxLength": 255, "pattern": "^[^\\u0000]*$"}),
        ("marker", {"type": "string", "maxLength": 128, "pattern": "^[^\\u0000]*$"}),
        ("az", {"type": "string", "maxLength": 64, "pattern": "^[^\\u0000]*$"}),
    ],
)
def test_list_parameter_schema(spec, name, expected):
    parameter = parameters(spec, LIST)[name]
    assert parameter["in"] == "query"
    assert parameter.get("required", False) is False
    assert parameter["schema"] == expected
    assert parameter["description"]


@pytest.mark.parametrize("name", ["all_tenants", "dec"])
@pytest.mark.parametrize(
    "value, valid",
    [("true", True), ("False", True), ("TRUE", True), ("1", True), ("0", True), ("yes", False), ("", False)],
)
def test_booleans_are_described_as_the_api_reads_them(spec, name, value, valid):
    pattern = parameters(spec, LIST)[name]["schema"]["pattern"]
    assert bool(re.search(pattern, value)) is valid


@pytest.mark.parametrize(
    "value, valid",
    [
        ("created_at", True),
        ("created_at:desc", True),
        ("name:ASC, id:Desc", True),
        (" updated_at : asc ,protected_at", True),
        ("size", False),
        ("name:up", False),
        ("name,,id", False),
        ("name:asc:desc", False),
    ],
)
def test_sort_pattern_follows_the_grammar(spec, value, valid):
    schema = parameters(spec, LIST)["sort"]["schema"]
    assert schema["maxLength"] == ordering.MAX_SORT_LENGTH
    assert bool(re.search(schema["pattern"], value)) is valid


def test_path_parameters(spec):
    project = parameters(spec, DETAIL)["project_id"]
    item = parameters(spec, DETAIL)["item_id"]
    assert project["in"] == item["in"] == "path"
    assert project["required"] and item["required"]
    assert project["schema"]["pattern"] == "^[A-Za-z0-9_-]{1,64}$"
    assert item["schema"]["maxLength"] == 128
    assert item["schema"]["not"] == {"enum": ["count"]}


# --- responses and security -----------------------------------------------------------------------


@pytest.mark.parametrize("path", [LIST, COUNT, DETAIL])
def test_every_error_status_is_documented_with_the_csbs_body(spec, path):
    responses = spec["paths"][path]["get"]["responses"]
    assert set(responses) == {"200"} | ERROR_STATUSES
    for status in ERROR_STATUSES:
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema["allOf"][0] == {"$ref": "#/components/schemas/CSBSError"}
        assert schema["allOf"][1]["properties"]["error_code"]["enum"], status


@pytest.mark.parametrize(
    "path, status, codes",
    [
        (LIST, "400", ["CSBS.9001"]),
        (LIST, "401", ["CSBS.9401"]),
        (LIST, "403", ["CSBS.9403"]),
        (LIST, "404", ["CSBS.9404"]),
        (LIST, "405", ["CSBS.9405"]),
        (LIST, "429", ["CSBS.9429"]),
        (LIST, "500", ["CSBS.9999"]),
        (LIST, "503", ["CSBS.9503"]),
        (DETAIL, "404", ["CSBS.3001", "CSBS.9404"]),
    ],
)
def test_error_codes_of_each_status(spec, path, status, codes):
    schema = spec["paths"][path]["get"]["responses"][status]["content"]["application/json"]["schema"]
    assert schema["allOf"][1]["properties"]["error_code"]["enum"] == codes


def test_error_body_component(spec):
    assert spec["components"]["schemas"]["CSBSError"] == {
        "type": "object",
        "required": ["error_code", "error_msg"],
        "properties": {
            "error_code": {"type": "string", "pattern": "^CSBS\\.[0-9]{4}$", "example": "CSBS.9001"},
            "error_msg": {"type": "string", "description": "What went wrong and how to fix it."},
        },
    }


@pytest.mark.parametrize("path", [LIST, COUNT, DETAIL])
def test_request_id_headers_on_every_response_and_link_on_the_list(spec, path):
    for status, response in spec["paths"][path]["get"]["responses"].items():
        assert response["headers"]["X-Request-Id"]["required"] is True
        assert response["headers"]["X-Openstack-Request-Id"]["required"] is True
        assert ("Link" in response["headers"]) is (path == LIST and status == "200")
        assert ("Retry-After" in response["headers"]) is (status == "429")


def test_token_security_scheme(spec):
    assert spec["components"]["securitySchemes"]["XAuthToken"]["type"] == "apiKey"
    assert spec["components"]["securitySchemes"]["XAuthToken"]["in"] == "header"
    assert spec["components"]["securitySchemes"]["XAuthToken"]["name"] == "X-Auth-Token"
    for path in (LIST, COUNT, DETAIL):
        assert {"XAuthToken": []} in spec["paths"][path]["get"]["security"]


# --- the item schema against real responses ------------------------------------------------------


@pytest.fixture
def served(db, client, sample_response, django_user_model):
    upsert_items("p1", [parse_item(item) for item in sample_response["checkpoint_items"]])
    _, key = ApiToken.issue(user=django_user_model.objects.create(username="reader"), project_id="p1")
    client.defaults["HTTP_X_AUTH_TOKEN"] = key
    return client


def test_the_seed_sample_conforms_to_the_item_schema(spec, served, sample_response):
    item_id = sample_response["checkpoint_items"][0]["id"]
    cases = [
        (LIST, "/v1/p1/checkpoint_items"),
        (COUNT, "/v1/p1/checkpoint_items/count"),
        (DETAIL, f"/v1/p1/checkpoint_items/{item_id}"),
    ]
    for path, url in cases:
        response = served.get(url)
        assert response.status_code == 200, response.content
        validator(spec, path, "200").validate(response.json())


@pytest.mark.parametrize(
    "break_item",
    [
        lambda item: item.pop("checkpoint_id"),
        lambda item: item.update(status="sleeping"),
        lambda item: item.update(created_at="2017-04-15T04:20:37Z"),
        lambda item: item["backup_data"].update(ram=True),
        lambda item: item["extend_info"].pop("volume_backups"),
        lambda item: item["extend_info"].update(fail_code=None),
        lambda item: item.update(replication_records=None),
    ],
    ids=[
        "missing key",
        "unknown status",
        "offset timestamp",
        "boolean ram",
        "no volume_backups",
        "null fail_code",
        "null records",
    ],
)
def test_the_item_schema_rejects_a_broken_item(spec, served, sample_response, break_item):
    item_id = sample_response["checkpoint_items"][0]["id"]
    body = served.get(f"/v1/p1/checkpoint_items/{item_id}").json()
    broken = copy.deepcopy(body)
    break_item(broken["checkpoint_item"])
    check = validator(spec, DETAIL, "200")
    assert check.is_valid(body)
    assert not check.is_valid(broken)


def test_an_error_response_conforms_to_its_schema(spec, served):
    response = served.get("/v1/p1/checkpoint_items?limit=0")
    assert response.status_code == 400
    validator(spec, LIST, "400").validate(response.json())
    assert not validator(spec, LIST, "404").is_valid(response.json())


# --- the interactive docs --------------------------------------------------------------------------


def test_docs_page_is_public_and_loads_only_local_assets(db, client):
    response = client.get("/v1/docs/", HTTP_X_AUTH_TOKEN="not-a-token")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    assert all(asset.startswith("/static/") for asset in assets), assets
    assert not re.search(r"https?://|//cdn", html)
    assert 'url: "/v1/openapi.json"' in html
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert b"".join(served.streaming_content), asset
        served.close()


@pytest.mark.parametrize(
    "method, path, status, code",
    [
        ("post", "/v1/openapi.json", 405, "CSBS.9405"),
        ("delete", "/v1/docs/", 405, "CSBS.9405"),
        ("get", "/v1/openapi.json?lang=xx", 400, "CSBS.9001"),
        ("get", "/v1/docs/?version=2", 400, "CSBS.9001"),
        ("get", "/v1/openapi.yaml", 404, "CSBS.9404"),
        ("get", "/v1/docs/extra", 404, "CSBS.9404"),
    ],
)
def test_docs_endpoints_keep_the_csbs_errors(client, method, path, status, code):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error_code"] == code


def test_unknown_paths_under_v1_are_still_csbs_404(client):
    response = client.get("/v1/openapi")
    assert response.status_code == 404
    assert json.loads(response.content) == {
        "error_code": "CSBS.9404",
        "error_msg": "No such path: /v1/openapi",
    }
