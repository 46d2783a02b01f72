"""The CSBS item's JSON shape, both ways: one table of keys drives parsing and rendering.

``parse_item(data)`` validates one item of a CSBS response (import files, admin edits) and returns
the column values of ``CheckpointItem``, ``VolumeBackup`` and ``ReplicationRecord``;
``render_item(item, volume_backups, replication_records)`` writes them back as the seed's item.
Because both read the same tables below, import → export returns every key with its value.

Rules of the shape (API.md "The item"):

* every key the seed lists is always written: ``null`` when unknown, ``[]`` for lists,
  ``{}`` for ``fail_code``; keys the seed does not list are kept per section (``*_extra``) and
  written after the listed ones;
* a top-level ``policy_id`` (not in the seed's table) is written when the item has one;
* timestamps are written UTC with six fraction digits (``backups.document.timestamps``);
* loosely typed values (``ram``, ``vcpus``, ``disk``, ``dec_size``: the seed says String, CSBS
  sends numbers) keep their JSON type;
* ``id``, ``name``, ``status`` and ``created_at`` are required: paging and sorting need them.
"""
import operator
from dataclasses import dataclass

import orjson

from backups import choices

from .timestamps import format_timestamp, parse_timestamp

INT64 = 2**63


class ItemInvalid(ValueError):
    """An item breaks a rule; ``field`` is its JSON path (``extend_info.volume_backups[0].size``)."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _describe(value):
    text = orjson.dumps(value).decode() if not isinstance(value, bytes) else repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    kind = {str: "string", bool: "boolean", int: "integer", float: "number", dict: "object",
            list: "array", type(None): "null"}.get(type(value), type(value).__name__)
    return f"{kind} {text}"


def _nul_path(value, path=""):
    """Where ``value`` holds a NUL character (``""`` for itself), or ``None``.

    PostgreSQL's ``jsonb`` cannot store ``\u0000``: refused here, the same on every database.
    """
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, entry in value.items():
            step = f"{path}.{key}"
            found = step.replace("\x00", "\\u0000") if "\x00" in key else _nul_path(entry, step)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, entry in enumerate(value):
            found = _nul_path(entry, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _refuse_nul(value):
    where = _nul_path(value)
    if where is not None:
        raise ValueError("must not contain NUL characters" + (f" (at {where})" if where else ""))
    return value


# --- kinds of values -----------------------------------------------------------------------------


class Kind:
    """How one key's JSON value becomes a column value and back."""

    expected = "a value"

    def load(self, value):
        return value

    def dump(self, value):
        return value


class String(Kind):
    def __init__(self, max_length=None, non_empty=False):
        self.max_length = max_length
        self.non_empty = non_empty
        self.expected = "a string" + (f" of at most {max_length} characters" if max_length else "")

    def load(self, value):
        if not isinstance(value, str):
            raise ValueError(f"must be {self.expected}, got {_describe(value)}")
        if self.non_empty and not value:
            raise ValueError("must not be empty")
        if self.max_length is not None and len(value) > self.max_length:
            raise ValueError(f"is {len(value)} characters long: at most {self.max_length} are allowed")
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class Choice(Kind):
    def __init__(self, choices_class):
        self.values = tuple(choices_class.values)
        allowed = ", ".join(repr(v) if v == "" else v for v in self.values)
        self.expected = f"one of {allowed}"

    def load(self, value):
        if not isinstance(value, str) or value not in self.values:
            raise ValueError(f"must be {self.expected}, got {_describe(value)}")
        return value


class Timestamp(Kind):
    expected = "an ISO 8601 timestamp"

    def load(self, value):
        return parse_timestamp(value)

    def dump(self, value):
        return format_timestamp(value)


class Boolean(Kind):
    expected = "true or false"

    def load(self, value):
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, got {_describe(value)}")
        return value


