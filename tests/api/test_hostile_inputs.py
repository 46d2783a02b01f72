"""The hostile-input catalogue: what users and attackers send, each answered 2xx or 4xx in the CSBS shape.

Every case names its exact answer: the status, the ``error_code``, for a 400 the parameter the
message must name, for a 200 how many items. Whatever the case, the body is JSON with
``Content-Type: application/json``, an error body is exactly ``{"error_code", "error_msg"}``,
nothing is ever a 500, the response's request id is a sane one (never the caller's text when it
was not), and the data is still there afterwards. Requests are built as raw WSGI environs
(``QUERY_STRING``, ``PATH_INFO``, ``HTTP_*``) so that NUL bytes, broken percent-encoding and
invalid UTF-8 reach Django exactly as a server would pass them, with no re-encoding by the client.
"""

import json
import re
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from django.core.cache import cache

from backups.document.parse import parse_item
from backups.models import ApiToken, CheckpointItem
from backups.services.upsert import upsert_items

LIST = "/v1/p1/checkpoint_items"
COUNT = "/v1/p1/checkpoint_items/count"
ITEM_ID = "90c1d5fa-1b9f-4aeb-b2f4-81c806e98190"  # the seed's sample item
DETAIL = f"/v1/p1/checkpoint_items/{ITEM_ID}"
OTHER_ITEM_ID = "item-of-p2"
TOKEN = "the-reader-token"  # replaced by the real token of the fixture
SANE_REQUEST_ID = re.compile(r"req-[A-Za-z0-9-]{1,64}")
CODES = {400: "CSBS.9001", 401: "CSBS.9401", 403: "CSBS.9403", 404: "CSBS.9404", 405: "CSBS.9405"}

STRING_FILTERS = [
    "name",
    "az",
    "resource_id",
    "resource_name",
    "policy_id",
    "ip",
    "checkpoint_id",
    "resource_type",
]
TYPED_PARAMETERS = [
    "status",
    "image_type",
    "start_time",
    "end_time",
    "dec",
    "all_tenants",
    "limit",
    "offset",
    "sort",
    "marker",
]
PARAMETERS = STRING_FILTERS + TYPED_PARAMETERS
SQL_FRAGMENTS = {
    "quote-or": "' OR '1'='1",
    "drop-table": "1; DROP TABLE backups_checkpointitem; --",
    "double-quote": '" OR ""="',
    "union": "') UNION SELECT key_hash FROM backups_apitoken --",
}


@dataclass
class Case:
    id: str
    path: str = LIST
    query: str = ""  # raw QUERY_STRING, sent as is
    method: str = "GET"
    environ: dict = field(default_factory=dict)  # raw HTTP_* and other WSGI keys
    body: bytes = b""
    content_type: str | None = None
    status: int = 200
    code: str | None = None  # error_code; by default the status's
    mentions: str | None = None  # text the error_msg must contain (the parameter's name)
    items: int | None = None  # a 200 list: how many items
    token: bool = True


def raw(name, value):
    """``name=value`` percent-encoded as a browser would, for values without raw bytes to keep."""
    return f"{quote(name, safe='')}={quote(value, safe='')}"


def sql_cases():
    for parameter in PARAMETERS:
        for label, fragment in SQL_FRAGMENTS.items():
            if parameter in STRING_FILTERS:
                yield Case(f"sql-{label}-in-{parameter}", query=raw(parameter, fragment), items=0)
            else:
                yield Case(
                    f"sql-{label}-in-{parameter}",
                    query=raw(parameter, fragment),
                    status=400,
                    mentions=parameter,
                )


def oversized_cases():
    for parameter in PARAMETERS:
        yield Case(f"10kB-{parameter}", query=raw(parameter, "7" * 10_240), status=400, mentions=parameter)


def nul_cases():
    for parameter in PARAMETERS:
        yield Case(f"NUL-in-{parameter}", query=f"{parameter}=ab%00cd", status=400, mentions=parameter)
    yield Case("bare-NUL-name", query="name=%00", status=400, mentions="name")
    yield Case("NUL-in-parameter-name", query="na%00me=x", status=400, mentions="Unknown parameter")
    yield Case("NUL-in-item-id", path=f"{DETAIL}%00", status=404, code="CSBS.3001")
    yield Case("NUL-in-project-id", path="/v1/p1%00/checkpoint_items", status=404)
    yield Case("NUL-on-count", path=COUNT, query="resource_id=%00", status=400, mentions="resource_id")


