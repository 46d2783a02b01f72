"""Instants of the synthetic data: a random one in a range, and the seed's text of one."""
import datetime as dt

from backups.document.timestamps import format_timestamp


def between(rng, start, end):
    """A random instant in [start, end]; ``start`` when the range is empty."""
    span = (end - start).total_seconds()
    if span <= 0:
        return start
    return start + dt.timedelta(seconds=rng.uniform(0, span))


def ts(moment):
    """The seed's text of an instant (None stays None)."""
    return format_timestamp(moment)
