"""Admin forms that judge an edit by the import's rules: fields carry JSON values, the document decides.

Each form field stands for one key of a key table in ``backups.document.schema`` (``ITEM_KEYS``,
``BACKUP_DATA_KEYS``…) and only turns the admin's text into that key's JSON value. ``clean()``
assembles the edited section as CSBS JSON and runs it through ``schema.parse_item`` (the item) or
``schema.parse_section`` (a volume backup, a replication record) — the functions the import
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

The ingest rule is the import's: only ``id``, ``status`` and ``created_at`` are refused; a value
its column cannot hold is kept as given (``as_given``). The form shows such a value in its field
(a select box gets it as an extra option), keeps it exactly while the field is left alone, and
``loose`` lists what an edit kept as given, for the admin's warning.
"""
import json

from django import forms
from django.contrib.admin import widgets as admin_widgets
from django.core.exceptions import ValidationError
from django.db.models import F, Max
from django.forms.models import BaseInlineFormSet
from django.utils.text import capfirst

from backups.document import schema
from backups.document.schema import loads_exact
from backups.document.timestamps import format_timestamp
from backups.models import CheckpointItem, ReplicationRecord, VolumeBackup

EMPTY_STRING = '""'


def _canonical(value):
    """Compare JSON values by their JSON text, so that ``1``, ``1.0`` and ``true`` differ."""
    return json.dumps(value, sort_keys=True)


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def _loads(text):
    return json.loads(text, parse_constant=_reject_constant)


def _json_or_text(text):
    """The JSON value of ``text``, or ``text`` itself: the schema then names what it expected."""
    try:
        return _loads(text)
    except ValueError:
        return text


# --- fields: text in the form <-> one JSON value ----------------------------------------------


class JsonValueField(forms.Field):
    """Base field: shows a stored value as text and gives back the JSON value typed (``None`` if blank).

    It never judges the value: ``clean()`` of the form hands it to the schema. ``has_changed``
    compares JSON values, so re-saving a page changes nothing and logs nothing.
    """

    hint = ""

    def __init__(self, *, hint=None, help_text="", **kwargs):
        kwargs.setdefault("required", False)
        hint = self.hint if hint is None else hint
        help_text = " ".join(part for part in (str(help_text), hint) if part)
        super().__init__(help_text=help_text, **kwargs)

    def to_text(self, value):
        """The stored (Python) value as the input shows it."""
        raise NotImplementedError

    def from_text(self, text):
        """The JSON value of the typed text; blank is ``None``."""
        raise NotImplementedError

    def to_python(self, value):
        if value is None:
            return None
        return self.from_text(str(value))

    def has_changed(self, initial, data):
        try:
            return _canonical(self.to_python(initial)) != _canonical(self.to_python(data))
        except ValidationError:
            return True

    def describe(self, value):
        """A stored value in one line, for change messages."""
        return self.to_text(value) or "null"


class StringValueField(JsonValueField):
    hint = 'Blank is null; "" is the empty string.'

    def __init__(self, *, multiline=False, **kwargs):
        if multiline:
            widget = admin_widgets.AdminTextareaWidget(attrs={"rows": 2})
        else:
            widget = admin_widgets.AdminTextInputWidget
        super().__init__(widget=widget, **kwargs)

    def to_text(self, value):
        if value is None:
            return ""
        return EMPTY_STRING if value == "" else value

    def from_text(self, text):
        if text == "":
            return None
        if isinstance(self.widget, forms.Textarea):
            text = text.replace("\r\n", "\n")  # browsers send a textarea's line breaks as CRLF
        return "" if text == EMPTY_STRING else text


class SelectValueField(JsonValueField):
    """A select box whose option values are JSON (``null``, ``"available"``, ``true``)."""

    def __init__(self, *, options, **kwargs):
        choices = [("null", "— null —")] + [(_canonical(value), label) for value, label in options]
        super().__init__(widget=forms.Select(choices=choices), **kwargs)

    def to_text(self, value):
        return _canonical(value)

    def describe(self, value):
        return _canonical(value)

    def from_text(self, text):
        # A value outside the options (a crafted POST) goes to the schema as typed, to be refused there.
        return None if text == "" else _json_or_text(text)


