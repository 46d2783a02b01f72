"""The Django admin for backup records: find an item among a million, correct it, and the API follows.

* Edits are judged by the import's rules (``backups.admin_forms``) and saved in the admin's
  transaction; after the inlines are saved the item's ``document`` is rendered again, so the API
  returns the edit. History entries name each changed field with its old and new value.
* Change lists never count a whole table (``backups.admin_paginator``), load only the columns
  they show, and list filters read indexes (``backups.admin_filters``).
* Search is one indexed lookup per term (``TermSearchMixin``): ids and IP addresses match exactly,
  other words match inside the case-folded name columns (trigram-indexed on PostgreSQL). Several
  terms must all match.
"""
import ipaddress
import json
import re

from django.contrib import admin, messages
from django.contrib.admin.utils import construct_change_message, quote
from django.contrib.admin.views.main import ChangeList
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal

from backups.api.responses import checkpoint_items_stream
from backups.document.schema import REWRITTEN
from backups.models import (
    ApiToken,
    CheckpointItem,
    ProjectMembership,
    ReplicationRecord,
    VolumeBackup,
    fold,
)

from .filters import CreatedAtRangeFilter, IndexedValuesFilter
from .forms import (
    CheckpointItemAdminForm,
    JsonValueField,
    PositionedInlineFormSet,
    ReplicationRecordAdminForm,
    VolumeBackupAdminForm,
)
from .paginator import CheapCountPaginator

UUID_PATTERN = re.compile(
    r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE
)
CHANGE_VALUE_LENGTH = 80


# --- search ---------------------------------------------------------------------------------


def search_terms(search_term):
    """The terms of a search box value; quotes keep a term with spaces together ("my backup")."""
    for term in smart_split(search_term):
        if len(term) >= 2 and term[0] in "\"'" and term[-1] == term[0]:
            term = unescape_string_literal(term)
        if term:
            yield term


def is_ip_address(term):
    try:
        ipaddress.ip_address(term)
    except ValueError:
        return False
    return True


def exact_match(fields, term):
    """``field = term`` for any of ``fields``; a UUID also in lower case (ids are stored so)."""
    values = {term, term.lower()} if UUID_PATTERN.fullmatch(term) else {term}
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__in": sorted(values)})
    return condition


class TermSearchMixin:
    """``get_search_results`` with one condition per term (``term_condition``), all terms required.

    Replaces the stock search, which ORs ``icontains`` over every field: on PostgreSQL that is
    ``UPPER(column) LIKE`` and reads the whole table however the columns are indexed.
    ``search_fields`` only switches the search box on and lists what is searched.
    """

    def term_condition(self, term):
        raise NotImplementedError

    def get_search_results(self, request, queryset, search_term):
        for term in search_terms(search_term):
            queryset = queryset.filter(self.term_condition(term))
        return queryset, False


# --- change lists on big tables ---------------------------------------------------------------


class ColumnsChangeList(ChangeList):
    """A change list that loads only ``model_admin.changelist_columns`` (no ``document``, no JSON)."""

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        columns = self.model_admin.changelist_columns
        return queryset.only(*columns) if columns else queryset


class BigTableAdminMixin:
    """Change-list settings for tables of millions of rows: no full count, no facet counts."""

    paginator = CheapCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100
    #: The columns the change list reads; empty reads them all.
    changelist_columns = ()

    def get_changelist(self, request, **kwargs):
        return ColumnsChangeList


# --- JSON shown read-only ---------------------------------------------------------------------


def pretty_json(value):
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return format_html('<pre style="margin: 0; white-space: pre-wrap">{}</pre>', text)


def json_display(model, attr):
    """A read-only display of a JSON column, pretty-printed (the stock display is one long line)."""

    @admin.display(description=model._meta.get_field(attr).verbose_name)
    def display(obj):
        value = getattr(obj, attr)
        return "-" if value is None else pretty_json(value)

    display.__name__ = f"{attr}_json"
    return display


class JsonReadOnlyMixin:
    """For a user who may only view (the Support group), show ``json_fields`` pretty-printed."""

    json_fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.json_displays = {attr: json_display(self.model, attr) for attr in self.json_fields}

    def is_view_only(self, request, obj):
        return obj is not None and not self.has_change_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self.is_view_only(request, obj):
            return fieldsets
        return [(name, {**options, "fields": self._swap(options["fields"])}) for name, options in fieldsets]

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if self.is_view_only(request, obj):
            fields += tuple(self.json_displays.values())
        return fields

    def _swap(self, fields):
        return [
            self._swap(field) if isinstance(field, (list, tuple)) else self.json_displays.get(field, field)
            for field in fields
        ]


# --- history ----------------------------------------------------------------------------------


def _one_line(value):
    text = " ".join(str(value).split())
    return text if len(text) <= CHANGE_VALUE_LENGTH else text[: CHANGE_VALUE_LENGTH - 1] + "…"


