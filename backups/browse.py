"""The browse pages' logic: whose projects, the page's query (the API's own owners), links, overview, CSV.

Decisions, stated once:

* **Parameters.** A page URL is an API query plus two page-only parameters: ``project`` (the
  path's ``{project_id}`` of the API) and ``q`` (the quick search). Every other parameter is read
  by its API owner — ``CheckpointItemFilterSet`` (filters, ``all_tenants``), ``Ordering.parse``
  (``sort``), ``MarkerPagination.from_params`` (``limit``, ``marker``, ``offset``) — with the API's
  names, rules and messages; an unknown one is refused, as the API does. Only ``limit``'s default
  differs (25 rows, not 1000); the "as an API request" URL always states it.
* **Quick search** ``q``: an exact id, EIP or private IP, or a case-folded substring of the name
  or the resource name (the indexed ``*_folded`` columns). It has no API equivalent (the API ANDs
  its filters), so the API link leaves it out and offers the API filters it stands for.
* **Projects.** Staff read every project and may set ``all_tenants=true``; other users read the
  projects of their ``ProjectMembership`` rows. No ``project``: the user's first membership, else
  (staff) the first project that has items.
* **Paging** is the API's keyset: "next" is ``marker`` = the page's last id. "Previous" is found
  by walking the reversed ordering from the page's first row (``Ordering.reversed``) for
  ``limit + 1`` ids: the one past ``limit`` is the previous page's marker, fewer means the first
  page. So every page, backwards included, is an ordinary API marker URL.
* **Count** is capped: ``COUNT`` over at most ``COUNT_CAP + 1`` rows of the filtered set (a
  ``LIMIT`` subquery), shown as "10,000+" beyond — bounded work on any table size, the same on
  SQLite and PostgreSQL, never a full ``COUNT(*)``.
* **Overview**: one ``GROUP BY (TruncDate(created_at), status)`` over the current filter, by UTC
  day; with no ``start_time`` the last 30 days; at most ``OVERVIEW_MAX_DAYS`` days are drawn.
* **CSV**: every row of the current filter in the current sort, streamed from
  ``values_list(...).iterator(chunk_size=2000)``; text cells that a spreadsheet would run as a
  formula (starting with ``= + - @``, tab or carriage return) are prefixed with ``'``.
"""

import csv
import datetime as dt
import json
import shlex
from dataclasses import dataclass, field

from django import forms
from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from . import choices, schema
from .filters import CheckpointItemFilterSet, StringField
from .models import ID_LENGTH, CheckpointItem, ProjectMembership, fold, is_project_id
from .pagination import PARAMETERS as PAGING_PARAMETERS
from .pagination import MarkerNotFound, MarkerPagination
from .query import SORT_PARAMETER, ListParameters
from .selectors import checkpoint_item_scope
from .sorting import Ordering
from .timestamps import format_timestamp

VIEW_PERMISSION = "backups.view_checkpointitem"

PROJECT_PARAMETER = "project"
SEARCH_PARAMETER = "q"
PAGE_ONLY_PARAMETERS = (PROJECT_PARAMETER, SEARCH_PARAMETER)

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25
COUNT_CAP = 10_000

#: (label, how far back ``start_time`` goes)
PRESETS = (
    ("Last 24 h", dt.timedelta(hours=24)),
    ("Last 7 days", dt.timedelta(days=7)),
    ("Last 30 days", dt.timedelta(days=30)),
)
OVERVIEW_DEFAULT_DAYS = 30
OVERVIEW_MAX_DAYS = 366

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
    "gone_at",
)

#: Sort keys offered by the table headers and the sort menu -> direction of the first click.
SORTABLE_COLUMNS = {
    "name": "asc",
    "status": "asc",
    "created_at": "desc",
    "updated_at": "desc",
    "protected_at": "desc",
    "id": "asc",
}