class IntegerValueField(JsonValueField):
    def __init__(self, **kwargs):
        super().__init__(widget=forms.TextInput(attrs={"class": "vIntegerField"}), **kwargs)

    def to_text(self, value):
        return "" if value is None else str(value)

    def from_text(self, text):
        text = text.strip()
        return None if text == "" else _json_or_text(text)


class TimestampValueField(JsonValueField):
    hint = "UTC, e.g. 2017-04-15T04:20:37.277880 (Z or ±HH:MM allowed)."

    def __init__(self, **kwargs):
        super().__init__(widget=admin_widgets.AdminTextInputWidget, **kwargs)

    def to_text(self, value):
        if value is None or isinstance(value, str):  # a str: initial data from the add page's URL
            return value or ""
        return format_timestamp(value)

    def from_text(self, text):
        text = text.strip()
        return None if text == "" else text


class JsonTextField(JsonValueField):
    """JSON typed in a text box, shown pretty-printed; text that is not JSON is refused here."""

    def __init__(self, *, example, multiline=True, **kwargs):
        self.example = example
        self.multiline = multiline
        widget = (
            admin_widgets.AdminTextareaWidget(attrs={"rows": 4, "style": "font-family: monospace"})
            if multiline
            else forms.TextInput(attrs={"style": "font-family: monospace"})
        )
        kwargs.setdefault("hint", f"JSON, e.g. {example}.")
        super().__init__(widget=widget, **kwargs)

    def to_text(self, value):
        if value is None:
            return ""
        return json.dumps(value, indent=2 if self.multiline else None, ensure_ascii=False)

    def describe(self, value):
        return json.dumps(value, ensure_ascii=False)

    def from_text(self, text):
        if text.strip() == "":
            return None
        try:
            return _loads(text)
        except json.JSONDecodeError as error:
            raise ValidationError(
                f"Not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}. "
                f"Write JSON, e.g. {self.example} (strings in double quotes).",
                code="invalid_json",
            ) from None
        except ValueError as error:
            raise ValidationError(f"Not valid JSON: {error}.", code="invalid_json") from None


class ExtraKeysField(JsonTextField):
    """The keys of a section that the seed does not list: a JSON object; blank is ``{}``.

    A key that has its own field in the form is refused here, because the rendered item would
    write the extra value over the field's.
    """

    def __init__(self, *, reserved, **kwargs):
        self.reserved = frozenset(reserved)
        kwargs.setdefault("hint", 'A JSON object, e.g. {"taskid": "e0a2"}.')
        super().__init__(example='{"taskid": "e0a2"}', **kwargs)

    def to_python(self, value):
        parsed = super().to_python(value)
        return {} if parsed is None else parsed

    def validate(self, value):
        super().validate(value)
        if not isinstance(value, dict):
            kind = type(value).__name__
            raise ValidationError(f"Must be a JSON object ({{…}}), got {kind}.", code="not_object")
        taken = sorted(self.reserved.intersection(value))
        if taken:
            names = ", ".join(taken)
            raise ValidationError(
                f"{names}: listed key(s) of this section with a field of their own; edit them there.",
                code="reserved_key",
            )


_SCALAR_EXAMPLE = '4096 or "4096"'
_JSON_EXAMPLES = {
    schema.Object: '{"code": "BackupService.9900"}',
    schema.ListOfObjects: '[{"image_id": "fe84dd80"}]',
}


