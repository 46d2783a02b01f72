"""Timestamps as CSBS writes and reads them.

Written: UTC, no offset, six fraction digits — ``2017-04-15T04:20:37.277880``.
Read (import files and the ``start_time``/``end_time`` parameters): ISO 8601 extended format with
a time of day — ``YYYY-MM-DDTHH:MM[:SS[.fraction]]`` — a space may stand for the ``T``, then
optionally ``Z`` or an offset ``±HH:MM`` (or ``±HHMM``); no offset means UTC. Fractions beyond
microseconds are truncated. A date alone is refused where it is ambiguous — for ``end_time`` (the
start or the end of that day?) and in import files (a backup's instant always has a time); callers
may allow it (``start_time``), where it means that day's midnight UTC.
"""
import datetime as dt
import re

from backups.listing.ordering import NULL_DATETIME_SENTINEL

_TIMESTAMP = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[T ]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,9}))?)?"
    r"(?P<zone>Z|z|[+-][0-9]{2}:?[0-9]{2})?",
    re.ASCII,
)

#: The form CSBS writes, and so nearly every timestamp of an import file.
_CANONICAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}", re.ASCII)

class Instant(dt.datetime):
    """A parsed timestamp that remembers its canonical text (an import writes it back as read).

    Arithmetic and ``replace`` give instances without ``text``: ``format_timestamp`` then formats.
    """

    __slots__ = ("text",)


FORMAT_HINT = "an ISO 8601 time such as 2017-04-18T01:21:52.701973 (Z or ±HH:MM allowed)"


def parse_timestamp(value, *, allow_date=False):
    """Parse ``value`` into an aware UTC datetime; raise ``ValueError`` saying what is expected."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, {FORMAT_HINT}")
    if _CANONICAL.fullmatch(value):
        # The import's hot path: C's fromisoformat reads this form several times faster than the
        # general grammar below, which still words every error (an impossible date, the sentinel).
        try:
            moment = Instant.fromisoformat(value + "+00:00")
        except ValueError:
            moment = None
        if moment is not None and moment < NULL_DATETIME_SENTINEL:
            moment.text = value
            return moment
    if allow_date and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value, re.ASCII):
        value += "T00:00:00"
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value, re.ASCII):
            raise ValueError(f"a date alone is ambiguous: give a time too, {FORMAT_HINT}")
        raise ValueError(f"is not {FORMAT_HINT}")
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    zone = match["zone"]
    try:
        year, month, day = (int(part) for part in match["date"].split("-"))
        tzinfo = dt.timezone.utc
        if zone and zone not in ("Z", "z"):
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            tzinfo = dt.timezone(sign * offset)
        moment = dt.datetime(
            year,
            month,
            day,
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"] or 0),
            int(fraction),
            tzinfo=tzinfo,
        ).astimezone(dt.timezone.utc)
    except (ValueError, OverflowError) as error:
        raise ValueError(f"is not a valid instant ({error}): give {FORMAT_HINT}") from None
    if moment >= NULL_DATETIME_SENTINEL:
        raise ValueError("must be before 9999-12-31T23:59:59.999999")
    return moment


def is_canonical(value):
    """Whether ``value`` is already written as ``format_timestamp`` writes it (nothing rewritten)."""
    return isinstance(value, str) and _CANONICAL.fullmatch(value) is not None


def format_timestamp(value):
    """``2017-04-15T04:20:37.277880``: UTC, no offset, six fraction digits; ``None`` stays ``None``."""
    if value is None:
        return None
    text = getattr(value, "text", None)
    if text is not None:
        return text
    if value.tzinfo is dt.timezone.utc:  # what parse_timestamp and the database give: the hot path
        return value.isoformat(timespec="microseconds")[:-6]
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")
