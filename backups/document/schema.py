"""The CSBS item's JSON shape, both ways: one table of keys drives parsing and rendering.

``parse_item(data)`` reads one item of a CSBS response (import files, admin edits, demo data, the
sync) and returns the column values of ``CheckpointItem``, ``VolumeBackup`` and
``ReplicationRecord``; ``render_item(item, volume_backups, replication_records)`` writes them back
as the item the API returns. Because both read the same tables below, import → export returns
every key with its value.

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
  any size (the ``dumps`` of this module writes integers beyond 64 bits too).
"""
import json
import operator
from dataclasses import dataclass, field

import orjson

from backups import choices
from backups.listing.ordering import NULL_NAME_SENTINEL

from .timestamps import format_timestamp, parse_timestamp

INT64 = 2**63
INT32 = 2**31
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


def json_kind(value):
    """The JSON type of a value in words, as the import's summary writes it."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer" if -INT64 <= value < INT64 else "integer beyond 64 bits"
    return {str: "string", float: "number", dict: "object", list: "array", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _describe(value):
    text = dumps(value) if not isinstance(value, bytes) else repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{json_kind(value).split(' ')[0]} {text}"


# --- kinds of values -----------------------------------------------------------------------------


class Kind:
    """How one key's JSON value becomes a column value and back.

    ``load`` returns the column value or raises ``ValueError`` saying why the column cannot hold
    it (the value is then kept as given); ``None`` always loads as ``None``. ``dump`` writes a
    column value back; ``column_default`` is stored when the key is absent or kept as given.
    """

    expected = "a value"
    column_default = None

    def load(self, value):
        return value

    def dump(self, value):
        return value


class String(Kind):
    def __init__(self, max_length=None, non_empty=False, below=None):
        self.max_length = max_length
        self.non_empty = non_empty
        self.below = below
        self.expected = "a string" + (f" of at most {max_length} characters" if max_length else "")

    def load(self, value):
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError(f"must be {self.expected}, got {_describe(value)}")
        if self.non_empty and not value:
            raise ValueError("must not be empty")
        if self.max_length is not None and len(value) > self.max_length:
            raise ValueError(f"is {len(value)} characters long: at most {self.max_length} are allowed")
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        if self.below is not None and value >= self.below:
            raise ValueError("sorts with the NULLs: it must not start with U+10FFFF")
        return value


class Choice(Kind):
    def __init__(self, choices_class):
        self.values = tuple(choices_class.values)
        allowed = ", ".join(repr(v) if v == "" else v for v in self.values)
        self.expected = f"one of {allowed}"

    def load(self, value):
        if value is None:
            return None
        if not isinstance(value, str) or value not in self.values:
            raise ValueError(f"must be {self.expected}, got {_describe(value)}")
        return value


class Timestamp(Kind):
    expected = "an ISO 8601 timestamp"

    def load(self, value):
        return None if value is None else parse_timestamp(value)

    def dump(self, value):
        return format_timestamp(value)


class Boolean(Kind):
    expected = "true or false"

    def load(self, value):
        if value is None or value is True or value is False:
            return value
        raise ValueError(f"must be true or false, got {_describe(value)}")


class Integer(Kind):
    """An integer within its column's range: 64 bits, or 32 (``IntegerField``)."""

    def __init__(self, bits=64):
        self.limit = INT64 if bits == 64 else INT32
        self.bits = bits
        self.expected = "an integer"

    def load(self, value):
        if value is None:
            return None
        if type(value) is not int:
            raise ValueError(f"must be an integer, got {_describe(value)}")
        if not -self.limit <= value < self.limit:
            raise ValueError(f"is out of the {self.bits}-bit integer range")
        return value


class Scalar(Kind):
    """Any JSON value, kept with its JSON type in a jsonb column (the seed says String, CSBS sends
    numbers): only NUL and integers beyond 64 bits go to ``as_given``."""

    expected = "a string or a number"

    def load(self, value):
        return _jsonb_value(value)


def _jsonb_value(value):
    if not jsonb_safe(value):
        raise ValueError("holds NUL, an integer beyond 64 bits or a number beyond a double")
    return value


