"""What every browse page needs: the page's parameters and status, the form, the navigation links."""
from django.urls import reverse
from django.utils import timezone

from backups.listing.parameters import ListParameters

from .filter_form import FilterForm
from .links import Links, request_params
from .sorting import preset_links

VIEW_PERMISSION = "backups.view_checkpointitem"


def page_parameters(params):
    """The page's ``ListParameters``: the API's owners, plus ``project`` and ``q``; 25 rows a page."""
    return ListParameters.read(params, for_page=True)


def query_status(access, query):
    """200, 400 (invalid parameters) or 403 (``all_tenants=true`` by a non-staff user, as the API)."""
    if not query.errors and query.all_tenants and not access.may_use_all_tenants():
        query.errors["all_tenants"] = "all_tenants=true is allowed for staff only: pick one of your projects"
        return 403
    return 400 if query.errors else 200


def form_context(request, access, query):
    """``(links, context)``: the filter form, the project picker and the navigation of every page."""
    links = Links(request.path, request_params(request.GET), access.project)
    list_links = Links(reverse("backups:list"), links.params, access.project)
    return links, {
        "access": access,
        "query": query,
        **FilterForm(query).context(),
        "presets": preset_links(links, timezone.now()),
        "any_time_url": links.first_page(start_time=None, end_time=None),
        "list_url": list_links.first_page(),
        "overview_url": list_links.url(reverse("backups:overview"), marker=None, offset=None, limit=None),
        "csv_url": list_links.url(reverse("backups:export"), marker=None, offset=None, limit=None),
        "reset_url": Links(request.path, {}, access.project).url(),
    }
