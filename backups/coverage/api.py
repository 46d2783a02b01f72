"""``GET /ext/v1/{project_id}/coverage``: the report as JSON, with the CSBS API's auth, tenancy and errors.

The path sits under the service's own extension prefix ``/ext/v1/``, not under CSBS's ``/v1/``
(whose unknown paths stay CSBS 404s). Checks in the list's order: authentication (401), the
path's project (403, ``ProjectPermission``), parameters (400). ``all_tenants=true`` widens the
scope to every project the caller may read (``readable_projects``) — never beyond.
"""

from django.http import JsonResponse
from django.utils import timezone
from django.utils.http import urlencode
from rest_framework.views import APIView

from ..api.errors import InvalidParameter
from ..api.permissions import ProjectPermission
from ..api.viewsets import JSONOnlyNegotiation
from ..listing.selectors import checkpoint_item_scope
from ..models import ApiToken, ProjectMembership
from ..tenancy import caller_is_admin
from .openapi import coverage_schema
from .parameters import CoverageParameters
from .report import coverage_report
from .responses import report_body


def readable_projects(request):
    """``None`` for every project (admin token, staff), else what the caller may read, as a filter value."""
    if caller_is_admin(request):
        return None
    if isinstance(request.auth, ApiToken):
        return [request.auth.project_id]
    return ProjectMembership.objects.filter(user=request.user).values("project_id")


def coverage_scope(request, project_id, all_tenants):
    """The backups the report counts: the live items (``checkpoint_item_scope``: an item its sync
    source no longer lists protects nothing) of the project, or of every project the caller reads."""
    if not all_tenants:
        return checkpoint_item_scope(project_id)
    live = checkpoint_item_scope(None, all_tenants=True)
    projects = readable_projects(request)
    return live if projects is None else live.filter(project_id__in=projects)


def parameters_from(params):
    """The report's parameters; ``InvalidParameter`` (400) naming whatever is wrong."""
    parameters = CoverageParameters.read(params)
    if problem := parameters.problem():
        raise InvalidParameter(problem)
    return parameters


def next_link(request, report):
    """``Link: <same query, offset moved on>; rel="next"`` while rows remain."""
    params = {name: request.query_params.get(name) for name in request.query_params}
    params["offset"] = str(report.query.offset + report.query.limit)
    return f'<{request.build_absolute_uri(request.path)}?{urlencode(params)}>; rel="next"'


class CoverageView(APIView):
    """``GET /ext/v1/{project_id}/coverage``; anything but GET and HEAD is 405 CSBS.9405, as in the list."""

    permission_classes = [ProjectPermission]
    content_negotiation_class = JSONOnlyNegotiation
    http_method_names = ["get", "head"]

    @coverage_schema
    def get(self, request, project_id):
        parameters = parameters_from(request.query_params)
        scope = coverage_scope(request, project_id, parameters.all_tenants)
        report = coverage_report(parameters.query(scope, timezone.now()))
        response = JsonResponse(report_body(report), json_dumps_params={"ensure_ascii": False})
        if report.has_next:
            response["Link"] = next_link(request, report)
        return response