class Integer(Kind):
    expected = "an integer"

    def load(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be an integer, got {_describe(value)}")
        if not -INT64 <= value < INT64:
            raise ValueError("is out of the 64-bit integer range")
        return value


class Scalar(Kind):
    """A string or a number, kept with its JSON type (the seed says String, CSBS sends numbers)."""

    expected = "a string or a number"

    def load(self, value):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValueError(f"must be a string or a number, got {_describe(value)}")
        if isinstance(value, int) and not -INT64 <= value < INT64:
            raise ValueError("is out of the 64-bit integer range")
        return _refuse_nul(value)


class Object(Kind):
    expected = "an object"

    def __init__(self, default=None):
        self.default = default

    def load(self, value):
        if not isinstance(value, dict):
            raise ValueError(f"must be an object, got {_describe(value)}")
        return _refuse_nul(value)

    def dump(self, value):
        if value is None and self.default is not None:
            return self.default()
        return value


class ListOfObjects(Kind):
    expected = "an array of objects"

    def load(self, value):
        if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
            raise ValueError(f"must be an array of objects, got {_describe(value)}")
        return _refuse_nul(value)

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

ITEM_KEYS = _keys(
    Key("id", "id", String(max_length=128, non_empty=True), required=True),
    ("checkpoint_id", "checkpoint_id", ID),
    Key("name", "name", NAME, required=True),
    ("description", "description", TEXT),
    Key("status", "status", Choice(choices.ItemStatus), required=True),
    ("resource_id", "resource_id", ID),
    ("resource_type", "resource_type", SHORT),
    Key("created_at", "created_at", Timestamp(), required=True),
    ("updated_at", "updated_at", Timestamp()),
    ("protected_at", "protected_at", Timestamp()),
)
#: Written only when set: the policy that produced the item (API.md: not in the seed's table).
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
    ("progress", "progress", Integer()),
    ("resource_az", "resource_az", SHORT),
    ("resource_name", "resource_name", NAME),
    ("resource_type", "extend_resource_type", SHORT),
    ("size", "size", Integer()),
    ("space_saving_ratio", "space_saving_ratio", Integer()),
    ("finished_at", "finished_at", Timestamp()),
    ("supported_restore_mode", "supported_restore_mode", Choice(choices.SupportedRestoreMode)),
    ("os_images_data", "os_images_data", ListOfObjects()),
    ("support_lld", "support_lld", Boolean()),
    ("retention_duration", "retention_duration", Integer()),
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
    ("space_saving_ratio", "space_saving_ratio", Integer()),
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


# --- parsing ------------------------------------------------------------------------------------


@dataclass
class ParsedItem:
    """Column values of one item and of its children, ready for the models."""

    fields: dict
    volume_backups: list
    replication_records: list

    @property
    def id(self):
        return self.fields["id"]


class _Plan:
    """A key table unpacked once: parsing and rendering run per key of every imported item."""

    def __init__(self, keys):
        self.keys = keys
        self.names = tuple(key.name for key in keys)
        self.known = frozenset(self.names)
        get = operator.attrgetter(*(key.attr for key in keys))
        self.values_of = get if len(keys) > 1 else lambda obj: (get(obj),)
        self.dumps = tuple((key.name, key.kind.dump) for key in keys if type(key.kind).dump is not Kind.dump)


_PLANS = {}


def _plan(keys):
    plan = _PLANS.get(id(keys))
    if plan is None or plan.keys is not keys:
        if len(_PLANS) > 64:  # the tables are module constants; ad-hoc tuples must not pile up
            _PLANS.clear()
        plan = _PLANS[id(keys)] = _Plan(keys)
    return plan


def parse_section(data, keys, path, *, extra_attr, skip=()):
    """Validate one JSON object against ``keys``; return ``{attr: value}`` with its extras."""
    if not isinstance(data, dict):
        raise ItemInvalid(path.rstrip("."), f"must be an object, got {_describe(data)}")
    values = {}
    for key in keys:
        value = data.get(key.name)
        if value is None:
            if key.required:
                raise ItemInvalid(path + key.name, "is required")
            values[key.attr] = None
            continue
        try:
            values[key.attr] = key.kind.load(value)
        except ValueError as error:
            raise ItemInvalid(path + key.name, str(error)) from None
    known = _plan(keys).known
    values[extra_attr] = extra = {k: v for k, v in data.items() if k not in known and k not in skip}
    where = _nul_path(extra) if extra else None
    if where is not None:
        raise ItemInvalid(path + where[1:], "must not contain NUL characters")
    return values


def _parse_list(data, path):
    if data is None:
        return []
    if not isinstance(data, list):
        raise ItemInvalid(path, f"must be an array, got {_describe(data)}")
    return data


def parse_item(data):
    """Validate one CSBS item (a dict); return a ``ParsedItem`` or raise ``ItemInvalid``."""
    if not isinstance(data, dict):
        raise ItemInvalid("item", f"must be an object, got {_describe(data)}")
    fields = parse_section(data, _ITEM_AND_POLICY_KEYS, "", extra_attr="extra", skip=ITEM_SECTIONS)
    backup_data = data.get("backup_data")
    if backup_data is not None:
        fields.update(
            parse_section(backup_data, BACKUP_DATA_KEYS, "backup_data.", extra_attr="backup_data_extra")
        )
    else:
        fields.update({key.attr: None for key in BACKUP_DATA_KEYS}, backup_data_extra={})
    extend_info = data.get("extend_info")
    volume_backups = []
    if extend_info is not None:
        fields.update(
            parse_section(
                extend_info, EXTEND_INFO_KEYS, "extend_info.",
                extra_attr="extend_info_extra", skip=EXTEND_INFO_SECTIONS,
            )
        )
        path = "extend_info.volume_backups"
        for position, entry in enumerate(_parse_list(extend_info.get("volume_backups"), path)):
            row = parse_section(entry, VOLUME_BACKUP_KEYS, f"{path}[{position}].", extra_attr="extra")
            row["position"] = position
            volume_backups.append(row)
    else:
        fields.update({key.attr: None for key in EXTEND_INFO_KEYS}, extend_info_extra={})
    replication_records = []
    path = "replication_records"
    for position, entry in enumerate(_parse_list(data.get("replication_records"), path)):
        row = parse_section(entry, REPLICATION_RECORD_KEYS, f"{path}[{position}].", extra_attr="extra")
        row["position"] = position
        replication_records.append(row)
    for attr in ("fail_code", "os_images_data"):
        if fields[attr] is None:
            fields[attr] = {} if attr == "fail_code" else []
    return ParsedItem(fields, volume_backups, replication_records)


# --- rendering ----------------------------------------------------------------------------------


def _render_section(obj, keys, extra):
    plan = _plan(keys)
    section = dict(zip(plan.names, plan.values_of(obj), strict=True))
    for name, dump in plan.dumps:
        section[name] = dump(section[name])
    if extra:
        section.update(extra)
    return section


def render_volume_backup(volume_backup):
    return _render_section(volume_backup, VOLUME_BACKUP_KEYS, volume_backup.extra)


def render_replication_record(record):
    return _render_section(record, REPLICATION_RECORD_KEYS, record.extra)


def render_item(item, volume_backups, replication_records):
    """The item as the API returns it (a dict); children in the order given."""
    document = _render_section(item, ITEM_KEYS, None)
    document["backup_data"] = _render_section(item, BACKUP_DATA_KEYS, item.backup_data_extra)
    extend_info = _render_section(item, EXTEND_INFO_KEYS, item.extend_info_extra)
    extend_info["volume_backups"] = [render_volume_backup(v) for v in volume_backups]
    document["extend_info"] = extend_info
    document["replication_records"] = [render_replication_record(r) for r in replication_records]
    if item.policy_id is not None:
        document["policy_id"] = item.policy_id
    if item.extra:
        document.update(item.extra)
    return document


def dumps(document):
    """Compact JSON text, as stored in ``CheckpointItem.document`` and sent by the API."""
    return orjson.dumps(document).decode()
