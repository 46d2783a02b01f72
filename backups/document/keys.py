"""The key tables of each section of the item (``ITEM_KEYS``, ``EXTEND_INFO_KEYS``...), unpacked once.

Each ``Key`` names a JSON key, the model attribute that stores it and its kind
(``backups.document.kinds``); ``backups.document.parse`` and ``backups.document.render`` both
read these tables, so import → export returns every key with its value.
"""
import operator
from dataclasses import dataclass

from backups import choices
from backups.listing.ordering import NULL_NAME_SENTINEL

from .kinds import Boolean, Choice, Integer, Kind, ListOfObjects, Object, Scalar, String, Timestamp


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


_GENERAL, _STRING, _CHOICE, _BOOLEAN, _INTEGER, _SCALAR, _EMPTY_OBJECT, _EMPTY_LIST, _STRING_RULED = range(9)


def _fast_check(kind):
    """``(code, argument)``: how ``parse_section`` accepts a common value without calling ``load``."""
    if type(kind) is String:
        limit = kind.max_length if kind.max_length is not None else 1 << 62
        if not kind.non_empty and kind.below is None:
            return _STRING, limit
        return _STRING_RULED, (limit, kind.non_empty, kind.below)
    if type(kind) is Choice:
        return _CHOICE, frozenset(kind.values)
    if type(kind) is Boolean:
        return _BOOLEAN, None
    if type(kind) is Integer:
        return _INTEGER, kind.limit
    if type(kind) is Scalar:
        return _SCALAR, None
    if type(kind) is Object:  # ``fail_code: {}``, ``extra_info: {}``: nothing jsonb could not hold
        return _EMPTY_OBJECT, None
    if type(kind) is ListOfObjects:  # ``os_images_data: []``
        return _EMPTY_LIST, None
    return _GENERAL, None


class _Plan:
    """A key table unpacked once: parsing and rendering run per key of every imported item."""

    def __init__(self, keys):
        self.keys = keys
        self.names = tuple(key.name for key in keys)
        self.known = frozenset(self.names)
        get = operator.attrgetter(*(key.attr for key in keys))
        self.values_of = get if len(keys) > 1 else lambda obj: (get(obj),)
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
        self._known_with = {}  # skip -> known | skip

    def known_with(self, skip):
        """The listed names and ``skip`` (a section's nested sections) as one set, made once per ``skip``."""
        known = self._known_with.get(skip)
        if known is None:
            known = self._known_with[skip] = self.known | frozenset(skip)
        return known


_PLANS = {}


def _plan(keys):
    plan = _PLANS.get(id(keys))
    if plan is None or plan.keys is not keys:
        if len(_PLANS) > 64:  # the tables are module constants; ad-hoc tuples must not pile up
            _PLANS.clear()
        plan = _PLANS[id(keys)] = _Plan(keys)
    return plan


# The key tables' plans, unpacked once: parsing and rendering run them per item (a million an import).
ITEM_PLAN = _plan(ITEM_KEYS)
ITEM_AND_POLICY_PLAN = _plan(_ITEM_AND_POLICY_KEYS)
BACKUP_DATA_PLAN = _plan(BACKUP_DATA_KEYS)
EXTEND_INFO_PLAN = _plan(EXTEND_INFO_KEYS)
VOLUME_BACKUP_PLAN = _plan(VOLUME_BACKUP_KEYS)
REPLICATION_RECORD_PLAN = _plan(REPLICATION_RECORD_KEYS)
