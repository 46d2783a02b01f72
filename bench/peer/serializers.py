"""Nested ``ModelSerializer``s: item, volume backups, replication records, as most would write them.

The fields are listed by hand (not read from ``backups.document.keys``), as a typical implementation
does; the only adaptations are the ones needed for the seed's exact shape: the renamed keys
(``__openstack_region_name``, the children's ``id``), the ``backup_data``/``extend_info``
sections (``source="*"``), ``policy_id`` only when set, and the unknown keys (``*_extra``) merged.
"""

from rest_framework import serializers

from backups.models import CheckpointItem, ReplicationRecord, VolumeBackup


class VolumeBackupSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="volume_backup_id", allow_null=True)

    class Meta:
        model = VolumeBackup
        fields = [
            "id",
            "name",
            "status",
            "average_speed",
            "bootable",
            "image_type",
            "incremental",
            "size",
            "source_volume_id",
            "source_volume_size",
            "source_volume_name",
            "space_saving_ratio",
            "snapshot_id",
            "source_volume_service_type",
            "dec_size",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data.update(instance.extra)
        return data


class ReplicationRecordSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="record_id", allow_null=True)

    class Meta:
        model = ReplicationRecord
        fields = [
            "id",
            "status",
            "source_region",
            "source_project_id",
            "source_checkpoint_id",
            "source_checkpoint_item_id",
            "destination_region",
            "destination_project_id",
            "destination_checkpoint_id",
            "destination_checkpoint_item_id",
            "plan_id",
            "created_at",
            "extra_info",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data.update(instance.extra)
        return data


class BackupDataSerializer(serializers.ModelSerializer):
    class Meta:
        model = CheckpointItem
        fields = [
            "openstack_region_name",
            "cloudservicetype",
            "disk",
            "imagetype",
            "ram",
            "vcpus",
            "eip",
            "private_ip",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["__openstack_region_name"] = data.pop("openstack_region_name")
        data.update(instance.backup_data_extra)
        return data


class ExtendInfoSerializer(serializers.ModelSerializer):
    resource_type = serializers.CharField(source="extend_resource_type", allow_null=True)
    volume_backups = VolumeBackupSerializer(many=True)

    class Meta:
        model = CheckpointItem
        fields = [
            "auto_trigger",
            "average_speed",
            "copy_from",
            "copy_status",
            "fail_code",
            "fail_op",
            "fail_reason",
            "image_type",
            "incremental",
            "progress",
            "resource_az",
            "resource_name",
            "resource_type",
            "size",
            "space_saving_ratio",
            "finished_at",
            "supported_restore_mode",
            "os_images_data",
            "support_lld",
            "retention_duration",
            "dec",
            "dec_size",
            "volume_backups",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data.update(instance.extend_info_extra)
        return data


class CheckpointItemSerializer(serializers.ModelSerializer):
    backup_data = BackupDataSerializer(source="*")
    extend_info = ExtendInfoSerializer(source="*")
    replication_records = ReplicationRecordSerializer(many=True)

    class Meta:
        model = CheckpointItem
        fields = [
            "id",
            "checkpoint_id",
            "name",
            "description",
            "status",
            "resource_id",
            "resource_type",
            "created_at",
            "updated_at",
            "protected_at",
            "backup_data",
            "extend_info",
            "replication_records",
            "policy_id",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data["policy_id"] is None:
            del data["policy_id"]
        data.update(instance.extra)
        return data
