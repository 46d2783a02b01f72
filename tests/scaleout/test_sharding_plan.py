"""The sharding plan (``backups.db.sharding``, ``docs/SCALING.md``) against the current schema.

Read from the database itself (Django's introspection), so it holds for what the migrations made,
on SQLite and PostgreSQL alike.
"""

import pytest
from django.apps import apps
from django.db import connection

from backups.db import sharding

pytestmark = pytest.mark.django_db

PLANNED = (*sharding.DISTRIBUTED, *sharding.REFERENCE, *sharding.COORDINATOR)


def model_tables():
    return sorted({model._meta.db_table for model in apps.get_models(include_auto_created=True)
                   if model._meta.managed and not model._meta.proxy})


def constraints(table):
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, table)


def columns(table):
    with connection.cursor() as cursor:
        return {column.name for column in connection.introspection.get_table_description(cursor, table)}


def keys(table):
    """The columns of the primary key and of every unique constraint or unique index."""
    return {tuple(c["columns"]) for c in constraints(table).values() if c["primary_key"] or c["unique"]}


def test_every_table_of_every_model_is_in_the_plan_exactly_once():
    assert len(PLANNED) == len(set(PLANNED))
    assert sorted(PLANNED) == model_tables()


def test_every_distributed_table_has_the_distribution_column_or_is_a_known_gap():
    missing = {table for table in sharding.DISTRIBUTED if sharding.DISTRIBUTION_COLUMN not in columns(table)}
    assert missing == set(sharding.MISSING_COLUMN)


def test_every_key_of_a_distributed_table_includes_project_id_or_is_a_known_gap():
    gaps = {(table, key) for table in sharding.DISTRIBUTED for key in keys(table)
            if sharding.DISTRIBUTION_COLUMN not in key}
    # Both ways: a new unique constraint without project_id fails here, and so does a gap that a
    # migration closed but the plan still lists.
    assert gaps == set(sharding.KNOWN_GAPS)


def test_no_reference_or_coordinator_table_points_at_a_distributed_one():
    offending = []
    for table in (*sharding.REFERENCE, *sharding.COORDINATOR):
        for name, constraint in constraints(table).items():
            target = constraint["foreign_key"]
            if target and target[0] in sharding.DISTRIBUTED:
                offending.append((table, name, target))
    assert offending == []


def test_the_tenant_indexes_of_the_items_lead_with_project_id():
    leading = {tuple(c["columns"])[0] for c in constraints("backups_checkpointitem").values()
               if c["index"] and c["columns"] and c["columns"][0]}
    assert sharding.DISTRIBUTION_COLUMN in leading


def test_the_distribution_statements_colocate_every_distributed_table_with_the_items():
    statements = sharding.citus_statements()
    assert statements[:len(sharding.REFERENCE)] == [f"SELECT create_reference_table('{t}');" for t in sharding.REFERENCE]
    assert statements[len(sharding.REFERENCE):] == [
        "SELECT create_distributed_table('backups_checkpointitem', 'project_id');",
        "SELECT create_distributed_table('backups_volumebackup', 'project_id', colocate_with => 'backups_checkpointitem');",
        "SELECT create_distributed_table('backups_replicationrecord', 'project_id', colocate_with => 'backups_checkpointitem');",
        "SELECT create_distributed_table('backups_sighting', 'project_id', colocate_with => 'backups_checkpointitem');",
    ]
