"""Checkpoint items (CSBS backups), their volume backups and replication records, and API tokens.

Every key of the seed's tables is a real column, so the API filters and sorts in SQL; keys the seed
does not list are kept in the ``*_extra`` JSON of their section, values no column can hold in
``as_given`` (the ingest rule: ``backups.document.parse``). ``document`` holds the item's
rendered API JSON (``backups.document.render.render_item``), so a page of the list is a concatenation of
stored documents; ``backups.services.documents`` keeps it current on every write.
"""
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from . import choices
from .listing.ordering import sort_expression
from .model_fields import CodePointCharField
from .services import documents
from .services.documents import fold  # noqa: F401  (the filters, admin and pages import it from here)

ID_LENGTH = 128


def is_item_id(value):
    """Could ``value`` be an item's id (a marker, a path's id)? Longer ids or NUL never match a row."""
    return isinstance(value, str) and len(value) <= ID_LENGTH and "\x00" not in value


class CheckpointItem(models.Model):
    """One backup of one resource (a CSBS ``checkpoint_item``), owned by one project."""

    # --- the item ------------------------------------------------------------------------
    id = CodePointCharField(primary_key=True, max_length=ID_LENGTH)
    project_id = CodePointCharField(max_length=64, help_text="Owner project (tenant).")
    checkpoint_id = CodePointCharField(max_length=ID_LENGTH, null=True, blank=True)
    name = CodePointCharField(max_length=255, null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    status = CodePointCharField(max_length=32, choices=choices.ItemStatus.choices)
    resource_id = CodePointCharField(max_length=ID_LENGTH, null=True, blank=True)
    resource_type = CodePointCharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(null=True, blank=True)
    protected_at = models.DateTimeField(null=True, blank=True)
    policy_id = CodePointCharField(
        max_length=ID_LENGTH, null=True, blank=True, help_text="Backup policy that produced the item."
    )
    extra = models.JSONField(default=dict, blank=True, help_text="Item keys the seed does not list.")

    # --- backup_data: the server's metadata --------------------------------------------------
    openstack_region_name = CodePointCharField(
        "__openstack_region_name", max_length=255, null=True, blank=True
    )
    cloudservicetype = CodePointCharField(max_length=255, null=True, blank=True)
    disk = models.JSONField(null=True, blank=True, help_text="String or number, kept as given.")
    imagetype = CodePointCharField(
        max_length=16, null=True, blank=True, choices=choices.ServerImageType.choices
    )
    ram = models.JSONField(null=True, blank=True, help_text="MB; string or number, kept as given.")
    vcpus = models.JSONField(null=True, blank=True, help_text="String or number, kept as given.")
    eip = CodePointCharField("EIP", max_length=64, null=True, blank=True)
    private_ip = CodePointCharField("private IP", max_length=64, null=True, blank=True)
    backup_data_extra = models.JSONField(default=dict, blank=True)

    # --- extend_info ---------------------------------------------------------------------
    auto_trigger = models.BooleanField(null=True, blank=True)
    average_speed = models.BigIntegerField(null=True, blank=True)
    copy_from = CodePointCharField(max_length=ID_LENGTH, null=True, blank=True)
    copy_status = CodePointCharField(max_length=32, null=True, blank=True)
    fail_code = models.JSONField(default=dict, blank=True)
    fail_op = CodePointCharField(max_length=16, null=True, blank=True, choices=choices.FailOp.choices)
    fail_reason = models.TextField(null=True, blank=True)
    image_type = CodePointCharField(
        max_length=16, null=True, blank=True, choices=choices.ImageType.choices
    )
    incremental = models.BooleanField(null=True, blank=True)
    progress = models.IntegerField(null=True, blank=True)
    resource_az = CodePointCharField("AZ", max_length=64, null=True, blank=True)
    resource_name = CodePointCharField(max_length=255, null=True, blank=True)
    extend_resource_type = CodePointCharField(
        "extend_info.resource_type", max_length=64, null=True, blank=True
    )
    size = models.BigIntegerField(null=True, blank=True, help_text="MB")
    space_saving_ratio = models.IntegerField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    supported_restore_mode = CodePointCharField(
        max_length=16, null=True, blank=True, choices=choices.SupportedRestoreMode.choices
    )
    os_images_data = models.JSONField(default=list, blank=True)
    support_lld = models.BooleanField(null=True, blank=True)
    retention_duration = models.IntegerField(null=True, blank=True, help_text="Days; -1 forever.")
    dec = models.BooleanField("DEC", null=True, blank=True, help_text="Dedicated backup.")
    dec_size = models.JSONField(null=True, blank=True, help_text="MB; string or number.")
    extend_info_extra = models.JSONField(default=dict, blank=True)
    as_given = models.TextField(
        null=True, blank=True, editable=False,
        help_text="Values kept as given that their columns cannot hold, by JSON path (JSON text).",
    )

    # --- derived, kept current by services.documents -----------------------------------------------
    name_folded = models.TextField(editable=False, default="")
    resource_name_folded = models.TextField(editable=False, default="")
    document = models.TextField(editable=False, default="", help_text="The item's API JSON.")

    # --- origin: the sync source that mirrors the item (backups.sync); NULL for imports, admin ---
    source = models.ForeignKey(
        "backups.SyncSource", null=True, blank=True, editable=False, on_delete=models.PROTECT,
        related_name="items", db_index=False,  # item_source_gone leads with it
    )
    gone_at = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="Vanished from its source (a complete walk did not see it): out of the API's answers.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Tenant pages: (project, sort key, id) for every sort key. gone_at last in every
            # per-project index: the API's reads all say gone_at IS NULL, and with it in the key a
            # count is answered from the index alone (no heap visit per row to read it).
            # status in item_proj_created_st: the overview's per-day, per-status counts read it alone.
            models.Index(
                fields=["project_id", "created_at", "id", "status", "gone_at"], name="item_proj_created_st"
            ),
            models.Index(
                "project_id", sort_expression("updated_at"), "id", "gone_at", name="item_proj_updated"
            ),
            models.Index("project_id", sort_expression("name"), "id", "gone_at", name="item_proj_name"),
            models.Index(fields=["project_id", "status", "id", "gone_at"], name="item_proj_status"),
            models.Index(
                "project_id", sort_expression("protected_at"), "id", "gone_at", name="item_proj_protected"
            ),
            models.Index(fields=["project_id", "id", "gone_at"], name="item_proj_id"),
            # Coverage (backups.coverage.report): each resource's history newest first, read from the
            # index alone (status and image_type are key columns: SQLite has no INCLUDE).
            models.Index(
                fields=["project_id", "resource_id", "-created_at", "-id", "status", "image_type", "gone_at"],
                name="item_proj_resource_created",
            ),
            # all_tenants pages.
            models.Index(fields=["created_at", "id"], name="item_created"),
            models.Index(sort_expression("updated_at"), "id", name="item_updated"),
            models.Index(sort_expression("name"), "id", name="item_name"),
            models.Index(fields=["status", "id"], name="item_status"),
            models.Index(sort_expression("protected_at"), "id", name="item_protected"),
            # Filters.
            models.Index(fields=["resource_id"], name="item_resource_id"),
            models.Index(fields=["checkpoint_id"], name="item_checkpoint_id"),
            models.Index(fields=["policy_id"], name="item_policy_id"),
            models.Index(fields=["resource_type"], name="item_resource_type"),
            models.Index(fields=["resource_az"], name="item_resource_az"),
            models.Index(fields=["image_type"], name="item_image_type"),
            models.Index(fields=["eip"], name="item_eip"),
            models.Index(fields=["private_ip"], name="item_private_ip"),
            models.Index(fields=["dec"], name="item_dec"),
            models.Index(fields=["resource_name"], name="item_resource_name"),
            # The sync: a source's live items (gone marking) and its gone ones (purge).
            models.Index(fields=["source", "gone_at"], name="item_source_gone"),
        ]

    def __str__(self):
        return f"{self.name or self.id} ({self.status})"

    def derive(self, volume_backups, replication_records):
        """Set the derived columns from the fields and these children (``services.documents``)."""
        documents.derive(self, volume_backups, replication_records)

    def save(self, *args, **kwargs):
        documents.derive(self, *documents.stored_children(self))
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "name_folded", "resource_name_folded", "document"}
        super().save(*args, **kwargs)

    def refresh_document(self):
        """Re-render from the database after the children changed, and store the result."""
        documents.refresh_document(self)

    @property
    def is_failed(self):
        return self.status == choices.ItemStatus.ERROR or bool(self.fail_op)