def field_for_key(key, model_field):
    """The form field of one schema key, labelled and explained by its model field."""
    kind = key.kind
    parts = ("Required." if key.required else "", str(model_field.help_text))
    help_text = " ".join(part for part in parts if part)
    common = {"label": capfirst(model_field.verbose_name), "help_text": help_text}
    if isinstance(kind, schema.String):
        return StringValueField(multiline=kind.max_length is None, **common)
    if isinstance(kind, schema.Choice):
        labels = dict(model_field.flatchoices)
        options = [(value, f'{labels.get(value, value)} ("{value}")') for value in kind.values]
        return SelectValueField(options=options, **common)
    if isinstance(kind, schema.Boolean):
        return SelectValueField(options=[(True, "true"), (False, "false")], **common)
    if isinstance(kind, schema.Integer):
        return IntegerValueField(**common)
    if isinstance(kind, schema.Timestamp):
        return TimestampValueField(**common)
    if isinstance(kind, schema.Scalar):
        return JsonTextField(example=_SCALAR_EXAMPLE, multiline=False, **common)
    if isinstance(kind, (schema.Object, schema.ListOfObjects)):
        return JsonTextField(example=_JSON_EXAMPLES[type(kind)], **common)
    raise TypeError(f"no admin form field for {type(kind).__name__} (key {key.name})")


# --- forms ------------------------------------------------------------------------------------


class Section:
    """One JSON object of the form's document: its path, its key table and its extras attribute."""

    def __init__(self, title, path, keys, extra_attr, reserved=()):
        self.title = title
        self.path = path
        self.keys = keys
        self.extra_attr = extra_attr
        self.reserved = {key.name for key in keys} | set(reserved)


class SchemaModelForm(forms.ModelForm):
    """A ``ModelForm`` whose schema keys are ``JsonValueField``s, judged by ``schema`` in ``clean()``."""

    #: The sections the form edits, the first one being the document's top level.
    sections = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model_fields = self._meta.model._meta
        for section in self.sections:
            for key in section.keys:
                if key.attr in self.fields:
                    self.fields[key.attr] = field_for_key(key, model_fields.get_field(key.attr))
            if section.extra_attr in self.fields:
                model_field = model_fields.get_field(section.extra_attr)
                self.fields[section.extra_attr] = ExtraKeysField(
                    reserved=section.reserved,
                    label=f"Other keys of {section.title}",
                    help_text=model_field.help_text,
                )
        #: The instance's values kept as given, by JSON path: shown and kept like stored values.
        self.as_given = loads_exact(self.instance.as_given) if self.instance.as_given else {}
        #: ``(json_path, what)`` of the values the edit keeps as given (``schema.ParsedItem.loose``).
        self.loose = []
        for section in self.sections:
            for key in section.keys:
                path = section.path + key.name
                if path in self.as_given and key.attr in self.fields:
                    self.initial[key.attr] = self.as_given[path]
                    _offer(self.fields[key.attr], self.as_given[path])
        #: The stored values behind the texts shown (``initial``), for change messages.
        self.stored_values = {}
        for name, field in self.fields.items():
            if isinstance(field, JsonValueField):
                self.stored_values[name] = self.initial.get(name)
                self.initial[name] = field.to_text(self.initial.get(name))

    # -- the document --

    def _typed(self, attr):
        """Whether ``attr`` takes the typed value: a new object, or a field the admin changed.

        An unchanged field keeps its stored value exactly, whatever the browser sent back (a
        textarea turns ``\n`` into ``\r\n``, a timestamp may be retyped with an offset).
        """
        return attr in self.fields and (self.instance._state.adding or attr in self.changed_data)

    def _value(self, section, key):
        if self._typed(key.attr):
            return self.cleaned_data.get(key.attr)
        path = section.path + key.name
        if path in self.as_given:
            return self.as_given[path]
        return key.kind.dump(getattr(self.instance, key.attr))

    def _untouched(self, section):
        """No field of ``section`` changed: it may stand as it was given (not even an object)."""
        attrs = [key.attr for key in section.keys] + [section.extra_attr]
        return not any(self._typed(attr) for attr in attrs)

    def _section_json(self, section):
        data = {}
        for key in section.keys:
            if key.attr in self.fields and key.attr in self.errors:
                continue  # already refused by its field; the schema would only repeat it
            value = self._value(section, key)
            kept = not self._typed(key.attr) and section.path + key.name in self.as_given
            if value is None and _null_means_default(key) and not kept:
                continue  # blank: the key's default ({} for fail_code, no policy_id), not a null as given
            data[key.name] = value
        if self._typed(section.extra_attr):
            extra = self.cleaned_data.get(section.extra_attr)
        elif section.path + schema.EXTRA_KEYS in self.as_given:
            extra = self.as_given[section.path + schema.EXTRA_KEYS]
        else:
            extra = getattr(self.instance, section.extra_attr)
        if isinstance(extra, dict):
            data.update({name: value for name, value in extra.items() if name not in section.reserved})
        return data

    def document(self):
        """The edited object as CSBS JSON (the shape ``parse`` reads)."""
        raise NotImplementedError

    def parse(self, document):
        """``{attr: value}`` of the document, by the import's rules; raises ``schema.ItemInvalid``.

        Sets ``instance.as_given`` and ``loose`` from the parse.
        """
        raise NotImplementedError

    # -- validation --

    def clean(self):
        cleaned_data = super().clean()
        keys = {section.path + key.name: key for section in self.sections for key in section.keys}
        document = self.document()
        refused = set()
        # parse() stops at the first broken key; parsing again without it reports every one.
        while True:
            try:
                values = self.parse(document)
                break
            except schema.ItemInvalid as error:
                key = keys.get(error.field)
                if error.field in refused or key is None:
                    if error.field not in refused:
                        attr = self._extra_attr_of(error.field)
                        self.add_error(attr if attr in self.fields else None, str(error))
                    return cleaned_data
                refused.add(error.field)
                self.add_error(key.attr if key.attr in self.fields else None, str(error))
                # A required key cannot go: the stored value stands in (the same key fails again
                # when there is none, which ends the loop).
                stand_in = key.kind.dump(getattr(self.instance, key.attr)) if key.required else None
                _replace(document, error.field, stand_in)
        if refused:
            return cleaned_data
        for attr, value in values.items():
            if attr in self.fields:
                cleaned_data[attr] = value
        return cleaned_data

    def _extra_attr_of(self, path):
        """The extras field holding a path that is no listed key (``extend_info.taskid``)."""
        for section in sorted(self.sections, key=lambda section: len(section.path), reverse=True):
            if path.startswith(section.path):
                return section.extra_attr
        return None