#: CSV header -> model field.
CSV_COLUMNS = (
    ("id", "id"),
    ("name", "name"),
    ("status", "status"),
    ("project", "project_id"),
    ("resource_id", "resource_id"),
    ("resource_name", "resource_name"),
    ("resource_type", "resource_type"),
    ("az", "resource_az"),
    ("image_type", "image_type"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
    ("protected_at", "protected_at"),
    ("size", "size"),
    ("fail_op", "fail_op"),
    ("fail_reason", "fail_reason"),
    ("eip", "eip"),
    ("private_ip", "private_ip"),
    ("checkpoint_id", "checkpoint_id"),
    ("policy_id", "policy_id"),
)
CSV_CHUNK_SIZE = 2000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: Form controls that are select boxes rather than text inputs: name -> ((value, label), ...).
FILTER_SELECTS = {
    "status": tuple(choices.ItemStatus.choices),
    "image_type": tuple(choices.ImageType.choices),
    "dec": (("true", "Yes"), ("false", "No")),
}
FILTER_PLACEHOLDERS = {
    "start_time": "e.g. 2017-04-18T01:21 (UTC)",
    "end_time": "e.g. 2017-04-18T23:59 (UTC)",
    "resource_type": "e.g. OS::Nova::Server",
    "ip": "e.g. 192.168.0.10",
}
#: Filters shown above the fold; the others sit in "More filters".
MAIN_FILTERS = ("status", "start_time", "end_time")


# --- who may read what ----------------------------------------------------------------------------


class ProjectNotReadable(Exception):
    """The requested ``project`` is not one the user may read (or not a project id at all)."""

    def __init__(self, project):
        super().__init__(project)
        self.project = project


def all_project_ids():
    """Every project that has items, sorted: one index probe per project, not a scan of the items.

    A loose index scan (recursive ``MIN(project_id) > previous``) over the ``(project_id, …)``
    indexes; the same SQL runs on SQLite and PostgreSQL.
    """
    table = connection.ops.quote_name(CheckpointItem._meta.db_table)
    sql = f"""
        WITH RECURSIVE projects(project_id) AS (
            SELECT MIN(project_id) FROM {table}
            UNION ALL
            SELECT (SELECT MIN(i.project_id) FROM {table} i WHERE i.project_id > projects.project_id)
            FROM projects WHERE projects.project_id IS NOT NULL
        )
        SELECT project_id FROM projects WHERE project_id IS NOT NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class ProjectAccess:
    """The projects a user may pick, the one picked, and whether they may read all of them."""

    projects: tuple
    project: str | None
    is_staff: bool

    @classmethod
    def for_user(cls, user, requested=None):
        """Raise ``ProjectNotReadable`` for a ``requested`` project the user may not read."""
        # In the order they were granted: the first is the user's "own" project, the default.
        memberships = list(
            ProjectMembership.objects.filter(user=user).order_by("pk").values_list("project_id", flat=True)
        )
        projects = sorted({*memberships, *all_project_ids()} if user.is_staff else memberships)
        if requested:
            if not is_project_id(requested) or not (user.is_staff or requested in projects):
                raise ProjectNotReadable(requested)
            if requested not in projects:  # staff may look at a project that has no items yet
                projects = sorted([*projects, requested])
            return cls(tuple(projects), requested, user.is_staff)
        default = memberships[0] if memberships else (projects[0] if projects else None)
        return cls(tuple(projects), default, user.is_staff)

    def scope(self, all_tenants=False):
        """The items this page may show (``all_tenants`` only once checked against ``is_staff``)."""
        return checkpoint_item_scope(self.project, all_tenants=all_tenants, include_gone=True)

    def visible_items(self):
        """Items of any project the user may read: the detail page's scope."""
        if self.is_staff:
            return CheckpointItem.objects.all()
        return CheckpointItem.objects.filter(project_id__in=self.projects)


# --- the page's query -----------------------------------------------------------------------------


def quick_search_condition(term):
    """``q``: exact id, EIP or private IP, or folded substring of the name or resource name."""
    folded = fold(term)
    return (
        Q(pk=term)
        | Q(eip=term)
        | Q(private_ip=term)
        | Q(name_folded__contains=folded)
        | Q(resource_name_folded__contains=folded)
    )


@dataclass
class BrowseQuery:
    """One page request read by the API's owners; ``errors`` maps a parameter to its message."""

    params: QueryDict
    filterset: CheckpointItemFilterSet
    ordering: Ordering
    paging: MarkerPagination
    search: str
    sort_given: bool
    errors: dict = field(default_factory=dict)

    @classmethod
    def from_params(cls, params):
        read = ListParameters.read(params, also_known=PAGE_ONLY_PARAMETERS, default_limit=DEFAULT_PAGE_SIZE)
        errors = {"__all__": read.unknown_message()} if read.unknown else {}
        errors.update(read.errors)
        search = ""
        try:
            search = StringField(required=False).clean(params.get(SEARCH_PARAMETER, ""))
        except forms.ValidationError as error:
            errors[SEARCH_PARAMETER] = " ".join(error.messages)
        sort_given = bool((params.get(SORT_PARAMETER) or "").strip())
        return cls(params, read.filterset, read.ordering, read.pagination, search, sort_given, errors)

    @property
    def all_tenants(self):
        return not self.errors and bool(self.filterset.form.cleaned_data.get("all_tenants"))

    def filtered(self, scope):
        """``scope`` narrowed by the filters and the quick search (only when there are no errors)."""
        queryset = self.filterset.filter_queryset(scope)
        if self.search:
            queryset = queryset.filter(quick_search_condition(self.search))
        return queryset

    def cleaned_value(self, name):
        return self.filterset.form.cleaned_data.get(name) if not self.errors else None

    def api_params(self):
        """The API's parameters of this page, in declaration order, empty ones left out."""
        names = [*self.filterset.filters, SORT_PARAMETER, *PAGING_PARAMETERS]
        params = {name: self.params.get(name) for name in names if self.params.get(name)}
        params.setdefault("limit", str(self.paging.limit))  # the page's default is not the API's
        return params


class Links:
    """URLs of this page with some parameters changed; empty values are left out of every link."""

    def __init__(self, path, params, project):
        self.path = path
        self.params = {name: value for name, value in params.items() if value}
        if project:
            self.params[PROJECT_PARAMETER] = project

    def url(self, path=None, **changes):
        params = dict(self.params)
        for name, value in changes.items():
            if value is None or value == "":
                params.pop(name, None)
            else:
                params[name] = value
        query = urlencode(params)
        return f"{path or self.path}?{query}" if query else (path or self.path)

    def first_page(self, **changes):
        return self.url(marker=None, offset=None, **changes)


def request_params(params):
    """The last value of each parameter, as the API reads them."""
    return {name: params.get(name) for name in params}


# --- the list page --------------------------------------------------------------------------------


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
    next page exists), the ids before the page (with a marker or offset), the capped count.
    """
    queryset = query.filtered(scope)
    ordering, paging = query.ordering, query.paging
    marker_values = paging.marker_values(scope, ordering)
    forward = queryset.annotate(**ordering.aliases()).order_by(*ordering.order_by())
    if marker_values is not None:
        forward = forward.filter(ordering.after(marker_values))
    aliases = list(ordering.aliases())
    rows = list(forward.values(*LIST_COLUMNS, *aliases)[paging.offset : paging.offset + paging.limit + 1])
    has_next = len(rows) > paging.limit
    rows = rows[: paging.limit]
    has_previous, previous_marker = False, None
    if marker_values is not None or paging.offset:
        has_previous = True  # at worst, back to the first page
        if rows:
            backwards = ordering.reversed()
            before = (
                queryset.annotate(**backwards.aliases())
                .order_by(*backwards.order_by())
                .filter(backwards.after({alias: rows[0][alias] for alias in aliases}))
                .values_list("id", flat=True)[: paging.limit + 1]
            )
            before = list(before)
            has_previous = bool(before)
            previous_marker = before[paging.limit] if len(before) > paging.limit else None
    count = queryset.order_by().values("pk")[: COUNT_CAP + 1].count()
    return ListPage(
        rows=rows,
        limit=paging.limit,
        next_marker=rows[-1]["id"] if has_next else None,
        has_previous=has_previous,
        previous_marker=previous_marker,
        count=min(count, COUNT_CAP),
        count_capped=count > COUNT_CAP,
    )


def sort_headers(query, links):
    """For each sortable column: its link (click again to reverse) and its current direction."""
    primary = query.ordering.keys[0]
    headers = {}
    for key, first_direction in SORTABLE_COLUMNS.items():
        if primary.key == key:
            direction = "asc" if primary.descending else "desc"
            current = "descending" if primary.descending else "ascending"
        else:
            direction, current = first_direction, None
        headers[key] = {"url": links.first_page(sort=f"{key}:{direction}"), "aria_sort": current}
    return headers


def preset_links(links, now):
    """Time-range presets: ``start_time`` = now minus the range (to the minute, UTC), no ``end_time``."""
    presets = []
    for label, delta in PRESETS:
        start = (now - delta).astimezone(dt.timezone.utc).replace(second=0, microsecond=0)
        value = start.strftime("%Y-%m-%dT%H:%MZ")
        presets.append({"label": label, "url": links.first_page(start_time=value, end_time=None)})
    return presets


def page_size_links(links, current):
    return [
        {"size": size, "url": links.first_page(limit=str(size)), "current": size == current}
        for size in sorted({*PAGE_SIZES, current})
    ]


def filter_fields(query):
    """The FilterSet's parameters as form controls: name, label, control, value, choices, error."""
    form = query.filterset.form
    fields = []
    for name, filter_ in query.filterset.filters.items():
        if name == "all_tenants":
            continue  # a checkbox beside the project picker, staff only
        value = query.params.get(name, "")
        select = FILTER_SELECTS.get(name)
        if select is not None and value and value not in {v for v, _ in select}:
            select = (*select, (value, value))  # keep an invalid value visible beside its error
        fields.append(
            {
                "name": name,
                "id": f"f-{name}",
                "label": form[name].label or filter_.label or name,
                "value": value,
                "choices": select,
                "placeholder": FILTER_PLACEHOLDERS.get(name, ""),
                "error": query.errors.get(name),
                "main": name in MAIN_FILTERS,
            }
        )
    return fields


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


