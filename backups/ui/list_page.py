"""The list page: one keyset page of rows, its navigation, the capped count, the equal API request.

* **Paging** is the API's keyset (``backups.listing.keyset``): "next" is ``marker`` = the page's
  last id; "previous" is the marker found by walking backwards from the page's first row. So every
  page, backwards included, is an ordinary API marker URL.
* **Count** is capped: ``COUNT`` over at most ``COUNT_CAP + 1`` rows of the filtered set (a
  ``LIMIT`` subquery), shown as "10,000+" beyond — bounded work on any table size, the same on
  SQLite and PostgreSQL, never a full ``COUNT(*)``.
* **Quick search** ``q`` (``backups.listing.filtersets.quick_search``) has no API equivalent, so the
  API link leaves it out and offers the API filters it stands for.
"""
import shlex
from dataclasses import dataclass

from django.urls import reverse
from django.utils.http import urlencode

from backups.listing.keyset import PARAMETERS as PAGING_PARAMETERS
from backups.listing.keyset import MarkerNotFound, keyset_page
from backups.listing.parameters import SORT_PARAMETER

from .context import form_context, query_status
from .links import resource_list_url
from .sorting import page_size_links, sort_headers

COUNT_CAP = 10_000


#: The list table's columns: only these are read (never ``document`` or the JSON columns).
LIST_COLUMNS = (
    "id",
    "project_id",
    "name",
    "status",
    "progress",
    "fail_op",
    "fail_reason",
    "resource_id",
    "resource_name",
    "resource_type",
    "resource_az",
    "image_type",
    "created_at",
    "protected_at",
    "size",
    "eip",
    "private_ip",
)


@dataclass
class ListPage:
    rows: list
    limit: int
    next_marker: str | None
    has_previous: bool
    previous_marker: str | None
    count: int
    count_capped: bool


def list_page(query, scope):
    """Rows of the page, where next/previous go, and the capped count: a fixed number of queries.

    Queries: the marker's sort values (with a marker), the page (``limit + 1`` rows, to know if a
    next page exists), the ids before the page (with a marker or offset), the capped count. The
    paging is the API's keyset pager (``backups.listing.keyset.keyset_page``).
    """
    queryset = query.filter(scope)
    page = keyset_page(queryset, scope, query.ordering, query.paging, columns=LIST_COLUMNS, neighbours=True)
    count = queryset.order_by().values("pk")[: COUNT_CAP + 1].count()
    return ListPage(
        rows=page.rows,
        limit=page.limit,
        next_marker=page.next_marker,
        has_previous=page.has_previous,
        previous_marker=page.previous_marker,
        count=min(count, COUNT_CAP),
        count_capped=count > COUNT_CAP,
    )


@dataclass(frozen=True)
class ApiRequest:
    url: str
    count_url: str
    curl: str


def api_request(request, project, query):
    """The API request equal to this page: same parameters, ``project`` in the path."""
    params = query.api_params()
    path = reverse("checkpoint-item-list", kwargs={"project_id": project})
    url = request.build_absolute_uri(path) + "?" + urlencode(params)
    count_params = {k: v for k, v in params.items() if k not in (SORT_PARAMETER, *PAGING_PARAMETERS)}
    count_path = reverse("checkpoint-item-count", kwargs={"project_id": project})
    count_url = request.build_absolute_uri(count_path) + (
        "?" + urlencode(count_params) if count_params else ""
    )
    curl = f'curl -H "X-Auth-Token: $TOKEN" {shlex.quote(url)}'
    return ApiRequest(url, count_url, curl)


def search_refinements(query, links):
    """The API filters a quick search stands for, as links (``q`` itself has no API equivalent)."""
    term = query.search
    if not term:
        return []
    refinements = [
        ("name contains", links.first_page(q=None, name=term)),
        ("resource name contains", links.first_page(q=None, resource_name=term)),
        ("IP is", links.first_page(q=None, ip=term)),
    ]
    return [{"label": label, "term": term, "url": url} for label, url in refinements]


def list_context(request, access, query):
    """``(context, status)`` of the list page: 400/403 with the form errors, else the page."""
    status = query_status(access, query)
    links, context = form_context(request, access, query)
    page = None
    if status == 200:
        try:
            page = list_page(query, access.scope(query.all_tenants))
        except MarkerNotFound as error:
            query.errors["marker"] = str(error)
            context["paging_errors"] = [str(error)]
            context["has_errors"] = True
            status = 400
    for row in page.rows if page else ():
        if row["resource_id"]:
            row["resource_url"] = resource_list_url(row["project_id"], row["resource_id"])
    context.update(
        page=page,
        columns=sort_headers(query, links),
        page_sizes=page_size_links(links, query.paging.limit),
        first_url=links.first_page() if page and page.has_previous else None,
        previous_url=links.url(marker=page.previous_marker, offset=None)
        if page and page.has_previous
        else None,
        next_url=links.url(marker=page.next_marker, offset=None) if page and page.next_marker else None,
        api=api_request(request, access.project, query) if status == 200 else None,
        refinements=search_refinements(query, links),
        show_project=query.all_tenants,
    )
    return context, status
