"""The list's sort headers and sort menu, the time-range presets and the page-size links."""
import datetime as dt

PAGE_SIZES = (10, 25, 50, 100)


#: (label, how far back ``start_time`` goes)
PRESETS = (
    ("Last 24 h", dt.timedelta(hours=24)),
    ("Last 7 days", dt.timedelta(days=7)),
    ("Last 30 days", dt.timedelta(days=30)),
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


SORT_MENU = tuple(
    (f"{key}:{direction}", f"{key.replace('_', ' ')} {'↑' if direction == 'asc' else '↓'} ({direction})")
    for key in SORTABLE_COLUMNS
    for direction in ("desc", "asc")
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
