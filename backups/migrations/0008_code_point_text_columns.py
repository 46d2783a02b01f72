"""Every filtered, sorted or indexed text column of the item tables compares by code point.

The fields become ``CodePointCharField`` (``COLLATE "C"`` on PostgreSQL; SQLite's columns are
already binary, so nothing changes there). On PostgreSQL each table is altered by one statement,
so that it is rewritten and its indexes rebuilt once rather than once per column.
"""
import backups.model_fields
from django.db import migrations


def _alter_collation(collation):
    def alter(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        qn = schema_editor.quote_name
        by_table = {}
        for operation in STATE_OPERATIONS:
            model = apps.get_model("backups", operation.model_name)
            field = model._meta.get_field(operation.name)
            by_table.setdefault(model._meta.db_table, []).append(
                f"ALTER COLUMN {qn(field.column)} TYPE varchar({field.max_length}) COLLATE {collation}"
            )
        for table, clauses in by_table.items():
            schema_editor.execute(f"ALTER TABLE {qn(table)} " + ", ".join(clauses))

    return alter


STATE_OPERATIONS = [
        migrations.AlterField(
            model_name='apitoken',
            name='project_id',
            field=backups.model_fields.CodePointCharField(max_length=64),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='checkpoint_id',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=128, null=True),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='cloudservicetype',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=255, null=True),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='copy_from',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=128, null=True),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='copy_status',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=32, null=True),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='eip',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=64, null=True, verbose_name='EIP'),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='extend_resource_type',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=64, null=True, verbose_name='extend_info.resource_type'),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='fail_op',
            field=backups.model_fields.CodePointCharField(blank=True, choices=[('', 'None'), ('backup', 'Backup'), ('restore', 'Restore'), ('delete', 'Delete')], max_length=16, null=True),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='image_type',
            field=backups.model_fields.CodePointCharField(blank=True, choices=[('backup', 'Backup'), ('replication', 'Replication')], max_length=16, null=True),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='imagetype',
            field=backups.model_fields.CodePointCharField(blank=True, choices=[('', 'Unknown'), ('gold', 'Public image'), ('private', 'Private image'), ('market', 'Marketplace image')], max_length=16, null=True),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='openstack_region_name',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=255, null=True, verbose_name='__openstack_region_name'),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='policy_id',
            field=backups.model_fields.CodePointCharField(blank=True, help_text='Backup policy that produced the item.', max_length=128, null=True),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='private_ip',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=64, null=True, verbose_name='private IP'),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='project_id',
            field=backups.model_fields.CodePointCharField(help_text='Owner project (tenant).', max_length=64),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='resource_az',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=64, null=True, verbose_name='AZ'),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='resource_id',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=128, null=True),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='resource_name',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=255, null=True),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='resource_type',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name='checkpointitem',
            name='supported_restore_mode',
            field=backups.model_fields.CodePointCharField(blank=True, choices=[('na', 'Not restorable'), ('snapshot', 'Snapshot (full-server image)'), ('backup', 'Backup (restore from disk backups)')], max_length=16, null=True),
        ),
        migrations.AlterField(
            model_name='projectmembership',
            name='project_id',
            field=backups.model_fields.CodePointCharField(max_length=64),
        ),
        migrations.AlterField(
            model_name='replicationrecord',
            name='destination_checkpoint_id',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=128, null=True),
        ),
        migrations.AlterField(
            model_name='replicationrecord',
            name='destination_checkpoint_item_id',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=128, null=True),
        ),
        migrations.AlterField(
            model_name='replicationrecord',
            name='destination_project_id',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name='replicationrecord',
            name='destination_region',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name='replicationrecord',
            name='plan_id',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=128, null=True),
        ),
        migrations.AlterField(
            model_name='replicationrecord',
            name='record_id',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=128, null=True, verbose_name='id'),
        ),
        migrations.AlterField(
            model_name='replicationrecord',
            name='source_checkpoint_id',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=128, null=True),
        ),
        migrations.AlterField(
            model_name='replicationrecord',
            name='source_checkpoint_item_id',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=128, null=True),
        ),
        migrations.AlterField(
            model_name='replicationrecord',
            name='source_project_id',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name='replicationrecord',
            name='source_region',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name='replicationrecord',
            name='status',
            field=backups.model_fields.CodePointCharField(blank=True, choices=[('replicating', 'Replicating'), ('success', 'Success'), ('fail', 'Fail'), ('skip', 'Skip'), ('waiting_replicate', 'Waiting to replicate')], max_length=32, null=True),
        ),
        migrations.AlterField(
            model_name='syncsource',
            name='project_id',
            field=backups.model_fields.CodePointCharField(help_text="The upstream project, and the inventory's.", max_length=64),
        ),
        migrations.AlterField(
            model_name='volumebackup',
            name='image_type',
            field=backups.model_fields.CodePointCharField(blank=True, choices=[('backup', 'Backup')], max_length=16, null=True),
        ),
        migrations.AlterField(
            model_name='volumebackup',
            name='name',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=255, null=True),
        ),
        migrations.AlterField(
            model_name='volumebackup',
            name='snapshot_id',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=128, null=True),
        ),
        migrations.AlterField(
            model_name='volumebackup',
            name='source_volume_id',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=128, null=True),
        ),
        migrations.AlterField(
            model_name='volumebackup',
            name='source_volume_name',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=255, null=True),
        ),
        migrations.AlterField(
            model_name='volumebackup',
            name='source_volume_service_type',
            field=backups.model_fields.CodePointCharField(blank=True, choices=[('EVS', 'EVS'), ('DSS', 'DSS')], max_length=16, null=True),
        ),
        migrations.AlterField(
            model_name='volumebackup',
            name='status',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=32, null=True),
        ),
        migrations.AlterField(
            model_name='volumebackup',
            name='volume_backup_id',
            field=backups.model_fields.CodePointCharField(blank=True, max_length=128, null=True, verbose_name='id'),
        ),
]


class Migration(migrations.Migration):

    dependencies = [
        ('backups', '0007_ingest_as_given'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=STATE_OPERATIONS,
            database_operations=[migrations.RunPython(_alter_collation('"C"'), _alter_collation('pg_catalog."default"'))],
        ),
    ]