# --- the detail page ------------------------------------------------------------------------------


def checkpoint_item_for(access, item_id):
    """The item with its children (3 queries), or ``None`` when absent or not the user's to see."""
    if len(item_id) > ID_LENGTH or "\x00" in item_id:
        return None
    return (
        access.visible_items()
        .filter(pk=item_id)
        .prefetch_related("volume_backups", "replication_records")
        .first()
    )


def pretty_json(value):
    return json.dumps(value, indent=2, ensure_ascii=False)


def api_detail_body(item):
    """The API's detail response for ``item``, pretty-printed: its stored ``document``, verbatim."""
    return pretty_json({"checkpoint_item": json.loads(item.document)})


def visible_related_ids(access, item):
    """Which ids this item points at (copy source, replicas) the user can open: one query."""
    candidates = {item.copy_from} if item.copy_from else set()
    for record in item.replication_records.all():
        candidates |= {record.source_checkpoint_item_id, record.destination_checkpoint_item_id}
    candidates -= {None, "", item.pk}
    if not candidates:
        return set()
    return set(access.visible_items().filter(pk__in=candidates).values_list("pk", flat=True))


# --- the overview ---------------------------------------------------------------------------------

#: Stacking order, bottom up: failures first so that they sit on the axis, in red.
OVERVIEW_STATUSES = (
    choices.ItemStatus.ERROR,
    choices.ItemStatus.AVAILABLE,
    choices.ItemStatus.WAITING_PROTECT,
    choices.ItemStatus.PROTECTING,
    choices.ItemStatus.WAITING_RESTORE,
    choices.ItemStatus.RESTORING,
    choices.ItemStatus.WAITING_DELETE,
    choices.ItemStatus.DELETING,
    choices.ItemStatus.DELETED,
)

