"""Who may read what: API tokens (revoke only) and project memberships."""
from django.contrib import admin

from backups.models import ApiToken, ProjectMembership


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
