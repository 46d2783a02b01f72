"""The overview page: items per UTC day and status as stacked bars, over the current filter.

One ``GROUP BY (TruncDate(created_at), status)`` over the current filter, by UTC day; with no
``start_time`` the last 30 days; at most ``OVERVIEW_MAX_DAYS`` days are drawn.
"""
import datetime as dt
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from backups import choices

from .context import form_context, query_status
from .links import Links, request_params

OVERVIEW_DEFAULT_DAYS = 30


OVERVIEW_MAX_DAYS = 366


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
    counts = _counts_by_day(query.filter(scope), first_day, last_day)
    days = [first_day + dt.timedelta(days=i) for i in range(max((last_day - first_day).days + 1, 0))]
    totals = {}
    for per_status in counts.values():
        for status, n in per_status.items():
            totals[status] = totals.get(status, 0) + n
    scale_top = _nice_ceiling(max((sum(c.values()) for c in counts.values()), default=0))
    result = Overview(first_day, last_day, [], totals, sum(totals.values()), clamped, [])
    step = (CHART_WIDTH - CHART_LEFT - 8) / max(len(days), 1)
    label_every = max(1, round(len(days) / 10))
    for index, day in enumerate(days):
        bar = _day_bar(result, day, counts.get(day, {}), index, step, scale_top, label_every, links)
        result.days.append(bar)
    baseline = CHART_TOP + result.plot_height
    for fraction in (0, 0.5, 1):
        value = scale_top * fraction
        result.ticks.append({"value": f"{value:g}", "y": round(baseline - fraction * result.plot_height, 2)})
    return result


def _counts_by_day(queryset, first_day, last_day):
    """``{day: {status: n}}`` of the items created in the window (one GROUP BY query)."""
    grouped = (
        queryset.filter(
            created_at__gte=_midnight(first_day), created_at__lt=_midnight(last_day + dt.timedelta(days=1))
        )
        .annotate(day=TruncDate("created_at"))
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
    return counts


def _day_bar(result, day, per_status, index, step, scale_top, label_every, links):
    """One day's stacked bar: its segments bottom up, its label and the link to that day's list."""
    bar_width = max(step * 0.75, 1)
    x = CHART_LEFT + index * step + (step - bar_width) / 2
    y = CHART_TOP + result.plot_height
    bars = []
    for status in OVERVIEW_STATUSES:
        n = per_status.get(status, 0)
        if not n:
            continue
        height = n / scale_top * result.plot_height
        y -= height
        bars.append({"status": status, "n": n, "y": round(y, 2), "height": round(height, 2)})
    return {
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


def overview_context(request, access, query, now=None):
    status = query_status(access, query)
    _, context = form_context(request, access, query)
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
