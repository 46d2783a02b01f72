"""The ingest rule: ``parse_item`` reads a CSBS item into column values, ``parse_section`` one section.

``parse_item(data)`` reads one item of a CSBS response (import files, admin edits, demo data, the
sync) and returns the column values of ``CheckpointItem``, ``VolumeBackup`` and
``ReplicationRecord``; ``render_item(item, volume_backups, replication_records)``
(``backups.document.render``) writes them back as the item the API returns. Because both read the
same key tables (``backups.document.keys``), import → export returns every key with its value.

The ingest rule (API.md "The item"), the same for every writer:

* **Refused** — only an item that cannot be listed at all: not a JSON object; no ``id``, or one
  that is not a non-empty string of at most 128 characters without NUL (the item's key); no
  ``created_at``, or one that is not a time (``backups.document.timestamps``) before
  9999-12-31T23:59:59.999999; a ``status`` outside the seed's vocabulary (``choices.ItemStatus``).
  ``ItemInvalid`` names the key's JSON path and the rule.
* **Typed** — every other listed key whose value its query column can hold (a string within the
  column's length, an integer within its range, a boolean, a value of its vocabulary, a time) is
  stored in that column: filters and sorts read it.
* **Kept as given** — a value the column cannot hold (``"protected_at": ""``, ``"dec": "yes"``,
  ``"size": 2.75``, an over-long string, a string with NUL, an integer beyond 64 bits, a section
  that is not an object, ``null`` where a list or object is rendered by default) is stored exactly
  in the row's ``as_given`` JSON text, keyed by its JSON path (``extend_info.dec``); its column is
  NULL (or its default), so for querying it counts as absent, and the renderer writes the value
  as given. ``ParsedItem.loose`` lists them for the import's summary.
* **Kept** — keys the seed does not list stay in their section (``*_extra``), after the listed
  ones, in their order; jsonb cannot hold NUL, so a section's unknown keys holding one are kept in
  ``as_given`` (``extend_info.*``) instead. Keys the seed lists and the item lacks are written
  ``null`` (``[]`` for lists, ``{}`` for ``fail_code``); a top-level ``policy_id`` only when given.
* **Timestamps** are the one rewrite: a value that reads as a time is typed and written as the
  contract writes every timestamp, UTC with six fraction digits (an offset applied, digits beyond
  the microsecond cut); ``ParsedItem.loose`` reports those rewritten. A value that is not a time
  is kept as given.
* Numbers keep their JSON type: ``2.75`` stays a number with a fraction, integers stay exact at
  any size (``backups.document.jsontext.dumps`` writes integers beyond 64 bits too).
"""
from dataclasses import dataclass, field

from .jsontext import INT64, as_given_text, jsonb_safe
from .keys import (
    _BOOLEAN,
    _CHOICE,
    _EMPTY_LIST,
    _EMPTY_OBJECT,
    _INTEGER,
    _SCALAR,
    _STRING,
    _STRING_RULED,
    BACKUP_DATA_PLAN,
    EXTEND_INFO_PLAN,
    EXTEND_INFO_SECTIONS,
    EXTRA_KEYS,
    ITEM_AND_POLICY_PLAN,
    ITEM_SECTIONS,
    REPLICATION_RECORD_PLAN,
    VOLUME_BACKUP_PLAN,
    _plan,
)
from .kinds import _describe, json_kind

#: ``ParsedItem.loose``'s word for a time read and written back in the contract's form.
REWRITTEN = "timestamp rewritten in UTC"
#: A key of the item that is absent (``data.get(name, MISSING)``), as opposed to given ``null``.
MISSING = object()