def control_character_cases():
    yield Case("escape-sequence-in-name", query="name=%1b%5b31mred", items=0)
    yield Case("CRLF-in-name", query="name=a%0d%0aSet-Cookie:%20x=1", items=0)
    yield Case("tab-and-bell-in-az", query="az=%09%07", items=0)
    yield Case("DEL-in-checkpoint_id", query="checkpoint_id=%7f", items=0)
    yield Case("CRLF-in-status", query="status=available%0d%0a", status=400, mentions="status")
    yield Case("control-in-sort", query="sort=name%01", status=400, mentions="sort")


def encoding_cases():
    yield Case("invalid-utf8-name", query="name=%ff%fe", items=0)
    yield Case("invalid-utf8-resource_name", query="resource_name=%c3%28", items=0)
    yield Case("overlong-utf8-slash", query="name=%c0%af", items=0)
    yield Case("lone-surrogate-utf8", query="name=%ed%a0%80", items=0)
    yield Case("truncated-percent", query="name=%", items=0)
    yield Case("bad-percent-digits", query="name=%zz", items=0)
    yield Case("invalid-utf8-limit", query="limit=%ff", status=400, mentions="limit")
    yield Case("invalid-utf8-status", query="status=%ff%fe", status=400, mentions="status")
    yield Case("invalid-utf8-sort", query="sort=%ff", status=400, mentions="sort")
    yield Case("invalid-utf8-marker", query="marker=%ff%fe", status=400, mentions="marker")
    yield Case("invalid-utf8-parameter-name", query="%ff%fe=1", status=400, mentions="Unknown parameter")
    yield Case("invalid-utf8-item-id", path=f"{LIST}/%ff%fe", status=404, code="CSBS.3001")
    yield Case("invalid-utf8-project-id", path="/v1/%ff/checkpoint_items", status=404)
    yield Case("double-encoded-slash-in-item-id", path=f"{LIST}/a%252fb", status=404, code="CSBS.3001")
    yield Case("plus-as-space-in-name", query="name=backup+d32c", items=0)
    yield Case("unicode-name-matches-nothing", query=raw("name", "備份"), items=0)
    yield Case("case-folded-name-matches", query="name=BACKUP_D32C", items=1)


def like_wildcard_cases():
    # The substring filters must match % and _ literally, not as LIKE wildcards.
    yield Case("percent-is-literal", query="name=%25", items=0)
    yield Case("underscore-is-literal", query="name=p_d", items=1)
    yield Case("percent-between-is-literal", query="name=p%25d", items=0)
    yield Case("backslash-is-literal", query="name=%5c", items=0)


def number_cases():
    for parameter, value in [
        ("limit", "18446744073709551616"),
        ("limit", "9223372036854775808"),
        ("limit", "99999999999999999999999999999999"),
        ("limit", "-1"),
        ("limit", "0"),
        ("limit", "1001"),
        ("limit", "1e3"),
        ("limit", "0x10"),
        ("limit", "5.0"),
        ("limit", "+5"),
        ("limit", " 5"),
        ("limit", "\u0665"),  # ARABIC-INDIC DIGIT FIVE: int() would take it
        ("offset", "9223372036854775808"),
        ("offset", "18446744073709551616"),
        ("offset", "-1"),
        ("offset", "4611686018427387905"),
    ]:
        yield Case(
            f"{parameter}={value.strip() or 'blank'}",
            query=raw(parameter, value),
            status=400,
            mentions=parameter,
        )
    yield Case("offset-at-its-maximum", query="offset=4611686018427387904", items=0)
    yield Case("limit-1000", query="limit=1000", items=1)
    yield Case("leading-zeros", query="limit=0001", items=1)


def sort_cases():
    yield Case("sort-256-characters", query=raw("sort", "name" + " " * 252), status=400, mentions="sort")
    yield Case("sort-255-characters", query=raw("sort", "name" + " " * 251), items=1)
    yield Case("sort-1000-commas", query=raw("sort", "," * 1000), status=400, mentions="sort")
    yield Case("sort-key-twice", query="sort=name,name", status=400, mentions="sort")
    yield Case("sort-sql-direction", query=raw("sort", "name:asc; DELETE"), status=400, mentions="sort")
    yield Case("sort-column-injection", query=raw("sort", "project_id"), status=400, mentions="sort")


