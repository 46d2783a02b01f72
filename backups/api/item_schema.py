"""The item's JSON Schema for the OpenAPI description, derived from ``backups.document.keys``' key tables."""

from backups.document import kinds
from backups.document.keys import (
    BACKUP_DATA_KEYS,
    EXTEND_INFO_KEYS,
    ITEM_KEYS,
    POLICY_KEY,
    REPLICATION_RECORD_KEYS,
    VOLUME_BACKUP_KEYS,
)

#: How ``backups.document.timestamps.format_timestamp`` writes an instant (UTC, no offset: not RFC 3339).
TIMESTAMP_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}$"
NO_NUL_PATTERN = r"^[^\u0000]*$"


def kind_schema(kind, *, nullable):
    """The JSON Schema of one ``backups.document.kinds`` kind, as ``render_item`` writes its values."""
    if isinstance(kind, kinds.String):
        result = {"type": "string"}
        if kind.max_length is not None:
            result["maxLength"] = kind.max_length
        if kind.non_empty:
            result["minLength"] = 1
    elif isinstance(kind, kinds.Choice):
        result = {"type": "string", "enum": list(kind.values)}
    elif isinstance(kind, kinds.Timestamp):
        result = {
            "type": "string",
            "pattern": TIMESTAMP_PATTERN,
            "description": "UTC, no offset, six fraction digits",
            "example": "2017-04-15T04:20:37.277880",
        }
    elif isinstance(kind, kinds.Boolean):
        result = {"type": "boolean"}
    elif isinstance(kind, kinds.Integer):
        result = {"type": "integer", "format": "int64"}
    elif isinstance(kind, kinds.Scalar):
        result = {
            "oneOf": [{"type": "string"}, {"type": "number"}],
            "description": "a string or a number, as imported",
        }
    elif isinstance(kind, kinds.ListOfObjects):
        return {"type": "array", "items": {"type": "object", "additionalProperties": True}}
    elif isinstance(kind, kinds.Object):
        result = {"type": "object", "additionalProperties": True}
        nullable = nullable and kind.default is None  # rendered as {} when unknown
    else:
        raise TypeError(f"no JSON Schema for {type(kind).__name__}: add it to kind_schema")
    if nullable:
        result["nullable"] = True
    return result


def section_schema(keys, *, sections=None):
    """An object with every key of ``keys`` (always written, ``null`` when unknown) plus extras."""
    properties = {key.name: kind_schema(key.kind, nullable=not key.required) for key in keys}
    properties.update(sections or {})
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": True,  # keys the seed does not list come back as imported
    }


def item_json_schema():
    """``CheckpointItem``: the item as ``backups.document.render.render_item`` writes it."""
    volume_backup = section_schema(VOLUME_BACKUP_KEYS)
    replication_record = section_schema(REPLICATION_RECORD_KEYS)
    extend_info = section_schema(
        EXTEND_INFO_KEYS,
        sections={"volume_backups": {"type": "array", "items": volume_backup}},
    )
    item = section_schema(
        ITEM_KEYS,
        sections={
            "backup_data": section_schema(BACKUP_DATA_KEYS),
            "extend_info": extend_info,
            "replication_records": {"type": "array", "items": replication_record},
        },
    )
    item["properties"][POLICY_KEY.name] = kind_schema(POLICY_KEY.kind, nullable=False)
    item["description"] = (
        "A CSBS checkpoint item. Every key of the seed is present (null when unknown, [] for lists, "
        "{} for fail_code); policy_id only when set; keys the seed does not list are kept as imported. "
        "The types below are the seed's: a value CSBS sent otherwise (an empty string for a time, a "
        "number with a fraction for an integer…) is returned as it was given, and filters treat it as "
        "absent (docs/API.md, the ingest rule)."
    )
    return item
