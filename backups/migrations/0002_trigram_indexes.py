"""Trigram indexes for the substring filters ``name`` and ``resource_name`` (PostgreSQL only).

The filters run ``*_folded LIKE '%term%'``; a GIN ``gin_trgm_ops`` index answers that without
scanning the table. SQLite has no such index type: there the migration does nothing.
"""
from django.db import migrations

INDEXES = {
    "item_name_trgm": "name_folded",
    "item_resource_name_trgm": "resource_name_folded",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON backups_checkpointitem USING gin ({column} gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("backups", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
