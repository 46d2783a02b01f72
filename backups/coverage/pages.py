"""The coverage pages: the report (``/coverage/``), one resource (``/coverage/resource/``), the CSV.

Each reads the API's parameters (``CoverageParameters``, plus the pages' ``project``), asks the
one selector (``report.coverage_report``) and renders. Access is the browse pages'
(``backups.ui.views.browse_view``): login, the view permission, a readable ``project``. With
``all_tenants=true`` the report covers every project the user may read: all of them for staff,
the member projects for everyone else (``page_scope``). Invalid parameters: the page with the
messages beside their fields and status 400, as the list does.
"""

import csv
import dataclasses
import shlex

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from ..listing.parameters import PROJECT_PARAMETER
from ..listing.selectors import checkpoint_item_scope
from ..ui.csv_export import csv_cell
from ..ui.links import Links, request_params
from ..ui.views import browse_view
from .parameters import DEFAULT_DAYS, DEFAULT_FAILURES, FILTERS, OWN, CoverageParameters
from .report import (
    ALL,
    ANY,
    CATEGORIES,
    FAILING,
    UNPROTECTED,
    UNREPLICATED,
    age_text,
    coverage_report,
    coverage_rows,
    earlier,
)
from .report import resource_history as history_of
from .responses import CSV_COLUMNS
from .timeline import span_days, timeline

PAGE_SIZE = 50
HISTORY_LIMIT = 1000
HISTORY_TABLE_ROWS = 100
FIELD_PLACEHOLDERS = {
    "days": f"{DEFAULT_DAYS} (default)",
    "failures": f"{DEFAULT_FAILURES} (default)",
    "as_of": "now; e.g. 2026-03-01T00:00Z",
    "resource_type": "e.g. OS::Nova::Server",
    "az": "e.g. cn-north-1a",
}
CATEGORY_LABELS = {
    UNPROTECTED: "No good backup in {days} days",
    FAILING: "Failing {failures}× in a row",
    UNREPLICATED: "Newest not replicated",
    ANY: "Any problem",
    ALL: "All resources",
}


def page_scope(access, all_tenants=False):
    """The backups the report counts: the live items (``checkpoint_item_scope``: an item its sync
    source no longer lists protects nothing) of the page's project, or of every project the user
    may read. The list page shows gone items, marked; the report does not count them."""
    live = checkpoint_item_scope(access.project, all_tenants=all_tenants)
    if not all_tenants or access.is_staff:
        return live
    return live.filter(project_id__in=access.projects)


def read(request, default_limit=PAGE_SIZE):
    return CoverageParameters.read(request.GET, also_known=(PROJECT_PARAMETER,), default_limit=default_limit)


def form_fields(parameters):
    """The report's own parameters and the filters, as ``_field.html`` controls."""
    names = [name for name in OWN if name != "category"] + [n for n in FILTERS if n != "all_tenants"]
    fields = []
    for name in names:
        bound = parameters.form[name] if name in OWN else parameters.filterset.form[name]
        fields.append(
            {
                "name": name,
                "id": f"f-{name}",
                "label": bound.label or name,
                "value": parameters.params.get(name, ""),
                "choices": None,
                "placeholder": FIELD_PLACEHOLDERS.get(name, ""),
                "error": parameters.errors.get(name),
            }
        )
    return fields


def _links(request, access, path=None):
    return Links(path or request.path, request_params(request.GET), access.project)


def backups_url(parameters, row):
    """The resource's backups in the list: its id, the filters given, and ``end_time`` for ``as_of``."""
    given = {name: parameters.params.get(name) for name in FILTERS if name != "all_tenants"}
    given.update(resource_id=row.resource_id, end_time=parameters.params.get("as_of"))
    return Links(reverse("backups:list"), given, row.project_id).url()


def resource_url(parameters, row):
    names = [name for name in (*OWN, *FILTERS) if name not in ("category", "all_tenants")]
    kept = {name: parameters.params.get(name) for name in names}
    kept["resource_id"] = row.resource_id
    return Links(reverse("coverage:resource"), kept, row.project_id).url()


def api_request(request, access, parameters):
    params = {k: v for k, v in request_params(request.GET).items() if v and k != PROJECT_PARAMETER}
    path = reverse("coverage-report", kwargs={"project_id": access.project})
    url = request.build_absolute_uri(path) + ("?" + urlencode(params) if params else "")
    return {"url": url, "curl": f'curl -H "X-Auth-Token: $TOKEN" {shlex.quote(url)}'}