def _null_means_default(key):
    """Whether an absent key renders other than ``null`` (``{}``, ``[]``, omitted ``policy_id``)."""
    return key is schema.POLICY_KEY or key.kind.dump(key.kind.column_default) is not None


def _offer(field, value):
    """Let a select box show a value kept as given (it is none of its options)."""
    if isinstance(field, SelectValueField):
        text = _canonical(value)
        if text not in {choice for choice, _ in field.widget.choices}:
            field.widget.choices = [*field.widget.choices, (text, f"{text} (kept as given)")]


def _replace(document, path, value):
    """Set the key at a dotted JSON path (``backup_data.ram``) of the document."""
    *parents, name = path.split(".")
    node = document
    for part in parents:
        node = node[part]
    node[name] = value


ITEM_SECTIONS = (
    Section("the item", "", schema.ITEM_KEYS + (schema.POLICY_KEY,), "extra", reserved=schema.ITEM_SECTIONS),
    Section("backup_data", "backup_data.", schema.BACKUP_DATA_KEYS, "backup_data_extra"),
    Section(
        "extend_info", "extend_info.", schema.EXTEND_INFO_KEYS, "extend_info_extra",
        reserved=schema.EXTEND_INFO_SECTIONS,
    ),
)


class CheckpointItemAdminForm(SchemaModelForm):
    """An item's own keys (children are inlines with their own forms), judged by ``schema.parse_item``."""

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
        parsed = schema.parse_item(document)
        self.instance.as_given = parsed.fields["as_given"]
        self.loose = parsed.loose
        return parsed.fields


class ChildAdminForm(SchemaModelForm):
    """A volume backup or replication record, judged by ``schema.parse_section`` with its key table.

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
        values = schema.parse_section(
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
    sections = (Section("the volume backup", "", schema.VOLUME_BACKUP_KEYS, "extra"),)

    class Meta:
        model = VolumeBackup
        fields = "__all__"


class ReplicationRecordAdminForm(ChildAdminForm):
    sections = (Section("the replication record", "", schema.REPLICATION_RECORD_KEYS, "extra"),)

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
