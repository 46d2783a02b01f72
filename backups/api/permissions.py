"""Tenancy (API.md): who may read which project, and who may use ``all_tenants``.

A token reads its own project; an admin token (``ApiToken.is_admin``) reads any. A browser session
reads the projects its user belongs to (``ProjectMembership``); staff count as admins. The checks
run in API.md's order: authentication (401), the path's project (403), parameters (400), the
``all_tenants`` permission (403) — the first two here as a DRF permission, the last in
``require_all_tenants``, called once the parameters are valid.
"""
from rest_framework import permissions

from backups.models import ApiToken, ProjectMembership

from .errors import CSBSError


def caller_is_admin(request):
    if isinstance(request.auth, ApiToken):
        return request.auth.is_admin
    return bool(request.user and request.user.is_staff)


def caller_may_read(request, project_id):
    if caller_is_admin(request):
        return True
    if isinstance(request.auth, ApiToken):
        return request.auth.project_id == project_id
    return ProjectMembership.objects.filter(user=request.user, project_id=project_id).exists()


class ProjectPermission(permissions.BasePermission):
    """Authenticated, and allowed to read the ``{project_id}`` of the path."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False  # DRF answers NotAuthenticated: 401
        project_id = view.kwargs["project_id"]
        if not caller_may_read(request, project_id):
            raise CSBSError(403, f"No permission to read project {project_id}")
        return True


def require_all_tenants(request, all_tenants):
    if all_tenants and not caller_is_admin(request):
        raise CSBSError(403, "No permission: all_tenants=true is allowed for admins only")