class ItemChild:
    """A section of an item saved on its own (the admin): its item's stored document follows."""

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self.item.refresh_document()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        self.item.refresh_document()
        return result


class VolumeBackup(ItemChild, models.Model):
    """One disk's backup inside an item (``extend_info.volume_backups[]``), in the item's order."""

    # No index of its own: volume_backup_position (item, position) leads with it.
    item = models.ForeignKey(
        CheckpointItem, on_delete=models.CASCADE, related_name="volume_backups", db_index=False
    )
    position = models.PositiveIntegerField(default=0, help_text="Order within the item, from 0.")
    volume_backup_id = CodePointCharField("id", max_length=ID_LENGTH, null=True, blank=True)
    name = CodePointCharField(max_length=255, null=True, blank=True)
    status = CodePointCharField(max_length=32, null=True, blank=True)
    average_speed = models.BigIntegerField(null=True, blank=True)
    bootable = models.BooleanField(null=True, blank=True)
    image_type = CodePointCharField(
        max_length=16, null=True, blank=True, choices=choices.VolumeImageType.choices
    )
    incremental = models.BooleanField(null=True, blank=True)
    size = models.BigIntegerField(null=True, blank=True, help_text="MB")
    source_volume_id = CodePointCharField(max_length=ID_LENGTH, null=True, blank=True)
    source_volume_size = models.BigIntegerField(null=True, blank=True, help_text="GB")
    source_volume_name = CodePointCharField(max_length=255, null=True, blank=True)
    space_saving_ratio = models.IntegerField(null=True, blank=True)
    snapshot_id = CodePointCharField(max_length=ID_LENGTH, null=True, blank=True)
    source_volume_service_type = CodePointCharField(
        max_length=16, null=True, blank=True, choices=choices.VolumeServiceType.choices
    )
    dec_size = models.JSONField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    as_given = models.TextField(
        null=True, blank=True, editable=False,
        help_text="Values kept as given that their columns cannot hold, by JSON path (JSON text).",
    )

    class Meta:
        ordering = ["item", "position"]
        constraints = [
            models.UniqueConstraint(fields=["item", "position"], name="volume_backup_position")
        ]
        indexes = [
            models.Index(fields=["source_volume_id"], name="vb_source_volume"),
            models.Index(fields=["volume_backup_id"], name="vb_id"),
            models.Index(fields=["snapshot_id"], name="vb_snapshot"),
            models.Index(fields=["name"], name="vb_name"),
        ]

    def __str__(self):
        return self.name or self.volume_backup_id or f"volume backup {self.position}"



