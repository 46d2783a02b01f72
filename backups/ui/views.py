"""The browse pages: each view wires the request to its page module in ``backups.ui`` and renders a template.

Access (``backups.tenancy.ProjectAccess``): login, the view permission, and a readable
``project`` (the user's first membership by default; staff read every project).
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from backups.listing.parameters import PROJECT_PARAMETER
from backups.tenancy import ProjectAccess, ProjectNotReadable

from . import csv_export, detail, list_page, overview
from .context import VIEW_PERMISSION, page_parameters, query_status


def browse_view(view):
    """Login, the view permission and a readable project; otherwise a page that says what is missing."""

    @wraps(view)
    @login_required
    @require_safe
    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm(VIEW_PERMISSION):
            return render(request, "backups/no_access.html", status=403)
        try:
            access = ProjectAccess.for_user(request.user, request.GET.get(PROJECT_PARAMETER))
        except ProjectNotReadable as error:
            return render(request, "backups/no_access.html", {"project": error.project}, status=403)
        if access.project is None:
            return render(request, "backups/no_project.html", {"access": access})
        return view(request, access, *args, **kwargs)

    return wrapper


@browse_view
def checkpoint_item_list(request, access):
    context, status = list_page.list_context(request, access, page_parameters(request.GET))
    return render(request, "backups/list.html", context, status=status)


@browse_view
def checkpoint_item_overview(request, access):
    context, status = overview.overview_context(request, access, page_parameters(request.GET))
    return render(request, "backups/overview.html", context, status=status)


@browse_view
def checkpoint_item_export(request, access):
    query = page_parameters(request.GET)
    if query_status(access, query) != 200:  # the list page explains what is wrong
        return redirect(f"{reverse('backups:list')}?{request.GET.urlencode()}")
    lines = csv_export.csv_lines(query.filter(access.scope(query.all_tenants)), query.ordering)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    filename = csv_export.csv_filename(access, query, timezone.now())
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@browse_view
def checkpoint_item_detail(request, access, item_id):
    item = detail.checkpoint_item_for(access, item_id)
    if item is None:
        return render(request, "backups/not_found.html", {"item_id": item_id}, status=404)
    return render(request, "backups/detail.html", detail.detail_context(request, access, item))