class Object(Kind):
    expected = "an object"

    def __init__(self, default=None):
        self.default = default
        self.column_default = None if default is None else default()

    def load(self, value):
        if value is None:
            return self.default() if self.default is not None else None
        if not isinstance(value, dict):
            raise ValueError(f"must be an object, got {_describe(value)}")
        return _jsonb_value(value)

    def dump(self, value):
        if value is None and self.default is not None:
            return self.default()
        return value


class ListOfObjects(Kind):
    expected = "an array of objects"
    column_default = []

    def load(self, value):
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
            raise ValueError(f"must be an array of objects, got {_describe(value)}")
        return _jsonb_value(value)

    def dump(self, value):
        return [] if value is None else value


@dataclass(frozen=True)
class Key:
    """One JSON key of a section and the model attribute that stores it."""

    name: str
    attr: str
    kind: Kind
    required: bool = False


def _keys(*specs):
    return tuple(Key(*spec) if isinstance(spec, tuple) else spec for spec in specs)


ID = String(max_length=128)
SHORT = String(max_length=64)
NAME = String(max_length=255)
TEXT = String()
INT32_KIND = Integer(bits=32)

ITEM_KEYS = _keys(
    Key("id", "id", String(max_length=128, non_empty=True), required=True),
    ("checkpoint_id", "checkpoint_id", ID),
    ("name", "name", String(max_length=255, below=NULL_NAME_SENTINEL)),
    ("description", "description", TEXT),
    Key("status", "status", Choice(choices.ItemStatus), required=True),
    ("resource_id", "resource_id", ID),
    ("resource_type", "resource_type", SHORT),
    Key("created_at", "created_at", Timestamp(), required=True),
    ("updated_at", "updated_at", Timestamp()),
    ("protected_at", "protected_at", Timestamp()),
)
#: Written only when given: the policy that produced the item (API.md: not in the seed's table).
POLICY_KEY = Key("policy_id", "policy_id", ID)

BACKUP_DATA_KEYS = _keys(
    ("__openstack_region_name", "openstack_region_name", NAME),
    ("cloudservicetype", "cloudservicetype", NAME),
    ("disk", "disk", Scalar()),
    ("imagetype", "imagetype", Choice(choices.ServerImageType)),
    ("ram", "ram", Scalar()),
    ("vcpus", "vcpus", Scalar()),
    ("eip", "eip", SHORT),
    ("private_ip", "private_ip", SHORT),
)

EXTEND_INFO_KEYS = _keys(
    ("auto_trigger", "auto_trigger", Boolean()),
    ("average_speed", "average_speed", Integer()),
    ("copy_from", "copy_from", ID),
    ("copy_status", "copy_status", String(max_length=32)),
    ("fail_code", "fail_code", Object(default=dict)),
    ("fail_op", "fail_op", Choice(choices.FailOp)),
    ("fail_reason", "fail_reason", TEXT),
    ("image_type", "image_type", Choice(choices.ImageType)),
    ("incremental", "incremental", Boolean()),
    ("progress", "progress", INT32_KIND),
    ("resource_az", "resource_az", SHORT),
    ("resource_name", "resource_name", NAME),
    ("resource_type", "extend_resource_type", SHORT),
    ("size", "size", Integer()),
    ("space_saving_ratio", "space_saving_ratio", INT32_KIND),
    ("finished_at", "finished_at", Timestamp()),
    ("supported_restore_mode", "supported_restore_mode", Choice(choices.SupportedRestoreMode)),
    ("os_images_data", "os_images_data", ListOfObjects()),
    ("support_lld", "support_lld", Boolean()),
    ("retention_duration", "retention_duration", INT32_KIND),
    ("dec", "dec", Boolean()),
    ("dec_size", "dec_size", Scalar()),
)

VOLUME_BACKUP_KEYS = _keys(
    ("id", "volume_backup_id", ID),
    ("name", "name", NAME),
    ("status", "status", String(max_length=32)),
    ("average_speed", "average_speed", Integer()),
    ("bootable", "bootable", Boolean()),
    ("image_type", "image_type", Choice(choices.VolumeImageType)),
    ("incremental", "incremental", Boolean()),
    ("size", "size", Integer()),
    ("source_volume_id", "source_volume_id", ID),
    ("source_volume_size", "source_volume_size", Integer()),
    ("source_volume_name", "source_volume_name", NAME),
    ("space_saving_ratio", "space_saving_ratio", INT32_KIND),
    ("snapshot_id", "snapshot_id", ID),
    ("source_volume_service_type", "source_volume_service_type", Choice(choices.VolumeServiceType)),
    ("dec_size", "dec_size", Scalar()),
)

