"""The API's side of tenancy (``backups.tenancy``): its checks in API.md's order, as CSBS errors.

Authentication (401) and the path's project (403) run as the DRF permission ``ProjectPermission``;
the parameters (400) and then ``require_all_tenants`` (403) run in ``CheckpointItemViewSet.initial``.
"""
from rest_framework import permissions

from backups.tenancy import caller_is_admin, caller_may_read

from .errors import CSBSError


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
