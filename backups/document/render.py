"""Rendering: the item as the API returns it, from model instances or a parsed item's column values."""
import operator

from .jsontext import loads_exact
from .keys import (
    BACKUP_DATA_PLAN,
    EXTEND_INFO_PLAN,
    EXTRA_KEYS,
    ITEM_PLAN,
    REPLICATION_RECORD_PLAN,
    VOLUME_BACKUP_PLAN,
)


def _render_values(plan, values):
    """A section from its column ``values`` (in the order of ``plan``'s keys), without extras."""
    section = dict(zip(plan.names, values, strict=True))
    for name, dump in plan.dumps:
        section[name] = dump(section[name])
    return section


def _row_renderer(plan):
    """``render(row)``: ``_render_values`` for a dict of column values by attribute (the bulk
    writers' rows), generated once per key table: one dict display of the keys in order, each
    value read from the row and dumped by its kind where the kind writes it differently. A
    million items are rendered per import; this builds each section in one step."""
    render = getattr(plan, "render_row", None)  # as parse._accept_common keeps its check
    if render is None:
        namespace = {}
        entries = []
        dumps = dict(plan.dumps)
        for index, key in enumerate(plan.keys):
            value = f"row[{key.attr!r}]"
            if key.name in dumps:
                namespace[f"dump_{index}"] = dumps[key.name]
                value = f"dump_{index}({value})"
            entries.append(f"{key.name!r}: {value}")
        exec(f"def render(row):\n    return {{{', '.join(entries)}}}\n", namespace)  # noqa: S102 - from the key tables
        render = plan.render_row = namespace["render"]
    return render


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
    section = _render_values(VOLUME_BACKUP_PLAN, VOLUME_BACKUP_PLAN.values_of(volume_backup))
    return _overlay(_with_extra(section, volume_backup.extra), volume_backup.as_given)


def render_replication_record(record):
    section = _render_values(REPLICATION_RECORD_PLAN, REPLICATION_RECORD_PLAN.values_of(record))
    return _overlay(_with_extra(section, record.extra), record.as_given)


#: The item's values that are not keys of its sections, in ``_assemble``'s order.
_OTHERS = ("backup_data_extra", "extend_info_extra", "policy_id", "as_given", "extra")
_others_of_object = operator.attrgetter(*_OTHERS)
_others_of_row = operator.itemgetter(*_OTHERS)


def render_item(item, volume_backups, replication_records):
    """The item as the API returns it (a dict) from model instances (or attribute objects);
    children in the order given."""
    return _assemble(
        lambda plan: _render_values(plan, plan.values_of(item)),
        _others_of_object(item),
        [render_volume_backup(v) for v in volume_backups],
        [render_replication_record(r) for r in replication_records],
    )


def render_parsed(parsed):
    """``render_item`` for a ``ParsedItem`` (its column values as dicts: the bulk writers' path)."""
    fields = parsed.fields
    return _assemble(
        lambda plan: _row_renderer(plan)(fields),
        _others_of_row(fields),
        [_render_row(row, VOLUME_BACKUP_PLAN) for row in parsed.volume_backups],
        [_render_row(row, REPLICATION_RECORD_PLAN) for row in parsed.replication_records],
    )


def _render_row(row, plan):
    return _overlay(_with_extra(_row_renderer(plan)(row), row["extra"]), row["as_given"])


def _with_extra(section, extra):
    """A section's unknown keys after its listed ones."""
    if extra:
        section.update(extra)
    return section


def _assemble(section_of, others, volume_backups, replication_records):
    """The item from its sections (``section_of(plan)``, without extras), the values ``_OTHERS``
    names (``others``) and its rendered children."""
    backup_data_extra, extend_info_extra, policy_id, as_given, extra = others
    document = section_of(ITEM_PLAN)
    document["backup_data"] = _with_extra(section_of(BACKUP_DATA_PLAN), backup_data_extra)
    extend_info = _with_extra(section_of(EXTEND_INFO_PLAN), extend_info_extra)
    extend_info["volume_backups"] = volume_backups
    document["extend_info"] = extend_info
    document["replication_records"] = replication_records
    if policy_id is not None:
        document["policy_id"] = policy_id
    if as_given:
        _overlay(document, as_given)
    if extra:
        document.update(extra)
    return document