REPLICATION_RECORD_KEYS = _keys(
    ("id", "record_id", ID),
    ("status", "status", Choice(choices.ReplicationStatus)),
    ("source_region", "source_region", SHORT),
    ("source_project_id", "source_project_id", SHORT),
    ("source_checkpoint_id", "source_checkpoint_id", ID),
    ("source_checkpoint_item_id", "source_checkpoint_item_id", ID),
    ("destination_region", "destination_region", SHORT),
    ("destination_project_id", "destination_project_id", SHORT),
    ("destination_checkpoint_id", "destination_checkpoint_id", ID),
    ("destination_checkpoint_item_id", "destination_checkpoint_item_id", ID),
    ("plan_id", "plan_id", ID),
    ("created_at", "created_at", Timestamp()),
    ("extra_info", "extra_info", Object()),
)

_ITEM_AND_POLICY_KEYS = ITEM_KEYS + (POLICY_KEY,)

#: Keys that hold nested sections rather than values.
ITEM_SECTIONS = ("backup_data", "extend_info", "replication_records")
EXTEND_INFO_SECTIONS = ("volume_backups",)
#: The ``as_given`` path of a section's unknown keys, kept there when jsonb cannot hold them.
EXTRA_KEYS = "*"


# --- parsing ------------------------------------------------------------------------------------


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


_GENERAL, _STRING, _CHOICE, _BOOLEAN, _INTEGER, _SCALAR = range(6)


def _fast_check(kind):
    """``(code, argument)``: how ``parse_section`` accepts a common value without calling ``load``."""
    if type(kind) is String and not kind.non_empty and kind.below is None:
        return _STRING, kind.max_length if kind.max_length is not None else 1 << 62
    if type(kind) is Choice:
        return _CHOICE, frozenset(kind.values)
    if type(kind) is Boolean:
        return _BOOLEAN, None
    if type(kind) is Integer:
        return _INTEGER, kind.limit
    if type(kind) is Scalar:
        return _SCALAR, None
    return _GENERAL, None


class _Plan:
    """A key table unpacked once: parsing and rendering run per key of every imported item."""

    def __init__(self, keys):
        self.keys = keys
        self.names = tuple(key.name for key in keys)
        self.known = frozenset(self.names)
        get = operator.attrgetter(*(key.attr for key in keys))
        self.values_of = get if len(keys) > 1 else lambda obj: (get(obj),)
        item = operator.itemgetter(*(key.attr for key in keys))
        self.items_of = item if len(keys) > 1 else lambda row: (item(row),)
        self.dumps = tuple((key.name, key.kind.dump) for key in keys if type(key.kind).dump is not Kind.dump)
        # Per key, for parse_section: what it reads, how it checks, what it stores by default.
        self.parse_steps = tuple(
            (
                key.name, key.attr, key.kind, key.required, key.kind.column_default,
                key.kind.dump(key.kind.column_default) is not None or key is POLICY_KEY,
                isinstance(key.kind, Timestamp), *_fast_check(key.kind),
            )
            for key in keys
        )


_PLANS = {}


def _plan(keys):
    plan = _PLANS.get(id(keys))
    if plan is None or plan.keys is not keys:
        if len(_PLANS) > 64:  # the tables are module constants; ad-hoc tuples must not pile up
            _PLANS.clear()
        plan = _PLANS[id(keys)] = _Plan(keys)
    return plan


