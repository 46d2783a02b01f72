"""Rendering: the item as the API returns it, from model instances or a parsed item's column values."""
from .jsontext import loads_exact
from .keys import (
    BACKUP_DATA_KEYS,
    EXTEND_INFO_KEYS,
    EXTRA_KEYS,
    ITEM_KEYS,
    REPLICATION_RECORD_KEYS,
    VOLUME_BACKUP_KEYS,
    _plan,
)


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
