"""Drives the real client (huaweicloud-sdk-python's openstack.csbs.v1) against a running service; prints JSON.

Runs inside the SDK's own virtualenv, never the project's (tests/api/test_sdk_client.py builds it and
runs this file): it imports neither Django nor the project. It reads its settings as JSON on stdin —
``base_url``, ``project_id``, ``other_project_id``, ``token``, ``admin_token``, and the values of the
queries below (``status``, ``name``, ``resource_type``, ``sort``, ``get_id``, ``unknown_id``,
``other_project_item_id``) — uses the client as CLIENT.md says, and prints one JSON object with
what each call returned (item ids in the order received, fields, counts, errors with their
``error_code``/``error_msg``) and ``exchanges``: every HTTP request the SDK sent and what came
back, the token masked. The test asserts on that object.
"""
import collections
import collections.abc
import json
import os
import sys

# The SDK (2018) uses collections.MutableMapping, removed in Python 3.10 (CLIENT.md).
collections.MutableMapping = collections.abc.MutableMapping

import requests  # noqa: E402 - after the alias: the SDK imports on top of it

#: The 13 item fields the SDK's CheckpointItem declares (its ``resource2.Body`` attributes).
ITEM_FIELDS = (
    "id", "checkpoint_id", "name", "description", "status", "resource_id", "resource_type",
    "created_at", "updated_at", "protected_at", "backup_data", "extend_info", "replication_records",
)

exchanges = []
_send = requests.Session.send


def _recording_send(session, request, **kwargs):
    """Record each request as it left the SDK (after its own encoding) and the answer it got."""
    response = _send(session, request, **kwargs)
    headers = dict(request.headers)
    if "X-Auth-Token" in headers:
        headers["X-Auth-Token"] = "<token>"
    exchanges.append({
        "method": request.method,
        "url": request.url,
        "headers": headers,
        "body": request.body,
        "status": response.status_code,
        "response_content_type": response.headers.get("Content-Type"),
        "response_request_id": response.headers.get("X-Openstack-Request-Id"),
        "response_bytes": len(response.content),
    })
    return response


requests.Session.send = _recording_send


def connect(config, project_id, token):
    """A connection whose data-protect endpoint is ``{base}/v1/{project_id}`` (read on every call)."""
    from openstack import connection

    os.environ["OS_DATA_PROTECT_ENDPOINT_OVERRIDE"] = f"{config['base_url']}/v1/{project_id}"
    return connection.Connection(auth_token=token, auth_url=config["base_url"])


def ids(resources):
    return [resource.id for resource in resources]


def fields_of(resource):
    return {field: getattr(resource, field) for field in ITEM_FIELDS}


def error_of(call):
    """Run ``call``; return how the SDK surfaced the error it must raise."""
    try:
        result = call()
    except Exception as error:  # noqa: BLE001 - the point is to report whatever the SDK raised
        return {
            "class": type(error).__name__,
            "is_a": [cls.__name__ for cls in type(error).__mro__ if issubclass(cls, Exception)],
            "http_status": getattr(error, "http_status", None),
            "error_code": getattr(error, "code", None),
            "error_msg": getattr(error, "message", str(error)),
            "details": getattr(error, "details", None),
            "str": str(error),
        }
    return {"class": None, "unexpected_result": repr(result)[:300]}


def main():
    config = json.load(sys.stdin)
    from openstack import exceptions  # noqa: F401 - imported early so a broken install fails here
    from openstack.csbs.v1.checkpoint_item import CheckpointItem

    conn = connect(config, config["project_id"], config["token"])
    csbs = conn.csbs
    report = {
        # Paging: the SDK follows the marker and stops on a short (or empty) page.
        "paged_by_10": ids(csbs.checkpoint_items(paginated=True, limit=10)),
        "paged_by_5": ids(csbs.checkpoint_items(paginated=True, limit=5)),
        "paged_by_7_sorted": ids(csbs.checkpoint_items(paginated=True, limit=7, sort=config["sort"])),
        "unpaginated": ids(csbs.checkpoint_items()),
        # Filters, as the SDK encodes them: booleans as True/False, spaces as '+'.
        "by_status": ids(csbs.checkpoint_items(paginated=True, limit=4, status=config["status"])),
        "by_name": ids(csbs.checkpoint_items(paginated=True, name=config["name"])),
        "by_dec_true": ids(csbs.checkpoint_items(paginated=True, dec=True)),
        "by_dec_false": ids(csbs.checkpoint_items(paginated=True, dec=False)),
        # CLIENT.md: the proxy's resource_type clashes with its _list argument; the resource works.
        "by_resource_type": ids(
            CheckpointItem.list(conn.session, paginated=True, limit=3, resource_type=config["resource_type"])
        ),
        "proxy_resource_type_bug": error_of(
            lambda: list(csbs.checkpoint_items(resource_type=config["resource_type"]))
        ),
        "get": fields_of(csbs.get_checkpoint_item(config["get_id"])),
        "count_available": csbs.get_checkpoint_item_count(status="available").count,
        "count_by_name": csbs.get_checkpoint_item_count(name=config["name"]).count,
        "count_ignoring_paging": csbs.get_checkpoint_item_count(
            marker=config["get_id"], sort=config["sort"], offset=1
        ).count,
        "errors": {
            "unknown_id": error_of(lambda: csbs.get_checkpoint_item(config["unknown_id"])),
            "other_project_item": error_of(lambda: csbs.get_checkpoint_item(config["other_project_item_id"])),
            "bad_sort": error_of(lambda: list(csbs.checkpoint_items(sort="size:asc"))),
            "bad_count_status": error_of(lambda: csbs.get_checkpoint_item_count(status="bogus")),
            "limit_over_1000": error_of(lambda: list(csbs.checkpoint_items(limit=1001))),
            "all_tenants_not_admin": error_of(lambda: list(csbs.checkpoint_items(all_tenants=True))),
        },
    }
    other = connect(config, config["other_project_id"], config["token"])
    report["errors"]["other_project"] = error_of(lambda: list(other.csbs.checkpoint_items()))
    stranger = connect(config, config["project_id"], "not-a-token-this-service-issued")
    report["errors"]["unknown_token"] = error_of(lambda: stranger.csbs.get_checkpoint_item_count().count)
    admin = connect(config, config["project_id"], config["admin_token"])
    report["all_tenants"] = ids(admin.csbs.checkpoint_items(paginated=True, limit=10, all_tenants=True))
    report["exchanges"] = exchanges
    json.dump(report, sys.stdout, default=str)


if __name__ == "__main__":
    main()