class ItemInvalid(ValueError):
    """An item breaks a rule; ``field`` is its JSON path (``extend_info.volume_backups[0].size``)."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class ParsedItem:
    """Column values of one item and of its children, ready for the models.

    ``loose`` lists ``(json_path, what)`` for every value kept as given (``what`` is its JSON
    type: ``"string"``) or rewritten (``"timestamp rewritten in UTC"``); children's paths read
    ``extend_info.volume_backups[].size``, one entry per value.
    """

    fields: dict
    volume_backups: list
    replication_records: list
    loose: list = field(default_factory=list)

    @property
    def id(self):
        return self.fields["id"]


def parse_section(
    data, keys, path, *, extra_attr, skip=(), as_given=None, loose=None, loose_path=None, values=None
):
    """Read one JSON object with ``keys``; return ``{attr: value}``, its extras and ``as_given``.

    ``as_given`` (a dict, filled in place when given) collects the values kept as given under
    their path within the row (``path`` + key); without it, the row's own ``as_given`` text is
    set. ``loose`` (a list) collects ``(loose_path + key, what)`` for the summary. ``values``:
    the dict to fill and return (a new one by default), e.g. the item's fields for its sections.

    The common values are accepted by the key table's compiled check (``_accept_common``); the
    keys it leaves (absent, ``null``, a time, anything else) are read here, key by key.
    """
    return _read_section(data, _plan(keys), path, extra_attr, skip, as_given, loose, loose_path, values)


def _read_section(data, plan, path, extra_attr, skip, as_given, loose, loose_path, values):
    """``parse_section`` with the key table's plan, every argument positional (a million items an import)."""
    own = as_given is None
    if own:
        as_given = {}
    loose_path = path if loose_path is None else loose_path
    if values is None:
        values = {}
    get = data.get
    for step in _accept_common(plan)(get, values):
        name, attr, kind, required, default, null_is_loose, timestamp, _, _ = step
        value = get(name, MISSING)
        if value is MISSING or value is None:
            if required:
                raise ItemInvalid(path + name, "is required")
            values[attr] = default if default is None else default.copy()
            if value is None and null_is_loose:
                as_given[path + name] = None
                if loose is not None:
                    loose.append((loose_path + name, "null"))
            continue
        try:
            values[attr] = kind.load(value)
        except ValueError as error:
            if required:
                raise ItemInvalid(path + name, str(error)) from None
            values[attr] = default if default is None else default.copy()
            as_given[path + name] = value
            if loose is not None:
                loose.append((loose_path + name, json_kind(value)))
            continue
        if timestamp and loose is not None and getattr(values[attr], "text", None) is None:
            loose.append((loose_path + name, REWRITTEN))  # not read in the canonical form (Instant.text)
    known = plan.known_with(skip) if skip else plan.known
    extra = {} if known.issuperset(data) else {k: v for k, v in data.items() if k not in known}
    if extra and not jsonb_safe(extra):
        as_given[path + EXTRA_KEYS] = extra
        if loose is not None:
            loose.append((loose_path + EXTRA_KEYS, "unknown keys with NUL or integers beyond 64 bits"))
        extra = {}
    values[extra_attr] = extra
    if own:
        values["as_given"] = as_given_text(as_given)
    return values


#: Per key check (``keys._fast_check``): the condition on ``v`` under which its value is stored
#: as it is. Each is exactly what the kind's ``load`` accepts unchanged, never more.
_COMMON_VALUE = {
    _STRING: "v.__class__ is str and len(v) <= {limit} and '\\x00' not in v",
    _CHOICE: "v.__class__ is str and v in {values}",
    _BOOLEAN: "v is True or v is False",
    _INTEGER: "v.__class__ is int and {low} <= v < {limit}",
    _SCALAR: (
        "(v.__class__ is str and '\\x00' not in v) or v.__class__ is float"
        " or (v.__class__ is int and -INT64 <= v < INT64)"
    ),
    _EMPTY_OBJECT: "v.__class__ is dict and not v",
    _EMPTY_LIST: "v.__class__ is list and not v",
}


