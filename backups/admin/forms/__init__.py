"""Admin forms that judge an edit by the import's rules: fields carry JSON values, the document decides.

Each form field stands for one key of a key table in ``backups.document.keys`` (``ITEM_KEYS``,
``BACKUP_DATA_KEYS``…) and only turns the admin's text into that key's JSON value. ``clean()``
assembles the edited section as CSBS JSON and runs it through ``parse.parse_item`` (the item) or
``parse.parse_section`` (a volume backup, a replication record) — the functions the import
command uses — so an edit is accepted exactly when the same JSON would import. The parsed values,
not the typed ones, are what gets saved; each ``ItemInvalid`` lands on the field its JSON path
names, with the import's own message (``backup_data.ram: must be a string or a number, …``).

How a value is typed (the help text under each field says it again):

* text: blank is ``null``; ``""`` (two double quotes) is the empty string, which CSBS often sends
  (``"eip": ""``), so editing another field never turns ``""`` into ``null`` or back;
* enumerations and booleans: select boxes whose options are JSON values, ``null`` included;
* integers: digits; timestamps: ``2017-04-15T04:20:37.277880`` (``Z`` or an offset allowed), shown
  with all six fraction digits so that saving never truncates them;
* ``ram``/``vcpus``/``disk``/``dec_size``, ``fail_code``, ``os_images_data``, ``extra_info`` and the
  ``extra`` objects (keys the seed does not list): JSON, pretty-printed; blank is ``null`` (or the
  shape's default, ``{}``/``[]``). Text that is not JSON is refused with the parser's position.

Modules: ``fields`` (the value fields, ``field_for_key``), ``schema_form`` (``SchemaModelForm``,
``Section``), ``items`` (the item's form), ``children`` (volume backups, replication records, the
inline formset).
"""
from .children import (
    ChildAdminForm,
    PositionedInlineFormSet,
    ReplicationRecordAdminForm,
    VolumeBackupAdminForm,
)
from .fields import JsonValueField, field_for_key
from .items import ITEM_SECTIONS, CheckpointItemAdminForm
from .schema_form import SchemaModelForm, Section

__all__ = [
    "ITEM_SECTIONS", "CheckpointItemAdminForm", "ChildAdminForm", "JsonValueField", "PositionedInlineFormSet",
    "ReplicationRecordAdminForm", "SchemaModelForm", "Section", "VolumeBackupAdminForm", "field_for_key",
]
