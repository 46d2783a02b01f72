"""The checkpoint item's admin: search among a million, edit by the import's rules, export as CSBS JSON."""
import json

from django.contrib import admin
from django.db.models import Q
from django.http import StreamingHttpResponse

from backups.api.responses import checkpoint_items_stream
from backups.models import CheckpointItem, fold
from backups.services import documents
from backups.sync.admin import SyncedItemAdminMixin  # also registers the sync's own admins (sources, runs)

from .children import ReplicationRecordInline, VolumeBackupInline
from .filters import CreatedAtRangeFilter, IndexedValuesFilter
from .forms import CheckpointItemAdminForm
from .mixins import (
    BigTableAdminMixin,
    JsonReadOnlyMixin,
    KeptAsGivenMessageMixin,
    ValueChangeMessageMixin,
    pretty_json,
)
from .search import UUID_PATTERN, TermSearchMixin, exact_match, is_ip_address


@admin.action(description="Export selected items as CSBS JSON")
def export_csbs_json(modeladmin, request, queryset):
    """The import format, ``{"checkpoint_items": [...]}``, joined from the stored ``document``s."""
    documents = queryset.values_list("document", flat=True).iterator(chunk_size=1000)
    response = StreamingHttpResponse(checkpoint_items_stream(documents), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="checkpoint_items.json"'
    return response


@admin.register(CheckpointItem)
class CheckpointItemAdmin(
    SyncedItemAdminMixin, KeptAsGivenMessageMixin, ValueChangeMessageMixin, JsonReadOnlyMixin,
    TermSearchMixin,
    BigTableAdminMixin,
    admin.ModelAdmin,
):
    form = CheckpointItemAdminForm
    inlines = [VolumeBackupInline, ReplicationRecordInline]
    actions = [export_csbs_json]

    list_display = (
        "item_name", "status", "project_id", "resource_name", "resource_az", "image_type", "created_at",
    )
    changelist_columns = (
        "id", "name", "status", "project_id", "resource_name", "resource_az", "image_type", "created_at",
    )
    list_filter = (
        "status",
        "image_type",
        ("resource_type", IndexedValuesFilter),
        "dec",
        ("resource_az", IndexedValuesFilter),
        CreatedAtRangeFilter,
    )
    search_fields = ("name", "id", "resource_id", "resource_name", "checkpoint_id", "eip", "private_ip")
    search_help_text = (
        "An id (item, resource or checkpoint) or an IP address (EIP, private IP) matches exactly; "
        "other words match inside the name or resource name, in any case. Several words must all match."
    )

    fieldsets = [
        ("Item", {"fields": [
            "id", "project_id", "name", "status", "description",
            ("checkpoint_id", "policy_id"),
            ("resource_id", "resource_type"),
            ("created_at", "updated_at", "protected_at"),
            "extra",
        ]}),
        ("backup_data", {"fields": [
            ("openstack_region_name", "cloudservicetype", "imagetype"),
            ("disk", "ram", "vcpus"),
            ("eip", "private_ip"),
            "backup_data_extra",
        ]}),
        ("extend_info", {"fields": [
            ("resource_name", "resource_az", "extend_resource_type"),
            ("image_type", "supported_restore_mode", "incremental"),
            ("size", "progress", "average_speed", "space_saving_ratio"),
            ("finished_at", "retention_duration"),
            ("auto_trigger", "support_lld", "dec", "dec_size"),
            ("copy_from", "copy_status"),
            ("fail_op", "fail_reason"),
            "fail_code",
            "os_images_data",
            "extend_info_extra",
        ]}),
        ("API JSON", {
            "fields": ["api_json"],
            "classes": ["collapse"],
            "description": "What the API returns for this item, as stored (re-rendered on every save).",
        }),
    ]
    json_fields = (
        "extra", "disk", "ram", "vcpus", "backup_data_extra", "fail_code", "os_images_data", "dec_size",
        "extend_info_extra",
    )

    @admin.display(description="name", ordering="name")
    def item_name(self, obj):
        return obj.name or f"(no name: {obj.id})"

    @admin.display(description="API JSON")
    def api_json(self, obj):
        return pretty_json(json.loads(obj.document)) if obj.document else "-"

    def term_condition(self, term):
        if is_ip_address(term):
            return Q(eip=term) | Q(private_ip=term)
        ids = exact_match(("id", "resource_id", "checkpoint_id"), term)
        if UUID_PATTERN.fullmatch(term):
            return ids
        folded = fold(term)
        return Q(name_folded__contains=folded) | Q(resource_name_folded__contains=folded) | ids

    def get_readonly_fields(self, request, obj=None):
        # The id is the key: changing it would save a copy under the new id.
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "api_json", *(("id",) if obj is not None else ()))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Children saved one by one re-render the document as they go; this pins the final state.
        documents.refresh_document(form.instance)
