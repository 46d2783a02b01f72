"""The sharding plan by project (Citus), as data: which table is distributed, which is a reference table.

``docs/SCALING.md`` explains the plan; ``tests/scaleout/test_sharding_plan.py`` checks it against
the current schema, so that a new model or a new unique constraint cannot silently break it:

- every model's table is in exactly one of ``DISTRIBUTED``, ``REFERENCE`` or ``COORDINATOR``;
- a distributed table has the ``project_id`` column, and its primary key and unique constraints
  include it, except the gaps in ``KNOWN_GAPS``, each with the schema change that closes it (and a
  gap that was closed must leave the list);
- a reference or coordinator table has no foreign key to a distributed one (Citus refuses it).

``citus_statements()`` is the SQL that distributes a database once the gaps are closed.
"""

DISTRIBUTION_COLUMN = "project_id"

#: Sharded by ``project_id``, all co-located: one project's rows live on one node, so a tenant's
#: query, join and write stays on that node.
DISTRIBUTED = (
    "backups_checkpointitem",
    "backups_volumebackup",
    "backups_replicationrecord",
    "backups_sighting",  # one row per synced item (backups.sync): lives beside its item
)

#: Small tables, copied to every node: any shard joins them locally.
REFERENCE = (
    "auth_user",
    "auth_group",
    "auth_permission",
    "auth_group_permissions",
    "auth_user_groups",
    "auth_user_user_permissions",
    "django_content_type",
    "backups_projectmembership",  # read by user (which projects may I see?), not by project
    "backups_apitoken",  # looked up by key hash before the project is known
    "backups_syncsource",  # a handful of rows; the items' foreign key to their source points here
    "backups_syncrun",  # a row per run of a source, read by the admin and the freshness banner
)

#: Kept on the coordinator only, never joined with a shard (sessions, the admin's history).
COORDINATOR = ("django_session", "django_admin_log")

#: Keys of distributed tables that do not fit yet: (table, columns of the key) -> the change.
KNOWN_GAPS = {
    ("backups_checkpointitem", ("id",)): "primary key becomes (project_id, id)",
    ("backups_volumebackup", ("id",)): "add project_id (the item's); primary key (project_id, id)",
    ("backups_volumebackup", ("item_id", "position")): "unique (project_id, item_id, position)",
    ("backups_replicationrecord", ("id",)): "add project_id (the item's); primary key (project_id, id)",
    ("backups_replicationrecord", ("item_id", "position")): "unique (project_id, item_id, position)",
    ("backups_sighting", ("item_id",)): "add project_id (the item's); primary key (project_id, item_id)",
}
#: Distributed tables still without the column (closed by the same migration).
MISSING_COLUMN = {
    "backups_volumebackup": "add project_id, filled from the item, in the foreign key to the item",
    "backups_replicationrecord": "add project_id, filled from the item, in the foreign key to the item",
    "backups_sighting": "add project_id, filled from the item, in the foreign key to the item",
}


def citus_statements():
    """The SQL, in order, that distributes the tables (after the gaps are closed)."""
    statements = [f"SELECT create_reference_table('{table}');" for table in REFERENCE]
    first, *others = DISTRIBUTED
    statements.append(f"SELECT create_distributed_table('{first}', '{DISTRIBUTION_COLUMN}');")
    statements += [
        f"SELECT create_distributed_table('{table}', '{DISTRIBUTION_COLUMN}', colocate_with => '{first}');"
        for table in others
    ]
    return statements
