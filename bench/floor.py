"""The floor: list, count and detail, each ONE SQL query that builds the JSON; bare WSGI, psycopg2.

``gunicorn bench.floor:application`` with ``DATABASE_URL``. It serves the same paths and query
parameters as the API (``/v1/{project_id}/checkpoint_items[/count|/{id}]``) so the bench sends the same
requests to it, and answers the same JSON (the bench compares them parsed): the item object is
assembled from its columns and its children by ``json_build_object``/``json_agg`` in the database,
after the same filters, sort, keyset marker condition, offset and limit. It trusts its input and
checks no token: it is what PostgreSQL alone costs, not a service.

Two bodies, chosen by ``BENCH_FLOOR_BODY``:

* ``columns`` (the default; issue 7's floor): the item object is assembled from its columns and its
  children by ``json_build_object``/``json_agg``. The SQL is generated once from
  ``backups.document.keys``' key tables, so the shape cannot drift from ``render_item``; only a
  section that carries unknown keys (``*_extra``, e.g. the sample's ``taskid``) is merged as
  ``jsonb``. It is what PostgreSQL costs when it builds the JSON itself.
* ``documents`` (issue 14's floor): ``json_agg`` of the items' stored documents
  (``CheckpointItem.document``), the very bytes ours sends. It is what PostgreSQL costs to answer
  the same query with the same stored JSON, without a framework: the floor of a request's fixed cost.
"""

import os
from urllib.parse import parse_qsl

import psycopg2

from backups.document import kinds
from backups.document.keys import (
    BACKUP_DATA_KEYS,
    EXTEND_INFO_KEYS,
    ITEM_KEYS,
    REPLICATION_RECORD_KEYS,
    VOLUME_BACKUP_KEYS,
)
from backups.document.timestamps import parse_timestamp

SENTINEL = "'9999-12-31 23:59:59.999999+00'::timestamptz"
NULLABLE = {"updated_at", "protected_at"}
SORT_KEYS = ("created_at", "updated_at", "name", "status", "protected_at", "id")


def _value(column, kind, table):
    ref = f"{table}.{column}"
    if isinstance(kind, kinds.Timestamp):
        return f"to_char({ref} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
    if isinstance(kind, kinds.Object) and kind.default is not None:
        return f"coalesce({ref}, '{{}}'::jsonb)"
    if isinstance(kind, kinds.ListOfObjects):
        return f"coalesce({ref}, '[]'::jsonb)"
    return ref


def _object(keys, table, extra_column, tail=()):
    pairs = [f"'{key.name}', {_value(key.attr, key.kind, table)}" for key in keys]
    pairs += [f"'{name}', {expression}" for name, expression in tail]
    built = f"json_build_object({', '.join(pairs)})"
    if extra_column is None:
        return built
    extra = f"{table}.{extra_column}"
    return f"(CASE WHEN {extra} = '{{}}'::jsonb THEN {built} ELSE ({built}::jsonb || {extra})::json END)"


def _children(table, keys, alias):
    obj = _object(keys, alias, "extra")
    return (
        f"(SELECT coalesce(json_agg({obj} ORDER BY {alias}.position), '[]'::json) "
        f"FROM {table} {alias} WHERE {alias}.item_id = i.id)"
    )


VOLUME_BACKUPS = _children("backups_volumebackup", VOLUME_BACKUP_KEYS, "v")
REPLICATION_RECORDS = _children("backups_replicationrecord", REPLICATION_RECORD_KEYS, "r")
BACKUP_DATA = _object(BACKUP_DATA_KEYS, "i", "backup_data_extra")
EXTEND_INFO = _object(
    EXTEND_INFO_KEYS, "i", "extend_info_extra", tail=[("volume_backups", VOLUME_BACKUPS)]
)
ITEM_CORE = _object(
    ITEM_KEYS,
    "i",
    None,
    tail=[
        ("backup_data", BACKUP_DATA),
        ("extend_info", EXTEND_INFO),
        ("replication_records", REPLICATION_RECORDS),
    ],
)
#: The whole item: core keys, then policy_id when set, then the item's unknown keys.
ITEM_COLUMNS = (
    f"(CASE WHEN i.policy_id IS NULL AND i.extra = '{{}}'::jsonb THEN {ITEM_CORE} "
    f"ELSE ({ITEM_CORE}::jsonb || jsonb_strip_nulls(jsonb_build_object('policy_id', i.policy_id)) "
    f"|| i.extra)::json END)"
)


#: The item of the ``documents`` body: the stored API JSON, as json.
ITEM_DOCUMENT = "i.document::json"
BODIES = {"columns": ITEM_COLUMNS, "documents": ITEM_DOCUMENT}
ITEM = BODIES[os.environ.get("BENCH_FLOOR_BODY") or "columns"]


def _sort_expression(key, table="i"):
    if key in NULLABLE:
        return f"coalesce({table}.{key}, {SENTINEL})"
    return f"{table}.{key}"


def _ordering(sort):
    if not sort:
        keys = [("created_at", True)]
    else:
        keys = []
        for token in sort.split(","):
            key, _, direction = token.strip().partition(":")
            keys.append((key.strip(), (direction.strip().lower() or "desc") == "desc"))
    if keys[-1][0] != "id" and all(k != "id" for k, _ in keys):
        keys.append(("id", keys[-1][1]))
    for key, _ in keys:
        if key not in SORT_KEYS:
            raise ValueError(f"sort key {key}")
    return keys[: [k for k, _ in keys].index("id") + 1]


def _like(value):
    escaped = value.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