def parse_section(data, keys, path, *, extra_attr, skip=(), as_given=None, loose=None, loose_path=None):
    """Read one JSON object with ``keys``; return ``{attr: value}``, its extras and ``as_given``.

    ``as_given`` (a dict, filled in place when given) collects the values kept as given under
    their path within the row (``path`` + key); without it, the row's own ``as_given`` text is
    set. ``loose`` (a list) collects ``(loose_path + key, what)`` for the summary.
    """
    own = as_given is None
    if own:
        as_given = {}
    loose_path = path if loose_path is None else loose_path
    plan = _plan(keys)
    values = {}
    get = data.get
    for name, attr, kind, required, default, null_is_loose, timestamp, check, limit in plan.parse_steps:
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
        # The common values, accepted inline (a call per key is a third of an import's parse).
        kind_of = type(value)
        if check == _STRING:
            if kind_of is str and len(value) <= limit and "\x00" not in value:
                values[attr] = value
                continue
        elif check == _CHOICE:
            if kind_of is str and value in limit:
                values[attr] = value
                continue
        elif check == _BOOLEAN:
            if kind_of is bool:
                values[attr] = value
                continue
        elif check == _INTEGER:
            if kind_of is int and -limit <= value < limit:
                values[attr] = value
                continue
        elif check == _SCALAR:
            if (kind_of is str and "\x00" not in value) or kind_of is float or (
                kind_of is int and -INT64 <= value < INT64
            ):
                values[attr] = value
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
    unknown = data.keys() - plan.known
    if skip and unknown:
        unknown -= set(skip)
    extra = {k: v for k, v in data.items() if k in unknown} if unknown else {}
    if extra and not jsonb_safe(extra):
        as_given[path + EXTRA_KEYS] = extra
        if loose is not None:
            loose.append((loose_path + EXTRA_KEYS, "unknown keys with NUL or integers beyond 64 bits"))
        extra = {}
    values[extra_attr] = extra
    if own:
        values["as_given"] = as_given_text(as_given)
    return values


def jsonb_safe(value):
    """Whether jsonb (and the renderer's orjson) holds ``value`` exactly: no NUL, no integer beyond
    64 bits, no number beyond a double. A string holding the six characters ``\\u0000`` is taken
    for unsafe too, and merely kept as given."""
    try:
        return b"\\u0000" not in orjson.dumps(value)
    except orjson.JSONEncodeError:
        return False


def as_given_text(as_given):
    """The ``as_given`` column's text: JSON of ``{path: value}``, or ``None`` when empty."""
    return dumps(as_given) if as_given else None


def _children(data, name, path, keys, as_given, loose):
    """Rows of a list of sections; a value that is not a list of objects is kept as given."""
    entries = data.get(name, MISSING)
    if entries is MISSING:
        return []
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        as_given[path] = entries
        loose.append((path, json_kind(entries)))
        return []
    rows = []
    for position, entry in enumerate(entries):
        row = parse_section(entry, keys, "", extra_attr="extra", loose=loose, loose_path=f"{path}[].")
        row["position"] = position
        rows.append(row)
    return rows


def _section(data, name, keys, fields, extra_attr, as_given, loose, skip=()):
    """Parse the section ``data[name]`` into ``fields``; return it when it is an object, else ``None``."""
    section = data.get(name, MISSING)
    if isinstance(section, dict):
        fields.update(
            parse_section(
                section, keys, f"{name}.", extra_attr=extra_attr, skip=skip, as_given=as_given, loose=loose
            )
        )
        return section
    for key in keys:
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
    fields = parse_section(
        data, _ITEM_AND_POLICY_KEYS, "", extra_attr="extra", skip=ITEM_SECTIONS,
        as_given=as_given, loose=loose,
    )
    _section(data, "backup_data", BACKUP_DATA_KEYS, fields, "backup_data_extra", as_given, loose)
    extend_info = _section(
        data, "extend_info", EXTEND_INFO_KEYS, fields, "extend_info_extra", as_given, loose,
        skip=EXTEND_INFO_SECTIONS,
    )
    volume_backups = []
    if extend_info is not None:
        volume_backups = _children(
            extend_info, "volume_backups", "extend_info.volume_backups", VOLUME_BACKUP_KEYS, as_given, loose
        )
    replication_records = _children(
        data, "replication_records", "replication_records", REPLICATION_RECORD_KEYS, as_given, loose
    )
    fields["as_given"] = as_given_text(as_given)
    return ParsedItem(fields, volume_backups, replication_records, loose)


# --- rendering ----------------------------------------------------------------------------------