CHART_WIDTH = 760
CHART_HEIGHT = 240
CHART_LEFT = 44
CHART_BOTTOM = 28
CHART_TOP = 12


@dataclass
class Overview:
    first_day: dt.date
    last_day: dt.date
    days: list  # [{"day", "counts": {status: n}, "total", "bars": [...], ...}]
    totals: dict
    total: int
    clamped: bool
    ticks: list
    plot_height: int = CHART_HEIGHT - CHART_BOTTOM - CHART_TOP

    @property
    def legend(self):
        return [
            {"status": status, "label": status.label, "count": self.totals.get(status, 0)}
            for status in OVERVIEW_STATUSES
        ]

    @property
    def failures(self):
        return self.totals.get(choices.ItemStatus.ERROR, 0)

    @property
    def width(self):
        return CHART_WIDTH

    @property
    def height(self):
        return CHART_HEIGHT


def overview_window(query, now):
    """``(first_day, last_day, clamped)``: the chart's UTC days for this query."""
    start = query.cleaned_value("start_time")
    end = query.cleaned_value("end_time") or now
    last_day = end.astimezone(dt.timezone.utc).date()
    if start is None:
        first_day = last_day - dt.timedelta(days=OVERVIEW_DEFAULT_DAYS - 1)
    else:
        first_day = start.astimezone(dt.timezone.utc).date()
    clamped = (last_day - first_day).days + 1 > OVERVIEW_MAX_DAYS
    if clamped:
        first_day = last_day - dt.timedelta(days=OVERVIEW_MAX_DAYS - 1)
    return first_day, last_day, clamped