class ReplicationRecord(ItemChild, models.Model):
    """One replication of an item to another region or project (``replication_records[]``)."""

    # No index of its own: replication_record_position (item, position) leads with it.
    item = models.ForeignKey(
        CheckpointItem, on_delete=models.CASCADE, related_name="replication_records", db_index=False
    )
    position = models.PositiveIntegerField(default=0, help_text="Order within the item, from 0.")
    record_id = CodePointCharField("id", max_length=ID_LENGTH, null=True, blank=True)
    status = CodePointCharField(
        max_length=32, null=True, blank=True, choices=choices.ReplicationStatus.choices
    )
    source_region = CodePointCharField(max_length=64, null=True, blank=True)
    source_project_id = CodePointCharField(max_length=64, null=True, blank=True)
    source_checkpoint_id = CodePointCharField(max_length=ID_LENGTH, null=True, blank=True)
    source_checkpoint_item_id = CodePointCharField(max_length=ID_LENGTH, null=True, blank=True)
    destination_region = CodePointCharField(max_length=64, null=True, blank=True)
    destination_project_id = CodePointCharField(max_length=64, null=True, blank=True)
    destination_checkpoint_id = CodePointCharField(max_length=ID_LENGTH, null=True, blank=True)
    destination_checkpoint_item_id = CodePointCharField(max_length=ID_LENGTH, null=True, blank=True)
    plan_id = CodePointCharField(max_length=ID_LENGTH, null=True, blank=True)
    created_at = models.DateTimeField(null=True, blank=True, help_text="When replication started.")
    extra_info = models.JSONField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    as_given = models.TextField(
        null=True, blank=True, editable=False,
        help_text="Values kept as given that their columns cannot hold, by JSON path (JSON text).",
    )

    class Meta:
        ordering = ["item", "position"]
        constraints = [
            models.UniqueConstraint(fields=["item", "position"], name="replication_record_position")
        ]
        indexes = [
            models.Index(fields=["destination_checkpoint_item_id"], name="rr_dest_item"),
            models.Index(fields=["destination_region"], name="rr_dest_region"),
            models.Index(fields=["record_id"], name="rr_record"),
            models.Index(fields=["destination_project_id"], name="rr_dest_project"),
            models.Index(fields=["source_checkpoint_item_id"], name="rr_source_item"),
        ]

    def __str__(self):
        return f"{self.record_id or self.pk}: {self.destination_region} ({self.status})"


class ProjectMembership(models.Model):
    """A user may read the backups of a project (browse pages, session-authenticated API)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_memberships"
    )
    project_id = CodePointCharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "project_id"], name="membership_unique")
        ]

    def __str__(self):
        return f"{self.user} in {self.project_id}"


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))


class ApiToken(models.Model):
    """An ``X-Auth-Token``: only its SHA-256 is stored; the token itself is shown once."""

    PREFIX_LENGTH = 8

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    project_id = CodePointCharField(max_length=64)
    is_admin = models.BooleanField(default=False, help_text="May use all_tenants.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=PREFIX_LENGTH, editable=False, help_text="First characters, to tell tokens apart."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    def __str__(self):
        return f"{self.prefix}… ({self.user}, {self.project_id})"

    @staticmethod
    def hash(key):
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user, project_id, is_admin=False, expires_at=None):
        """Create a token; return ``(token, key)``. The key is not stored and cannot be recovered."""
        key = secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            project_id=project_id,
            is_admin=is_admin,
            expires_at=expires_at,
            key_hash=cls.hash(key),
            prefix=key[: cls.PREFIX_LENGTH],
        )
        return token, key

    @property
    def is_expired(self):
        return self.expires_at is not None and self.expires_at <= timezone.now()


# The sync's models live with the sync (backups/sync/); importing them here registers them with the app.
from .sync.models import Sighting, SyncRun, SyncSource  # noqa: E402, F401