def _accept_common(plan):
    """The key table's compiled check: ``accept(get, values)`` stores each common value (a
    string within its length, a value of its vocabulary, a boolean, an integer within its range,
    an optional key absent or ``null``) in ``values`` and returns the steps of the other keys.

    An import reads a hundred keys per item; one generated function of straight-line tests
    reads them about twice as fast as a loop over the steps that dispatches on each key's check.
    The decisions stay ``parse_section``'s: every key this leaves is read there by its kind.
    """
    accept = getattr(plan, "accept_common", None)
    if accept is not None:
        return accept
    lines = ["def accept(get, values):", "    rest = []"]
    namespace = {"MISSING": MISSING, "INT64": INT64, "steps": plan.parse_steps}
    for index, step in enumerate(plan.parse_steps):
        name, attr, _kind, required, default, null_is_loose, _timestamp, check, limit = step
        lines.append(f"    v = get({name!r}, MISSING)")
        test = _COMMON_VALUE.get(check)
        keyword = "if"
        if check == _STRING_RULED:  # String.load's rules, in its words: not empty; sorts below the NULLs
            max_length, non_empty, below = limit
            namespace[f"below_{index}"] = below
            length = f"{'0 < ' if non_empty else ''}len(v) <= {max_length}"
            test = f"v.__class__ is str and {length} and '\\x00' not in v"
            if below is not None:
                test += f" and v < below_{index}"
        if test is not None:
            namespace[f"values_{index}"] = limit  # a Choice's frozenset
            low = -limit if check == _INTEGER else 0
            condition = test.format(limit=limit, low=low, values=f"values_{index}")
            lines.append(f"    if {condition}:")
            lines.append(f"        values[{attr!r}] = v")
            keyword = "elif"
        if not required and default is None and not null_is_loose:
            lines.append(f"    {keyword} v is None or v is MISSING:")
            lines.append(f"        values[{attr!r}] = None")
            keyword = "elif"
        if keyword == "elif":
            lines.append("    else:")
            lines.append(f"        rest.append(steps[{index}])")
        else:
            lines.append(f"    rest.append(steps[{index}])")
    lines.append("    return rest")
    exec("\n".join(lines), namespace)  # noqa: S102 - generated from the module's own key tables
    plan.accept_common = namespace["accept"]
    return plan.accept_common


def _children(data, name, path, plan, as_given, loose):
    """Rows of a list of sections; a value that is not a list of objects is kept as given."""
    entries = data.get(name, MISSING)
    if entries is MISSING:
        return []
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        as_given[path] = entries
        loose.append((path, json_kind(entries)))
        return []
    rows = []
    loose_path = f"{path}[]."
    for position, entry in enumerate(entries):
        row = _read_section(entry, plan, "", "extra", (), None, loose, loose_path, None)
        row["position"] = position
        rows.append(row)
    return rows


def _section(data, name, plan, fields, extra_attr, as_given, loose, skip=()):
    """Parse the section ``data[name]`` into ``fields``; return it when it is an object, else ``None``."""
    section = data.get(name, MISSING)
    if isinstance(section, dict):
        _read_section(section, plan, f"{name}.", extra_attr, skip, as_given, loose, None, fields)
        return section
    for key in plan.keys:
        fields[key.attr] = key.kind.column_default
    fields[extra_attr] = {}
    if section is not MISSING:  # null, a string, an array…: kept as given
        as_given[name] = section
        loose.append((name, json_kind(section)))
    return None


def parse_item(data):
    """Read one CSBS item (a dict) by the ingest rule; return a ``ParsedItem`` or raise ``ItemInvalid``."""
    if not isinstance(data, dict):
        raise ItemInvalid("item", f"must be an object, got {_describe(data)}")
    as_given = {}
    loose = []
    fields = _read_section(
        data, ITEM_AND_POLICY_PLAN, "", "extra", ITEM_SECTIONS, as_given, loose, None, None
    )
    _section(data, "backup_data", BACKUP_DATA_PLAN, fields, "backup_data_extra", as_given, loose)
    extend_info = _section(
        data, "extend_info", EXTEND_INFO_PLAN, fields, "extend_info_extra", as_given, loose,
        skip=EXTEND_INFO_SECTIONS,
    )
    volume_backups = []
    if extend_info is not None:
        volume_backups = _children(
            extend_info, "volume_backups", "extend_info.volume_backups", VOLUME_BACKUP_PLAN, as_given, loose
        )
    replication_records = _children(
        data, "replication_records", "replication_records", REPLICATION_RECORD_PLAN, as_given, loose
    )
    fields["as_given"] = as_given_text(as_given)
    return ParsedItem(fields, volume_backups, replication_records, loose)