def _midnight(day):
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.timezone.utc)


def overview(query, scope, links, now):
    """Items per UTC day and status over the window: one GROUP BY query, drawn as stacked bars."""
    first_day, last_day, clamped = overview_window(query, now)
    queryset = query.filtered(scope).filter(
        created_at__gte=_midnight(first_day), created_at__lt=_midnight(last_day + dt.timedelta(days=1))
    )
    grouped = (
        queryset.annotate(day=TruncDate("created_at"))
        .values("day", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {}
    for row in grouped:
        day = row["day"]
        if isinstance(day, str):  # SQLite hands dates back as text in some versions
            day = dt.date.fromisoformat(day)
        counts.setdefault(day, {})[row["status"]] = row["n"]
    number_of_days = max((last_day - first_day).days + 1, 0)
    days = [first_day + dt.timedelta(days=i) for i in range(number_of_days)]
    totals = {}
    for per_status in counts.values():
        for status, n in per_status.items():
            totals[status] = totals.get(status, 0) + n
    peak = max((sum(c.values()) for c in counts.values()), default=0)
    scale_top = _nice_ceiling(peak)
    result = Overview(first_day, last_day, [], totals, sum(totals.values()), clamped, [])
    plot_width = CHART_WIDTH - CHART_LEFT - 8
    step = plot_width / max(len(days), 1)
    bar_width = max(step * 0.75, 1)
    baseline = CHART_TOP + result.plot_height
    label_every = max(1, round(len(days) / 10))
    for index, day in enumerate(days):
        per_status = counts.get(day, {})
        x = CHART_LEFT + index * step + (step - bar_width) / 2
        y = baseline
        bars = []
        for status in OVERVIEW_STATUSES:
            n = per_status.get(status, 0)
            if not n:
                continue
            height = n / scale_top * result.plot_height
            y -= height
            bars.append({"status": status, "n": n, "y": round(y, 2), "height": round(height, 2)})
        result.days.append(
            {
                "day": day,
                "counts": per_status,
                "total": sum(per_status.values()),
                "errors": per_status.get(choices.ItemStatus.ERROR, 0),
                "x": round(x, 2),
                "width": round(bar_width, 2),
                "bars": bars,
                "label": day.strftime("%m-%d") if index % label_every == 0 else "",
                "label_x": round(x + bar_width / 2, 2),
                "url": links.url(
                    reverse("backups:list"),
                    start_time=_midnight(day).strftime("%Y-%m-%dT%H:%MZ"),
                    end_time=(_midnight(day) + dt.timedelta(days=1, microseconds=-1)).strftime(
                        "%Y-%m-%dT%H:%M:%S.%fZ"
                    ),
                    marker=None,
                    offset=None,
                ),
            }
        )
    for fraction in (0, 0.5, 1):
        value = scale_top * fraction
        result.ticks.append({"value": f"{value:g}", "y": round(baseline - fraction * result.plot_height, 2)})
    return result


def _nice_ceiling(value):
    """The smallest of 1, 2, 5 × 10^k at or above ``value`` (a readable top for the y axis)."""
    if value <= 0:
        return 1
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if factor * magnitude >= value:
                return factor * magnitude
        magnitude *= 10


# --- CSV ------------------------------------------------------------------------------------------


def csv_cell(value):
    """One CSV cell: times as the API writes them; text that a spreadsheet would evaluate, quoted."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return format_timestamp(value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose ``write`` hands the line back, so ``csv.writer`` can stream."""

    def write(self, value):
        return value


def csv_lines(queryset, ordering):
    """The header, then one line per item of ``queryset`` in ``ordering``, read 2000 rows at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow([header for header, _ in CSV_COLUMNS])
    rows = ordering.apply(queryset).values_list(*(name for _, name in CSV_COLUMNS))
    for row in rows.iterator(chunk_size=CSV_CHUNK_SIZE):
        yield writer.writerow([csv_cell(value) for value in row])


def csv_filename(access, query, now):
    scope = "all-projects" if query.all_tenants else access.project
    return f"checkpoint_items-{scope}-{now.strftime('%Y%m%dT%H%M%SZ')}.csv"


# --- page contexts (what the views hand to the templates) -----------------------------------------

SORT_MENU = tuple(
    (f"{key}:{direction}", f"{key.replace('_', ' ')} {'↑' if direction == 'asc' else '↓'} ({direction})")
    for key in SORTABLE_COLUMNS
    for direction in ("desc", "asc")
)


def query_status(access, query):
    """200, 400 (invalid parameters) or 403 (``all_tenants=true`` by a non-staff user, as the API)."""
    if not query.errors and query.all_tenants and not access.is_staff:
        query.errors["all_tenants"] = "all_tenants=true is allowed for staff only: pick one of your projects"
        return 403
    return 400 if query.errors else 200


def _form_context(request, access, query):
    """What the filter form, the project picker and the navigation need on every page."""
    links = Links(request.path, request_params(request.GET), access.project)
    fields = filter_fields(query)
    sort_value = query.params.get(SORT_PARAMETER, "")
    sort_menu = list(SORT_MENU)
    if sort_value and sort_value not in {value for value, _ in sort_menu}:
        sort_menu.append((sort_value, sort_value))
    list_links = Links(reverse("backups:list"), links.params, access.project)
    return links, {
        "access": access,
        "query": query,
        "fields": [f for f in fields if f["main"]],
        "more_fields": [f for f in fields if not f["main"]],
        "more_open": any(f["value"] or f["error"] for f in fields if not f["main"]),
        "search": query.params.get(SEARCH_PARAMETER, ""),
        "search_error": query.errors.get(SEARCH_PARAMETER),
        "all_tenants_checked": (query.params.get("all_tenants") or "").lower() in {"true", "1"},
        "all_tenants_error": query.errors.get("all_tenants"),
        "sort_value": sort_value,
        "sort_menu": sort_menu,
        "sort_error": query.errors.get(SORT_PARAMETER),
        "limit_value": query.params.get("limit", ""),
        "paging_errors": [query.errors[name] for name in PAGING_PARAMETERS if name in query.errors],
        "general_error": query.errors.get("__all__"),
        "has_errors": bool(query.errors),
        "presets": preset_links(links, timezone.now()),
        "any_time_url": links.first_page(start_time=None, end_time=None),
        "list_url": list_links.first_page(),
        "overview_url": list_links.url(reverse("backups:overview"), marker=None, offset=None, limit=None),
        "csv_url": list_links.url(reverse("backups:export"), marker=None, offset=None, limit=None),
        "reset_url": Links(request.path, {}, access.project).url(),
    }


def resource_list_url(project, resource_id):
    """Every backup of one resource (server), newest first: "where is last night's backup of X"."""
    return Links(reverse("backups:list"), {}, project).url(resource_id=resource_id)


def list_context(request, access, query):
    """``(context, status)`` of the list page: 400/403 with the form errors, else the page."""
    status = query_status(access, query)
    links, context = _form_context(request, access, query)
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


def overview_context(request, access, query, now=None):
    status = query_status(access, query)
    _, context = _form_context(request, access, query)
    if status == 200:
        list_links = Links(reverse("backups:list"), request_params(request.GET), access.project)
        result = overview(query, access.scope(query.all_tenants), list_links, now or timezone.now())
        window = {
            "start_time": query.params.get("start_time")
            or _midnight(result.first_day).strftime("%Y-%m-%dT%H:%MZ")
        }
        context.update(
            overview=result,
            window_list_url=list_links.first_page(**window),
            window_failures_url=list_links.first_page(status=choices.ItemStatus.ERROR.value, **window),
        )
    return context, status


#: The item's own keys, as the API names them (``policy_id`` is written only when set).
ITEM_DISPLAY_KEYS = (*schema.ITEM_KEYS, schema.POLICY_KEY)
#: extend_info keys with a table of their own on the page.
DETAIL_SKIP = frozenset({"os_images_data"})
#: Child columns that hold the id of another item, linked when the user may open it.
ITEM_ID_COLUMNS = frozenset({"source_checkpoint_item_id", "destination_checkpoint_item_id"})


def section_rows(obj, keys, extra=None, skip=frozenset()):
    """``[(json key, value)]`` of one section of the item, its unlisted keys after the listed ones."""
    rows = [(key.name, getattr(obj, key.attr)) for key in keys if key.name not in skip]
    return rows + sorted((extra or {}).items())


def child_row(obj, keys, visible_ids):
    """A volume backup or replication record as table cells; ``extra`` holds its unlisted keys."""
    cells = []
    for key in keys:
        value = getattr(obj, key.attr)
        link = (
            reverse("backups:detail", args=[value])
            if key.name in ITEM_ID_COLUMNS and value in visible_ids
            else None
        )
        cells.append({"name": key.name, "value": value, "link": link})
    return {"cells": cells, "extra": obj.extra, "obj": obj, "links": {c["name"]: c["link"] for c in cells}}


def table_of_objects(objects):
    """A list of JSON objects (``os_images_data``) as ``(columns, rows)``, columns in first-seen order."""
    columns = []
    for entry in objects:
        columns += [key for key in entry if key not in columns]
    return {"columns": columns, "rows": [[entry.get(column) for column in columns] for entry in objects]}


def detail_context(request, access, item):
    volume_backups = list(item.volume_backups.all())
    replication_records = list(item.replication_records.all())
    visible_ids = visible_related_ids(access, item)
    project_links = Links(reverse("backups:list"), {}, item.project_id)
    return {
        "access": access,
        "item": item,
        "status_label": choices.ItemStatus(item.status).label
        if item.status in choices.ItemStatus.values
        else item.status,
        "summary": section_rows(item, ITEM_DISPLAY_KEYS),
        "backup_data": section_rows(item, schema.BACKUP_DATA_KEYS, item.backup_data_extra),
        "extend_info": section_rows(item, schema.EXTEND_INFO_KEYS, item.extend_info_extra, skip=DETAIL_SKIP),
        "item_extra": sorted(item.extra.items()),
        "volume_columns": [key.name for key in schema.VOLUME_BACKUP_KEYS],
        "volume_backups": [child_row(v, schema.VOLUME_BACKUP_KEYS, visible_ids) for v in volume_backups],
        "replication_columns": [key.name for key in schema.REPLICATION_RECORD_KEYS],
        "replication_records": [
            child_row(r, schema.REPLICATION_RECORD_KEYS, visible_ids) for r in replication_records
        ],
        "os_images": table_of_objects(item.os_images_data or []),
        "fail_code": pretty_json(item.fail_code) if item.fail_code else "",
        "raw_json": api_detail_body(item),
        "api_url": request.build_absolute_uri(
            reverse("checkpoint-item-detail", kwargs={"project_id": item.project_id, "item_id": item.pk})
        ),
        "copy_from_url": reverse("backups:detail", args=[item.copy_from])
        if item.copy_from in visible_ids
        else None,
        "same_resource_url": resource_list_url(item.project_id, item.resource_id)
        if item.resource_id
        else None,
        "same_checkpoint_url": project_links.url(checkpoint_id=item.checkpoint_id)
        if item.checkpoint_id
        else None,
        "same_policy_url": project_links.url(policy_id=item.policy_id) if item.policy_id else None,
        "back_url": project_links.url(),
    }
