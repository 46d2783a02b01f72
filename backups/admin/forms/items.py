"""The checkpoint item's admin form: its own keys, judged by ``parse_item``."""
from backups.document.keys import (
    BACKUP_DATA_KEYS,
    EXTEND_INFO_KEYS,
    EXTEND_INFO_SECTIONS,
    ITEM_KEYS,
    ITEM_SECTIONS,
    POLICY_KEY,
)
from backups.document.parse import parse_item
from backups.models import CheckpointItem

from .schema_form import SchemaModelForm, Section

ITEM_SECTIONS = (
    Section("the item", "", ITEM_KEYS + (POLICY_KEY,), "extra", reserved=ITEM_SECTIONS),
    Section("backup_data", "backup_data.", BACKUP_DATA_KEYS, "backup_data_extra"),
    Section(
        "extend_info", "extend_info.", EXTEND_INFO_KEYS, "extend_info_extra",
        reserved=EXTEND_INFO_SECTIONS,
    ),
)


class CheckpointItemAdminForm(SchemaModelForm):
    """An item's own keys (children are inlines with their own forms), judged by ``parse_item``."""

    sections = ITEM_SECTIONS

    class Meta:
        model = CheckpointItem
        fields = "__all__"

    def document(self):
        top, backup_data, extend_info = (self._section_json(section) for section in self.sections)
        document = {**top, "backup_data": backup_data, "extend_info": extend_info}
        for section in self.sections[1:]:  # a section given as something else than an object
            name = section.path.rstrip(".")
            if name in self.as_given and self._untouched(section):
                document[name] = self.as_given[name]
        # Children lists kept as given (not lists of objects) have no inline rows: they stay as given.
        for path in ("extend_info.volume_backups", "replication_records"):
            if path in self.as_given:
                parent, _, name = path.rpartition(".")
                target = document[parent] if parent else document
                if isinstance(target, dict):
                    target[name] = self.as_given[path]
        return document

    def parse(self, document):
        parsed = parse_item(document)
        self.instance.as_given = parsed.fields["as_given"]
        self.loose = parsed.loose
        return parsed.fields