def _render_section(values, keys, extra):
    """One section from its column ``values`` (in the order of ``keys``), then its extras."""
    section = dict(zip(_plan(keys).names, values, strict=True))
    for name, dump in _plan(keys).dumps:
        section[name] = dump(section[name])
    if extra:
        section.update(extra)
    return section


def _overlay(document, as_given):
    """Write the values kept as given over the rendered ``document``, each at its JSON path.

    A listed key keeps its place (it is always rendered); a section's unknown keys (``*``) and a
    top-level key the renderer omits (``policy_id``) come after the listed keys.
    """
    if not as_given:
        return document
    for path, value in loads_exact(as_given).items():
        parent, _, name = path.rpartition(".")
        section = document[parent] if parent else document
        if not isinstance(section, dict):  # the section itself is kept as given
            continue
        if name == EXTRA_KEYS:
            section.update(value)
        else:
            section[name] = value
    return document


def render_volume_backup(volume_backup):
    values = _plan(VOLUME_BACKUP_KEYS).values_of(volume_backup)
    section = _render_section(values, VOLUME_BACKUP_KEYS, volume_backup.extra)
    return _overlay(section, volume_backup.as_given)


def render_replication_record(record):
    values = _plan(REPLICATION_RECORD_KEYS).values_of(record)
    return _overlay(_render_section(values, REPLICATION_RECORD_KEYS, record.extra), record.as_given)


def render_item(item, volume_backups, replication_records):
    """The item as the API returns it (a dict) from model instances (or attribute objects);
    children in the order given."""
    return _assemble(
        lambda keys: _plan(keys).values_of(item),
        item,
        [render_volume_backup(v) for v in volume_backups],
        [render_replication_record(r) for r in replication_records],
    )


def render_parsed(parsed):
    """``render_item`` for a ``ParsedItem`` (its column values as dicts: the bulk writers' path)."""
    fields = parsed.fields
    return _assemble(
        lambda keys: _plan(keys).items_of(fields),
        _Attributes(fields),
        [_render_row(row, VOLUME_BACKUP_KEYS) for row in parsed.volume_backups],
        [_render_row(row, REPLICATION_RECORD_KEYS) for row in parsed.replication_records],
    )


class _Attributes:
    """A dict read as attributes (``item.extra``), for ``_assemble``."""

    __slots__ = ("_values",)

    def __init__(self, values):
        self._values = values

    def __getattr__(self, name):
        return self._values[name]


def _render_row(row, keys):
    return _overlay(_render_section(_plan(keys).items_of(row), keys, row["extra"]), row["as_given"])


def _assemble(values_of, item, volume_backups, replication_records):
    document = _render_section(values_of(ITEM_KEYS), ITEM_KEYS, None)
    backup_data = values_of(BACKUP_DATA_KEYS)
    document["backup_data"] = _render_section(backup_data, BACKUP_DATA_KEYS, item.backup_data_extra)
    extend_info = _render_section(values_of(EXTEND_INFO_KEYS), EXTEND_INFO_KEYS, item.extend_info_extra)
    extend_info["volume_backups"] = volume_backups
    document["extend_info"] = extend_info
    document["replication_records"] = replication_records
    if item.policy_id is not None:
        document["policy_id"] = item.policy_id
    if item.as_given:
        _overlay(document, item.as_given)
    if item.extra:
        document.update(item.extra)
    return document


def _exact_integers(value):
    """``value`` with integers beyond 64 bits as raw JSON number text (orjson writes 64 bits)."""
    if type(value) is int:
        return value if -INT64 <= value < 2**64 else orjson.Fragment(str(value))
    if isinstance(value, dict):
        return {key: _exact_integers(entry) for key, entry in value.items()}
    if isinstance(value, list):
        return [_exact_integers(entry) for entry in value]
    return value


def loads_exact(text):
    """JSON text back to values, integers of any size exact (orjson reads them as floats)."""
    return json.loads(text)


def dumps(document):
    """Compact JSON text, as stored in ``CheckpointItem.document`` and sent by the API.

    Integers of any size are written exactly.
    """
    try:
        return orjson.dumps(document).decode()
    except orjson.JSONEncodeError:
        return orjson.dumps(_exact_integers(document)).decode()