def describe_changes(form):
    """``['Status ("available" → "error")', …]``: each changed field with its old and new value."""
    changes = []
    for name in form.changed_data:
        field = form.fields[name]
        if isinstance(field, JsonValueField):
            old = field.describe(form.stored_values.get(name))
            new = field.describe(form.cleaned_data.get(name))
        else:
            old, new = form.initial.get(name), form.cleaned_data.get(name)
        changes.append(f"{field.label or name} ({_one_line(old)} → {_one_line(new)})")
    return changes


class ValueChangeMessageMixin:
    """History entries in the admin's own structure, each changed field with its values."""

    def construct_change_message(self, request, form, formsets, add=False):
        if add:
            return construct_change_message(form, formsets, add)
        message = []
        if form.changed_data:
            message.append({"changed": {"fields": describe_changes(form)}})
        for formset in formsets:
            forms = {id(child_form.instance): child_form for child_form in formset.initial_forms}
            for obj in formset.new_objects:
                message.append({"added": _named(obj)})
            for obj, _ in formset.changed_objects:
                message.append({"changed": {**_named(obj), "fields": describe_changes(forms[id(obj)])}})
            for obj in formset.deleted_objects:
                message.append({"deleted": _named(obj)})
        return message


def _named(obj):
    return {"name": str(obj._meta.verbose_name), "object": str(obj)}


# --- checkpoint items -------------------------------------------------------------------------

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


class InlineJsonReadOnlyMixin(JsonReadOnlyMixin):
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


@admin.action(description="Export selected items as CSBS JSON")
def export_csbs_json(modeladmin, request, queryset):
    """The import format, ``{"checkpoint_items": [...]}``, joined from the stored ``document``s."""
    documents = queryset.values_list("document", flat=True).iterator(chunk_size=1000)
    response = StreamingHttpResponse(checkpoint_items_stream(documents), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="checkpoint_items.json"'
    return response


@admin.register(CheckpointItem)
class CheckpointItemAdmin(
    ValueChangeMessageMixin, JsonReadOnlyMixin, TermSearchMixin, BigTableAdminMixin, admin.ModelAdmin
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

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        warn_kept_as_given(self, request, form)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Children saved one by one re-render the document as they go; this pins the final state.
        form.instance.refresh_document()


def warn_kept_as_given(model_admin, request, form):
    """Say which values the edit kept as given: the API returns them, filters cannot match them."""
    paths = sorted({path for path, what in form.loose if what != REWRITTEN})
    if paths:
        model_admin.message_user(
            request,
            "Kept as given, as the import would (their columns cannot hold them, so filters and sorts "
            f"treat them as absent): {', '.join(paths)}.",
            level=messages.WARNING,
        )


# --- volume backups and replication records on their own ----------------------------------------


class ChildAdmin(
    ValueChangeMessageMixin, JsonReadOnlyMixin, TermSearchMixin, BigTableAdminMixin, admin.ModelAdmin
):
    """A volume backup or replication record on its own page; the item is chosen by id."""

    raw_id_fields = ("item",)
    list_select_related = ("item",)

    @admin.display(description="item", ordering="item")
    def item_link(self, obj):
        url = reverse("admin:backups_checkpointitem_change", args=[quote(obj.item_id)])
        return format_html('<a href="{}">{}</a>', url, obj.item.name or obj.item_id)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        warn_kept_as_given(self, request, form)

    def get_readonly_fields(self, request, obj=None):
        # Moving a child to another item would leave the first item's document stale.
        fields = super().get_readonly_fields(request, obj)
        return (*fields, *(("item",) if obj is not None else ()))

    def delete_queryset(self, request, queryset):
        # A bulk delete bypasses the model's delete(), which keeps the item's document current.
        item_ids = set(queryset.values_list("item_id", flat=True))
        super().delete_queryset(request, queryset)
        for item in CheckpointItem.objects.filter(pk__in=item_ids):
            item.refresh_document()


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


# --- access -----------------------------------------------------------------------------------


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by ``manage.py create_token`` (the key is shown once, there); revoke = delete.

    Only the SHA-256 of a key is stored; this page shows neither the key nor its hash.
    """

    list_display = ("prefix", "user", "project_id", "is_admin", "created_at", "expires_at", "active")
    list_filter = ("is_admin",)
    list_select_related = ("user",)
    search_fields = ("prefix", "user__username", "project_id")
    fields = ("prefix", "user", "project_id", "is_admin", "created_at", "expires_at")
    readonly_fields = ("prefix", "user", "project_id", "is_admin", "created_at")

    @admin.display(boolean=True, description="active")
    def active(self, obj):
        return not obj.is_expired

    def has_add_permission(self, request):
        return False


@admin.register(ProjectMembership)
class ProjectMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "project_id")
    list_select_related = ("user",)
    search_fields = ("user__username", "project_id")
    autocomplete_fields = ("user",)