def repeated_parameter_cases():
    yield Case("last-limit-wins-valid", query="limit=0&limit=1", items=1)
    yield Case("last-limit-wins-invalid", query="limit=1&limit=0", status=400, mentions="limit")
    yield Case("last-status-wins-valid", query="status=bogus&status=available", items=1)
    yield Case(
        "last-status-wins-invalid", query="status=available&status=bogus", status=400, mentions="status"
    )
    yield Case("last-sort-wins", query="sort=size&sort=name:asc", items=1)
    yield Case("last-empty-name-means-absent", query="name=zzz&name=", items=1)
    yield Case("thousand-repeats", query="&".join(["name=x"] * 999 + ["name="]), items=1)
    yield Case("unknown-parameter", query="stauts=error", status=400, mentions="stauts")
    yield Case(
        "2000-parameters", query="&".join(f"p{n}=1" for n in range(2000)), status=400, mentions="parameters"
    )


def request_id_cases():
    for label, value in [
        ("CRLF-header-injection", "req-1\r\nSet-Cookie: stolen=1"),
        ("LF-header-injection", "req-1\nX-Injected: 1"),
        ("10kB-request-id", "req-" + "a" * 10_240),
        ("NUL-request-id", "req-\x00abc"),
        ("html-request-id", "<script>alert(1)</script>"),
        ("log-forging-request-id", "req-1 INFO forged log line"),
    ]:
        yield Case(f"request-id-{label}", path=COUNT, environ={"HTTP_X_REQUEST_ID": value})


def path_cases():
    yield Case("10kB-item-id", path=f"{LIST}/{'a' * 10_240}", status=404, code="CSBS.3001")
    yield Case("65-character-project", path=f"/v1/{'p' * 65}/checkpoint_items", status=404)
    yield Case("5000-segments", path="/v1/" + "a/" * 5000, status=404)
    yield Case("dot-dot-segments", path="/v1/p1/../p2/checkpoint_items", status=404)
    yield Case("item-of-another-project", path=f"{LIST}/{OTHER_ITEM_ID}", status=404, code="CSBS.3001")
    yield Case("another-project", path="/v1/p2/checkpoint_items", status=403)
    yield Case("sql-in-project", path="/v1/p1'--/checkpoint_items", status=404)
    yield Case(
        "sql-in-item-id", path=f"{LIST}/{quote(SQL_FRAGMENTS['quote-or'])}", status=404, code="CSBS.3001"
    )
    yield Case("detail-takes-no-parameters", path=DETAIL, query="limit=1", status=400, mentions="limit")
    yield Case("marker-of-another-project", query=f"marker={OTHER_ITEM_ID}", status=400, mentions="marker")
    yield Case("all-tenants-without-admin", query="all_tenants=true", status=403)


def method_cases():
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"]:
        for label, path in [("list", LIST), ("count", COUNT), ("detail", DETAIL)]:
            yield Case(f"{method}-{label}", path=path, method=method, status=405)
    yield Case(
        "POST-with-json-body",
        method="POST",
        body=b'{"checkpoint_items": []}',
        content_type="application/json",
        status=405,
    )
    yield Case("POST-without-token", method="POST", status=401, token=False)


