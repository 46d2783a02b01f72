"""The mirror in the admin: sources (editable), runs (read-only), and synced items shown read-only.

An item that came from a source belongs to it: an edit would be overwritten by the next run, so
the admin shows it (and its volume backups and replication records) read-only, with its source and
when it was last seen. Imported items and items made here stay editable.
"""
from django.contrib import admin
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from . import freshness
from .models import Sighting, SyncRun, SyncSource

ORIGIN_FIELDS = ("source", "last_seen", "gone_at")


def _synced(obj):
    """Whether ``obj`` (an item, or a volume backup / replication record) comes from a source."""
    if obj is None:
        return False
    if hasattr(obj, "gone_at"):
        return obj.source_id is not None
    return obj.item.source_id is not None


class OriginFilter(admin.SimpleListFilter):
    """By origin: one source, imports and admin edits, or gone upstream (sources from the cached states)."""

    title = "origin"
    parameter_name = "origin"

    def lookups(self, request, model_admin):
        return [("none", "imported or made here"), ("gone", "gone upstream"),
                *((str(state.pk), f"source {state.name}") for state in freshness.states())]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(source__isnull=True)
        if value == "gone":
            return queryset.filter(gone_at__isnull=False)
        if value and value.isdigit():
            return queryset.filter(source_id=int(value))
        return queryset


class SyncedItemAdminMixin:
    """For ``CheckpointItemAdmin``: synced items are view-only and show their origin."""

    def has_change_permission(self, request, obj=None):
        return not _synced(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _synced(obj) and super().has_delete_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            description = (
                "Mirrored from its source: change it upstream; the next run would overwrite an edit here."
                if obj.source_id else "Imported or made here: no source overwrites it."
            )
            fieldsets.insert(1, ("Origin", {"fields": list(ORIGIN_FIELDS), "description": description}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *ORIGIN_FIELDS)

    @admin.display(description="last seen by its source")
    def last_seen(self, obj):
        sighting = Sighting.objects.filter(item=obj).values_list("seen_at", flat=True).first()
        return sighting or "-"

    def get_list_filter(self, request):
        return (*super().get_list_filter(request), OriginFilter)


class SyncedChildAdminMixin:
    """For the volume backup and replication record admins: read-only under a synced item."""

    def has_change_permission(self, request, obj=None):
        return not _synced(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _synced(obj) and super().has_delete_permission(request, obj)


class SyncedInlineMixin(SyncedChildAdminMixin):
    """For their inlines (``obj`` is the item): no row added, changed or deleted under a synced item."""

    def has_add_permission(self, request, obj=None):
        return not _synced(obj) and super().has_add_permission(request, obj)


class SyncRunInline(admin.TabularInline):
    model = SyncRun
    fields = ("started_at", "status", "pages", "items_seen", "items_created", "items_updated",
              "items_marked_gone", "conflicts", "retries", "throttled", "error_line")
    readonly_fields = fields
    ordering = ("-started_at",)
    extra = 0
    max_num = 0
    show_change_link = True
    can_delete = False
    verbose_name_plural = "latest runs"

    def get_queryset(self, request):
        # The inline shows the latest runs only; the run list has them all.
        queryset = super().get_queryset(request)
        ids = list(queryset.order_by("-started_at").values_list("pk", flat=True)[:10])
        return queryset.filter(pk__in=ids)

    @admin.display(description="error")
    def error_line(self, obj):
        return (obj.error.splitlines() or [""])[0][:120]


@admin.register(SyncSource)
class SyncSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "project_id", "region", "enabled", "interval", "last_success_at",
                    "freshness", "runs_link")
    list_filter = ("kind", "enabled", "auth_method")
    search_fields = ("name", "project_id", "endpoint")
    readonly_fields = ("data_as_of", "last_success_at", "lease_owner", "lease_expires_at", "created_at")
    fieldsets = [
        (None, {"fields": ["name", "kind", "project_id", ("region", "endpoint"), "page_size",
                           ("enabled", "interval")]}),
        ("Authentication: NAMES of environment variables, never their values", {"fields": [
            "auth_method", "token_env", ("iam_endpoint", "username_env", "password_env", "domain_env"),
            ("ak_env", "sk_env", "security_token_env"),
        ]}),
        ("State", {"fields": [("data_as_of", "last_success_at"), ("lease_owner", "lease_expires_at"),
                              "created_at"]}),
    ]
    inlines = [SyncRunInline]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs["assume_scheme"] = "https"  # a bare host means the cloud's https endpoint
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="freshness")
    def freshness(self, obj):
        if obj.last_success_at is None:
            return "never synced"
        stale = timezone.now() - obj.last_success_at > 2 * obj.interval
        return "STALE" if stale else "fresh"

    @admin.display(description="runs")
    def runs_link(self, obj):
        url = reverse("admin:backups_syncrun_changelist") + f"?source__id__exact={obj.pk}"
        return format_html('<a href="{}">runs</a>', url)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ("source", "started_at", "status", "duration", "pages", "items_seen", "items_created",
                    "items_updated", "items_marked_gone", "conflicts", "requests", "retries", "throttled",
                    "count_mismatch")
    list_filter = ("status", "source", "count_mismatch")
    list_select_related = ("source",)
    date_hierarchy = "started_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in SyncRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
