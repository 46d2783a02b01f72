"""Volume backups and replication records: inline on their item's page, and on pages of their own."""
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.urls import reverse
from django.utils.html import format_html

from backups.models import CheckpointItem, ReplicationRecord, VolumeBackup
from backups.services import documents
from backups.sync.admin import SyncedChildAdminMixin, SyncedInlineMixin

from .forms import PositionedInlineFormSet, ReplicationRecordAdminForm, VolumeBackupAdminForm
from .mixins import BigTableAdminMixin, JsonReadOnlyMixin, KeptAsGivenMessageMixin, ValueChangeMessageMixin
from .search import TermSearchMixin, exact_match

VOLUME_BACKUP_FIELDS = [
    ("position", "volume_backup_id", "name", "status"),
    ("size", "source_volume_size", "average_speed", "space_saving_ratio"),
    ("source_volume_id", "source_volume_name", "source_volume_service_type"),
    ("snapshot_id", "image_type", "bootable", "incremental"),
    "dec_size",
    "extra",
]

REPLICATION_RECORD_FIELDS = [
    ("position", "record_id", "status", "created_at"),
    ("source_region", "source_project_id"),
    ("source_checkpoint_id", "source_checkpoint_item_id"),
    ("destination_region", "destination_project_id"),
    ("destination_checkpoint_id", "destination_checkpoint_item_id"),
    "plan_id",
    "extra_info",
    "extra",
]


class InlineJsonReadOnlyMixin(SyncedInlineMixin, JsonReadOnlyMixin):
    def is_view_only(self, request, obj):
        return not self.has_change_permission(request, obj)


class VolumeBackupInline(InlineJsonReadOnlyMixin, admin.StackedInline):
    model = VolumeBackup
    form = VolumeBackupAdminForm
    formset = PositionedInlineFormSet
    fieldsets = [(None, {"fields": VOLUME_BACKUP_FIELDS})]
    json_fields = ("dec_size", "extra")
    extra = 0
    show_change_link = True


class ReplicationRecordInline(InlineJsonReadOnlyMixin, admin.StackedInline):
    model = ReplicationRecord
    form = ReplicationRecordAdminForm
    formset = PositionedInlineFormSet
    fieldsets = [(None, {"fields": REPLICATION_RECORD_FIELDS})]
    json_fields = ("extra_info", "extra")
    extra = 0
    show_change_link = True


# --- on their own pages -----------------------------------------------------------------------


class ChildAdmin(
    SyncedChildAdminMixin, KeptAsGivenMessageMixin, ValueChangeMessageMixin, JsonReadOnlyMixin,
    TermSearchMixin,
    BigTableAdminMixin,
    admin.ModelAdmin,
):
    """A volume backup or replication record on its own page; the item is chosen by id."""

    raw_id_fields = ("item",)
    list_select_related = ("item",)

    @admin.display(description="item", ordering="item")
    def item_link(self, obj):
        url = reverse("admin:backups_checkpointitem_change", args=[quote(obj.item_id)])
        return format_html('<a href="{}">{}</a>', url, obj.item.name or obj.item_id)

    def get_readonly_fields(self, request, obj=None):
        # Moving a child to another item would leave the first item's document stale.
        fields = super().get_readonly_fields(request, obj)
        return (*fields, *(("item",) if obj is not None else ()))

    def delete_queryset(self, request, queryset):
        # A bulk delete bypasses the model's delete(), which keeps the item's document current.
        item_ids = set(queryset.values_list("item_id", flat=True))
        super().delete_queryset(request, queryset)
        documents.refresh_documents(CheckpointItem.objects.filter(pk__in=item_ids))


@admin.register(VolumeBackup)
class VolumeBackupAdmin(ChildAdmin):
    form = VolumeBackupAdminForm
    fieldsets = [(None, {"fields": ["item", *VOLUME_BACKUP_FIELDS]})]
    json_fields = VolumeBackupInline.json_fields
    list_display = ("__str__", "item_link", "position", "status", "size", "source_volume_id", "snapshot_id")
    changelist_columns = (
        "id", "volume_backup_id", "name", "position", "status", "size", "source_volume_id", "snapshot_id",
        "item__id", "item__name",
    )
    search_fields = ("volume_backup_id", "source_volume_id", "snapshot_id", "name")
    search_help_text = "Matches a volume backup id, source volume id, snapshot id or name exactly."

    def term_condition(self, term):
        return exact_match(("volume_backup_id", "source_volume_id", "snapshot_id", "name"), term)


@admin.register(ReplicationRecord)
class ReplicationRecordAdmin(ChildAdmin):
    form = ReplicationRecordAdminForm
    fieldsets = [(None, {"fields": ["item", *REPLICATION_RECORD_FIELDS]})]
    json_fields = ReplicationRecordInline.json_fields
    list_display = (
        "__str__", "item_link", "status", "destination_region", "destination_project_id", "created_at",
    )
    changelist_columns = (
        "id", "record_id", "status", "destination_region", "destination_project_id", "created_at",
        "item__id", "item__name",
    )
    list_filter = ("status",)
    search_fields = (
        "record_id", "destination_checkpoint_item_id", "destination_region", "destination_project_id",
        "source_checkpoint_item_id",
    )
    search_help_text = (
        "Matches a record id, destination or source checkpoint item id, destination region or "
        "destination project id exactly."
    )

    def term_condition(self, term):
        return exact_match(self.search_fields, term)