FILTERS = {
    "status": ("i.status = %s", None),
    "az": ("i.resource_az = %s", None),
    "resource_id": ("i.resource_id = %s", None),
    "image_type": ("i.image_type = %s", None),
    "policy_id": ("i.policy_id = %s", None),
    "checkpoint_id": ("i.checkpoint_id = %s", None),
    "resource_type": ("i.resource_type = %s", None),
    "name": ("i.name_folded LIKE %s", _like),
    "resource_name": ("i.resource_name_folded LIKE %s", _like),
    "start_time": ("i.created_at >= %s", parse_timestamp),
    "end_time": ("i.created_at <= %s", parse_timestamp),
}


def _where(params, args):
    """The scope and filter conditions; appends their arguments to ``args``."""
    conditions = []
    for name, (condition, convert) in FILTERS.items():
        if params.get(name):
            conditions.append(condition)
            args.append(convert(params[name]) if convert else params[name])
    if params.get("ip"):
        conditions.append("(i.eip = %s OR i.private_ip = %s)")
        args += [params["ip"], params["ip"]]
    if params.get("dec"):
        conditions.append(
            "i.dec" if params["dec"].lower() in ("true", "1") else "(i.dec = false OR i.dec IS NULL)"
        )
    return conditions


def _scope(params, project_id, args, table="i"):
    """What ours answers from too: the live items (not gone, ``backups.sync``) of the project or all."""
    live = f"{table}.gone_at IS NULL"
    if (params.get("all_tenants") or "").lower() in ("true", "1"):
        return [live]
    args.append(project_id)
    return [f"{table}.project_id = %s", live]


def list_query(project_id, params):
    """``(sql, args)``: the whole response body of a list request, as one query."""
    keys = _ordering(params.get("sort"))
    order = ", ".join(f"{_sort_expression(k)} {'DESC' if d else 'ASC'}" for k, d in keys)
    args = []
    marker_cte = ""
    conditions = _scope(params, project_id, args)
    if params.get("marker"):
        selects = ", ".join(f"{_sort_expression(k, 'm')} AS s{n}" for n, (k, _) in enumerate(keys))
        margs = []
        mscope = _scope(params, project_id, margs, table="m")
        marker_cte = (
            f"WITH marker AS (SELECT {selects} FROM backups_checkpointitem m "
            f"WHERE {' AND '.join(['m.id = %s', *mscope])}) "
        )
        args[:0] = [params["marker"], *margs]
        value = [f"(SELECT s{n} FROM marker)" for n in range(len(keys))]
        first_key, first_desc = keys[0]
        if all(descending == first_desc for _, descending in keys):
            # One direction: the same row comparison as backups.listing.ordering (an index bound).
            row = ", ".join(_sort_expression(k) for k, _ in keys)
            operator = "<=" if first_desc else ">="
            conditions += [f"({row}) {operator} ({', '.join(value)})", f"i.id <> {value[-1]}"]
        else:
            bound = f"{_sort_expression(first_key)} {'<=' if first_desc else '>='} {value[0]}"
            disjuncts = []
            for n, (key, descending) in enumerate(keys):
                equal = [f"{_sort_expression(k)} = {value[j]}" for j, (k, _) in enumerate(keys[:n])]
                equal.append(f"{_sort_expression(key)} {'<' if descending else '>'} {value[n]}")
                disjuncts.append("(" + " AND ".join(equal) + ")")
            conditions += [bound, "(" + " OR ".join(disjuncts) + ")"]
    conditions += _where(params, args)
    limit = int(params.get("limit") or 1000)
    offset = int(params.get("offset") or 0)
    args += [limit, offset]
    where = " AND ".join(conditions) or "true"
    sql = (
        f"{marker_cte}SELECT json_build_object('checkpoint_items', "
        f"coalesce(json_agg(page.item ORDER BY page.n), '[]'::json))::text "
        f"FROM (SELECT {ITEM} AS item, row_number() OVER (ORDER BY {order}) AS n "
        f"FROM (SELECT * FROM backups_checkpointitem i WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s) i"
        f") page"
    )
    return sql, args


def count_query(project_id, params):
    args = []
    conditions = _scope(params, project_id, args) + _where(params, args)
    where = " AND ".join(conditions) or "true"
    return (
        f"SELECT json_build_object('count', count(*))::text FROM backups_checkpointitem i WHERE {where}",
        args,
    )


def detail_query(project_id, item_id):
    """``(sql, args)``: the body of a detail request, or no row for an item not in the project."""
    return (
        f"SELECT json_build_object('checkpoint_item', {ITEM})::text FROM backups_checkpointitem i "
        "WHERE i.project_id = %s AND i.id = %s AND i.gone_at IS NULL",
        [project_id, item_id],
    )


_connection = None


def _cursor():
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg2.connect(os.environ["DATABASE_URL"])
        _connection.autocommit = True
    return _connection.cursor()


def application(environ, start_response):
    parts = environ["PATH_INFO"].strip("/").split("/")
    params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    try:
        if len(parts) == 3 and parts[0] == "v1" and parts[2] == "checkpoint_items":
            sql, args = list_query(parts[1], params)
        elif len(parts) == 4 and parts[0] == "v1" and parts[2:] == ["checkpoint_items", "count"]:
            sql, args = count_query(parts[1], params)
        elif len(parts) == 4 and parts[0] == "v1" and parts[2] == "checkpoint_items":
            sql, args = detail_query(parts[1], parts[3])
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
    except ValueError as error:
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [str(error).encode()]
    with _cursor() as cursor:
        cursor.execute(sql, args)
        row = cursor.fetchone()
    if row is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    body = row[0].encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