def content_type_cases():
    for label, content_type, body in [
        ("xml-with-body", "application/xml", b"<a>&xxe;</a>"),
        ("json-broken-body", "application/json", b'{"limit": '),
        ("form-body", "application/x-www-form-urlencoded", b"limit=0&status=bogus"),
        ("multipart-without-boundary", "multipart/form-data", b"--x\r\n"),
        ("unknown-charset", "text/plain; charset=klingon", b"\xff\xfe"),
        ("garbage-content-type", "\x01;;;=", b"x"),
    ]:
        yield Case(f"GET-{label}", content_type=content_type, body=body, items=1)
    yield Case("GET-json-type-without-body", environ={"CONTENT_TYPE": "application/json"}, items=1)
    yield Case(
        "GET-absurd-content-length",
        environ={"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "99999999999999999999"},
        items=1,
    )
    yield Case("GET-negative-content-length", environ={"CONTENT_LENGTH": "-1"}, items=1)


def header_cases():
    yield Case("64kB-header", environ={"HTTP_X_PADDING": "x" * 65_536}, items=1)
    yield Case("200-headers", environ={f"HTTP_X_H{n}": "v" for n in range(200)}, items=1)
    yield Case("garbage-accept", environ={"HTTP_ACCEPT": "text/html;q=\x00,*/*;;"}, items=1)
    yield Case("xml-only-accept", environ={"HTTP_ACCEPT": "application/xml"}, items=1)
    yield Case("garbage-accept-language", environ={"HTTP_ACCEPT_LANGUAGE": "x" * 1000 + ";q=abc"}, items=1)
    yield Case("hostile-host", environ={"HTTP_HOST": "evil.example"}, status=400)
    yield Case("CRLF-in-host", environ={"HTTP_HOST": "localhost\r\nX-Injected: 1"}, status=400)
    yield Case("forged-forwarded-for", environ={"HTTP_X_FORWARDED_FOR": "' OR 1=1 --, 10.0.0.1"}, items=1)
    yield Case("10kB-token", environ={"HTTP_X_AUTH_TOKEN": "t" * 10_240}, status=401, token=False)
    yield Case("sql-token", environ={"HTTP_X_AUTH_TOKEN": "' OR '1'='1"}, status=401, token=False)
    yield Case("NUL-token", environ={"HTTP_X_AUTH_TOKEN": "abc\x00def"}, status=401, token=False)
    yield Case("latin1-token", environ={"HTTP_X_AUTH_TOKEN": "\xff\xfe"}, status=401, token=False)
    yield Case("no-token", status=401, token=False)
    yield Case("empty-token", environ={"HTTP_X_AUTH_TOKEN": ""}, status=401, token=False)
    yield Case(
        "forged-session-cookie",
        environ={"HTTP_COOKIE": "sessionid=' OR 1=1; csrftoken=\x00"},
        status=401,
        token=False,
    )


CASES = [
    *sql_cases(),
    *oversized_cases(),
    *nul_cases(),
    *control_character_cases(),
    *encoding_cases(),
    *like_wildcard_cases(),
    *number_cases(),
    *sort_cases(),
    *repeated_parameter_cases(),
    *request_id_cases(),
    *path_cases(),
    *method_cases(),
    *content_type_cases(),
    *header_cases(),
]


def test_the_catalogue_is_large_and_unambiguous():
    assert len(CASES) >= 100
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.fixture
def reader_token(db, sample_response, django_user_model):
    upsert_items("p1", [parse_item(item) for item in sample_response["checkpoint_items"]])
    other = dict(sample_response["checkpoint_items"][0], id=OTHER_ITEM_ID)
    upsert_items("p2", [parse_item(other)])
    _, key = ApiToken.issue(user=django_user_model.objects.create(username="reader"), project_id="p1")
    cache.clear()  # failed-authentication counters of earlier tests
    return key


def send(client, case, token):
    environ = {"QUERY_STRING": case.query, **case.environ}
    if case.token:
        environ["HTTP_X_AUTH_TOKEN"] = token
    if case.content_type:
        return client.generic(
            case.method, case.path, data=case.body, content_type=case.content_type, **environ
        )
    return client.generic(case.method, case.path, **environ)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_input_is_answered_in_the_csbs_shape(client, reader_token, case):
    response = send(client, case, reader_token)
    body = json.loads(response.content)

    assert (response.status_code, response["Content-Type"]) == (case.status, "application/json"), body
    if case.status == 200:
        if case.path == COUNT:
            assert body == {"count": 1}
        else:
            assert list(body) == ["checkpoint_items"]
            if case.items is not None:
                assert len(body["checkpoint_items"]) == case.items
    else:
        assert set(body) == {"error_code", "error_msg"}
        assert body["error_code"] == (case.code or CODES[case.status])
        if case.mentions:
            assert case.mentions in body["error_msg"]
    request_id = response["X-Request-Id"]
    assert SANE_REQUEST_ID.fullmatch(request_id)
    assert response["X-Openstack-Request-Id"] == request_id
    assert request_id != case.environ.get("HTTP_X_REQUEST_ID")
    assert not any(name.lower() in ("set-cookie", "x-injected") for name, _ in response.items())
    assert CheckpointItem.objects.count() == 2  # nothing dropped, nothing deleted