def category_tabs(links, report):
    query = report.query
    return [
        {
            "name": name,
            "label": CATEGORY_LABELS[name].format(days=query.days, failures=query.failures),
            "count": report.counts["resources" if name == ALL else name],
            "url": links.url(category=name if name != ANY else None, offset=None),
            "current": query.category == name,
        }
        for name in (*CATEGORIES, ANY, ALL)
    ]


def _form_context(request, access, parameters):
    return {
        "access": access,
        "parameters": parameters,
        "fields": form_fields(parameters),
        "category_value": parameters.params.get("category", ""),
        "all_tenants_checked": (parameters.params.get("all_tenants") or "").lower() in {"true", "1"},
        "general_error": parameters.unknown_message() if parameters.unknown else None,
        "other_errors": [
            message for name, message in zip(parameters.errors, parameters.error_messages(), strict=True)
            if name in ("limit", "offset", "category", "all_tenants")
        ],
        "has_errors": not parameters.valid,
        "reset_url": Links(request.path, {}, access.project).url(),
        "nav": "coverage",
    }


def report_context(request, access, parameters, now):
    context = _form_context(request, access, parameters)
    if not parameters.valid:
        return context, 400
    report = coverage_report(parameters.query(page_scope(access, parameters.all_tenants), now))
    links = _links(request, access)
    query = report.query
    context.update(
        report=report,
        query=query,
        rows=[
            {
                "row": row,
                "why": row.why(query),
                "resource_url": resource_url(parameters, row),
                "backups_url": backups_url(parameters, row),
                "good_age": age_text(query.as_of - row.last_available_backup.created_at)
                if row.last_available_backup
                else None,
            }
            for row in report.rows
        ],
        tabs=category_tabs(links, report),
        show_project=parameters.all_tenants,
        previous_url=links.url(offset=max(query.offset - query.limit, 0) or None) if query.offset else None,
        next_url=links.url(offset=query.offset + query.limit) if report.has_next else None,
        first_row=query.offset + 1,
        last_row=query.offset + len(report.rows),
        csv_url=_links(request, access, reverse("coverage:export")).url(offset=None, limit=None),
        api=api_request(request, access, parameters),
    )
    return context, 200


@browse_view
def coverage_page(request, access):
    context, status = report_context(request, access, read(request), timezone.now())
    return render(request, "backups/coverage.html", context, status=status)


@browse_view
def coverage_resource(request, access):
    """One resource: its row of the report (the same selector) and its history as a timeline."""
    parameters = read(request)
    context = _form_context(request, access, parameters)
    resource_id = parameters.params.get("resource_id", "")
    if not parameters.valid or not resource_id:
        context["missing_resource"] = not resource_id
        return render(request, "backups/coverage_resource.html", context, status=400)
    query = dataclasses.replace(
        parameters.query(page_scope(access), timezone.now()), category=ALL, limit=1, offset=0
    )
    report = coverage_report(query)
    if not report.rows:
        context["not_found"] = resource_id
        return render(request, "backups/coverage_resource.html", context, status=404)
    row = report.rows[0]
    since = earlier(query.as_of, span_days(query.days))
    history = history_of(query, row.project_id, row.resource_id, since, HISTORY_LIMIT)
    context.update(
        query=query,
        row=row,
        why=row.why(query),
        picture=timeline(history, as_of=query.as_of, days=query.days),
        history=history[:HISTORY_TABLE_ROWS],
        history_total=len(history),
        history_capped=len(history) == HISTORY_LIMIT,
        backups_url=backups_url(parameters, row),
        report_url=Links(reverse("coverage:report"), {}, row.project_id).url(
            **{name: parameters.params.get(name) for name in ("days", "failures", "as_of")}
        ),
    )
    return render(request, "backups/coverage_resource.html", context)


class _Echo:
    def write(self, value):
        return value


def csv_lines(query):
    """The header, then one line per resource of the whole report (every page), streamed."""
    writer = csv.writer(_Echo())
    yield writer.writerow([header for header, _ in CSV_COLUMNS])
    for row in coverage_rows(query):
        yield writer.writerow([csv_cell(cell(row, query)) for _, cell in CSV_COLUMNS])


@browse_view
def coverage_export(request, access):
    from django.http import StreamingHttpResponse

    parameters = read(request)
    if not parameters.valid:  # the page explains what is wrong
        return redirect(f"{reverse('coverage:report')}?{request.GET.urlencode()}")
    now = timezone.now()
    query = parameters.query(page_scope(access, parameters.all_tenants), now, paged=False)
    response = StreamingHttpResponse(csv_lines(query), content_type="text/csv; charset=utf-8")
    scope = "all-projects" if parameters.all_tenants else access.project
    response["Content-Disposition"] = f'attachment; filename="coverage-{scope}-{now:%Y%m%dT%H%M%SZ}.csv"'
    return response
