"""One resource's backup history as a timeline picture: the geometry of a server-rendered SVG.

The x axis runs from ``start`` to ``as_of`` (UTC); each backup is a mark at its ``created_at``,
coloured by status (the overview's colours), failures drawn taller; a backup replicated
successfully has a second mark in the replication lane above. The coverage window
``[as_of - days, as_of]`` is shaded, so a gap without a good backup in it shows at a glance.
"""

import datetime as dt
from dataclasses import dataclass, field

from .report import earlier

WIDTH = 760
HEIGHT = 150
LEFT = 14
RIGHT = 14
REPLICATION_Y = 34
BACKUP_Y = 78
AXIS_Y = 112
MIN_SPAN_DAYS = 30
MAX_SPAN_DAYS = 366


def span_days(days):
    """How many days the picture shows: three coverage windows, at least a month, at most a year."""
    return max(MIN_SPAN_DAYS, min(MAX_SPAN_DAYS, 3 * days))


@dataclass
class Timeline:
    start: dt.datetime
    as_of: dt.datetime
    window_x: float
    marks: list = field(default_factory=list)  # {"id", "x", "left", "y", "height", "status", "title", …}
    ticks: list = field(default_factory=list)  # {"x", "label"}
    width: int = WIDTH
    height: int = HEIGHT
    replication_y: int = REPLICATION_Y
    backup_y: int = BACKUP_Y
    axis_y: int = AXIS_Y

    @property
    def plot_right(self):
        return self.width - RIGHT

    @property
    def window_width(self):
        return round(self.plot_right - self.window_x, 2)


def timeline(history, *, as_of, days):
    """The picture of ``history`` (``report.resource_history`` rows) over ``span_days(days)``."""
    start = earlier(as_of, span_days(days))
    plot = WIDTH - LEFT - RIGHT
    seconds = (as_of - start).total_seconds()

    def x_of(moment):
        return round(LEFT + (moment - start).total_seconds() / seconds * plot, 2)

    result = Timeline(start, as_of, x_of(earlier(as_of, days)))
    for backup in history:
        failed = backup["status"] == "error"
        result.marks.append(
            {
                "id": backup["id"],
                "x": x_of(backup["created_at"]),
                "left": round(x_of(backup["created_at"]) - 2, 2),
                "y": BACKUP_Y - (16 if failed else 10),
                "height": 32 if failed else 20,
                "status": backup["status"],
                "title": f"{backup['created_at']:%Y-%m-%d %H:%M} UTC: {backup['status']}"
                + (f" ({backup['fail_reason']})" if failed and backup["fail_reason"] else "")
                + (", replicated" if backup["replicated"] else ""),
                "replicated": backup["replicated"],
            }
        )
    first_tick = (start + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    every = max(1, round(span_days(days) / 8))
    tick = first_tick
    while tick <= as_of:
        result.ticks.append({"x": x_of(tick), "label": tick.strftime("%m-%d")})
        tick += dt.timedelta(days=every)
    return result
