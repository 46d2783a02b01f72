"""Template helpers of the browse pages: UTC times, status badges, field values, sizes."""

import datetime as dt
import json

from django import template

from backups import choices
from backups.ui.detail import KeptAsGiven

register = template.Library()

STATUS_LABELS = dict(choices.ItemStatus.choices)


@register.filter
def utc(value):
    """``2017-04-15 04:20:37 UTC``; blank for ``None``."""
    if not isinstance(value, dt.datetime):
        return ""
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@register.filter
def utc_short(value):
    """``2017-04-15 04:20:37``, for table cells whose header names the zone."""
    if not isinstance(value, dt.datetime):
        return ""
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


@register.filter
def iso_utc(value):
    """The machine-readable form for ``<time datetime=…>``."""
    if not isinstance(value, dt.datetime):
        return ""
    return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


@register.filter
def status_label(value):
    return STATUS_LABELS.get(value, value)


@register.filter
def short_id(value):
    """The first characters of a long id (a UUID's first group), for tables; the full id goes in a title."""
    value = value or ""
    return value if len(value) <= 12 else value[:8] + "…"


@register.filter
def get_item(mapping, key):
    return mapping.get(key)


@register.filter
def thousands(value):
    """``10000`` -> ``10,000``."""
    return f"{value:,}"


@register.filter
def megabytes(value):
    """A size given in MB, in the largest unit that keeps it ≥ 1 (``0 MB`` stays ``0 MB``)."""
    if value is None:
        return ""
    size = float(value)
    for unit in ("MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "MB" else f"{size:,.1f} {unit}"
        size /= 1024
    return ""


@register.inclusion_tag("backups/_status_badge.html")
def status_badge(status, progress=None):
    running = status in choices.RUNNING_STATUSES
    return {
        "status": status,
        "label": STATUS_LABELS.get(status, status),
        "running": running,
        "progress": max(0, min(100, progress)) if running and progress is not None else None,
    }


@register.inclusion_tag("backups/_value.html")
def field_value(value):
    """One value of the item, by its JSON type; objects and arrays as compact JSON. A value kept
    as given (``ui.detail.KeptAsGiven``) is shown as given, marked: filters do not match it."""
    if isinstance(value, KeptAsGiven):
        return {**field_value(value.value), "as_given": True}
    if isinstance(value, (dict, list)):
        kind, text = "json", json.dumps(value, ensure_ascii=False)
    elif isinstance(value, bool):
        kind, text = "bool", "true" if value else "false"
    elif isinstance(value, dt.datetime):
        kind, text = "time", value
    elif value is None:
        kind, text = "null", None
    elif value == "":
        kind, text = "empty", ""
    else:
        kind, text = "text", value
    return {"kind": kind, "value": text}
