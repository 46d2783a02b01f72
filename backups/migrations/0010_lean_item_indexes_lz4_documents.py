"""Leaner item tables on PostgreSQL: no index that serves no query, documents compressed with lz4
and left out of the planner's statistics.

* The children's ``item`` foreign keys lose their own index (and its ``_like`` twin): the unique
  ``(item, position)`` constraint of each child table leads with ``item_id`` and serves every
  lookup and cascade by item. An import of a million items built 2,000,000 rows of each for nothing.
* Django adds a ``varchar_pattern_ops`` twin (``…_like``) to every indexed ``varchar`` column, for
  ``LIKE 'prefix%'`` under a locale. Our key columns compare under ``COLLATE "C"``
  (``CodePointCharField``), where the plain btree serves such prefixes, and the API never matches
  an id by prefix: the twins of the item's primary key and of the sightings' ``item`` (the
  remaining ones on these tables) are dropped. ``tests/test_models.py`` pins that none is left.
* ``document`` (the item's API JSON, about 2.3 kB, nearly always compressed by TOAST) is
  compressed with lz4 instead of pglz where the server supports it (PostgreSQL 14+ built with
  lz4, as Debian's is): measured on 200,000 documents, COPY took 2.6 s instead of 5.7 s and reading
  them back 0.43 s instead of 0.67 s, for 7 % more space. Values already stored keep pglz until
  they are written again; both read the same.

* ``document`` has no planner statistics (``SET STATISTICS 0``): no query filters, sorts or joins
  on it, and ``ANALYZE`` (after every import, and autovacuum's) decompressed 30,000 of them to
  compute statistics nothing reads (1.5 s instead of 1.9 s for the items of a million).

SQLite has none of these indexes twins nor TOAST: only the foreign keys' indexes change there.
"""
import django.db.models.deletion
from django.db import migrations, models

#: (model, field) whose ``_like`` twin is dropped.
LIKE_TWINS = (("checkpointitem", "id"), ("sighting", "item"))


def _postgresql(schema_editor):
    return schema_editor.connection.vendor == "postgresql"


def drop_like_twins(apps, schema_editor):
    if not _postgresql(schema_editor):
        return
    for model_name, field_name in LIKE_TWINS:
        model = apps.get_model("backups", model_name)
        column = model._meta.get_field(field_name).column
        name = schema_editor._create_index_name(model._meta.db_table, [column], suffix="_like")
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def restore_like_twins(apps, schema_editor):
    if not _postgresql(schema_editor):
        return
    for model_name, field_name in LIKE_TWINS:
        model = apps.get_model("backups", model_name)
        schema_editor.execute(schema_editor._create_like_index_sql(model, model._meta.get_field(field_name)))


def lz4_supported(cursor):
    """Whether the server can compress with lz4 (it lists it among ``default_toast_compression``'s values)."""
    cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
    row = cursor.fetchone()
    return bool(row and row[0])


def _alter_document(setting, *, where_lz4=False):
    """A ``RunPython`` step: ``ALTER COLUMN document SET {setting}`` of the items, on PostgreSQL
    (``where_lz4``: only where the server can compress with lz4)."""
    def alter(apps, schema_editor):
        if not _postgresql(schema_editor):
            return
        if where_lz4:
            with schema_editor.connection.cursor() as cursor:
                if not lz4_supported(cursor):
                    return
        table = schema_editor.quote_name(apps.get_model("backups", "CheckpointItem")._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN document SET {setting}")

    return alter


class Migration(migrations.Migration):

    dependencies = [
        ('backups', '0009_gone_at_in_project_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='replicationrecord',
            name='item',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='replication_records', to='backups.checkpointitem'),
        ),
        migrations.AlterField(
            model_name='volumebackup',
            name='item',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='volume_backups', to='backups.checkpointitem'),
        ),
        migrations.RunPython(drop_like_twins, restore_like_twins),
        migrations.RunPython(
            _alter_document("COMPRESSION lz4", where_lz4=True), _alter_document("COMPRESSION pglz", where_lz4=True)
        ),
        migrations.RunPython(_alter_document("STATISTICS 0"), _alter_document("STATISTICS -1")),
    ]
