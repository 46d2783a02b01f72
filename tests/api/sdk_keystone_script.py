"""Drives the real client with a Keystone login: password → token → list, page, count, get; prints JSON.

Runs in the SDK's own virtualenv like ``sdk_client_script.py`` (whose request recorder and
helpers it reuses). It reads on stdin ``base_url`` (this service), ``keystone_url``,
``project_id``, ``other_project_id``, ``get_id``, and ``member`` and ``admin``: each
``{"username", "password", "domain"}``. The client logs in to Keystone itself
(``connection.Connection(auth_url=..., username=..., password=..., project_id=...)``, the SDK's
keystoneauth1 3.4.0 password plugin) and sends the token it got, unchanged, to this service.
The report has what each call returned and every HTTP exchange, bodies dropped (the login's
holds the password) and the token masked.
"""
import hashlib
import json
import os
import sys

from sdk_client_script import error_of, exchanges, fields_of, ids  # also records every request


def connect(config, user, project_id):
    """A connection that logs in to Keystone as ``user``, scoped to ``project_id``."""
    from openstack import connection

    os.environ["OS_DATA_PROTECT_ENDPOINT_OVERRIDE"] = f"{config['base_url']}/v1/{project_id}"
    return connection.Connection(
        auth_url=config["keystone_url"], username=user["username"], password=user["password"],
        user_domain_name=user["domain"], project_id=project_id,
    )


def main():
    config = json.load(sys.stdin)
    conn = connect(config, config["member"], config["project_id"])
    csbs = conn.csbs
    report = {
        # The login, before any call to this service; a hash, never the token.
        "token_sha256": hashlib.sha256(conn.session.get_token().encode()).hexdigest(),
        "paged_by_2": ids(csbs.checkpoint_items(paginated=True, limit=2)),
        "unpaginated": ids(csbs.checkpoint_items()),
        "count": csbs.get_checkpoint_item_count().count,
        "count_available": csbs.get_checkpoint_item_count(status="available").count,
        "get": fields_of(csbs.get_checkpoint_item(config["get_id"])),
        "errors": {
            "all_tenants_not_admin": error_of(lambda: list(csbs.checkpoint_items(all_tenants=True))),
        },
    }
    # The member's token, sent to another project's path: the SDK keeps the token, changes the URL.
    os.environ["OS_DATA_PROTECT_ENDPOINT_OVERRIDE"] = f"{config['base_url']}/v1/{config['other_project_id']}"
    report["errors"]["other_project"] = error_of(lambda: list(conn.csbs.checkpoint_items()))
    admin = connect(config, config["admin"], config["project_id"])
    report["all_tenants"] = ids(admin.csbs.checkpoint_items(paginated=True, limit=3, all_tenants=True))
    report["exchanges"] = [{key: value for key, value in e.items() if key != "body"} for e in exchanges]
    json.dump(report, sys.stdout, default=str)


if __name__ == "__main__":
    main()
