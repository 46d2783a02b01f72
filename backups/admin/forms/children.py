"""Admin forms of volume backups and replication records, and the inline formset that orders them."""
from django.db.models import F, Max
from django.forms.models import BaseInlineFormSet

from backups.document.keys import REPLICATION_RECORD_KEYS, VOLUME_BACKUP_KEYS
from backups.document.parse import parse_section
from backups.models import ReplicationRecord, VolumeBackup

from .schema_form import SchemaModelForm, Section


class ChildAdminForm(SchemaModelForm):
    """A volume backup or replication record, judged by ``parse_section`` with its key table.

    ``position`` orders the children in the item's JSON; blank places a new one after the last.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "position" in self.fields:
            self.fields["position"].required = False
            self.fields["position"].help_text = "Order within the item, from 0; blank: after the last."

    def document(self):
        return self._section_json(self.sections[0])

    def parse(self, document):
        section = self.sections[0]
        self.loose = []
        values = parse_section(
            document, section.keys, section.path, extra_attr=section.extra_attr, loose=self.loose
        )
        self.instance.as_given = values["as_given"]
        return values

    def save(self, commit=True):
        if self.instance.position is None:
            self.instance.position = _next_position(type(self.instance), self.instance.item_id)
        return super().save(commit)


def _next_position(model, item_id):
    last = model.objects.filter(item_id=item_id).aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


class VolumeBackupAdminForm(ChildAdminForm):
    sections = (Section("the volume backup", "", VOLUME_BACKUP_KEYS, "extra"),)

    class Meta:
        model = VolumeBackup
        fields = "__all__"


class ReplicationRecordAdminForm(ChildAdminForm):
    sections = (Section("the replication record", "", REPLICATION_RECORD_KEYS, "extra"),)

    class Meta:
        model = ReplicationRecord
        fields = "__all__"


class PositionedInlineFormSet(BaseInlineFormSet):
    """Children with a unique ``(item, position)``: reordering them in one save never collides.

    Rows that move or go away are first shifted past every position in use, so that saving the
    rows one by one never puts two at the same position, whatever the order of the forms.
    """

    def save(self, commit=True):
        if commit:
            moving = [
                form.instance.pk
                for form in self.initial_forms
                if form in self.deleted_forms or "position" in form.changed_data
            ]
            if moving:
                siblings = self.model.objects.filter(item=self.instance)
                top = siblings.aggregate(top=Max("position"))["top"] or 0
                siblings.filter(pk__in=moving).update(position=F("position") + top + 1)
        return super().save(commit)
