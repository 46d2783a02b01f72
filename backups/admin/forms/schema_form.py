"""``SchemaModelForm``: a model form whose edit is assembled as CSBS JSON and judged by ``schema``.

The ingest rule is the import's: only ``id``, ``status`` and ``created_at`` are refused; a value
its column cannot hold is kept as given (``as_given``). The form shows such a value in its field
(a select box gets it as an extra option), keeps it exactly while the field is left alone, and
``loose`` lists what an edit kept as given, for the admin's warning.
"""
from django import forms

from backups.document.jsontext import loads_exact
from backups.document.keys import EXTRA_KEYS, POLICY_KEY
from backups.document.parse import ItemInvalid

from .fields import ExtraKeysField, JsonValueField, SelectValueField, _canonical, field_for_key


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
        #: ``(json_path, what)`` of the values the edit keeps as given (``ParsedItem.loose``).
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
        elif section.path + EXTRA_KEYS in self.as_given:
            extra = self.as_given[section.path + EXTRA_KEYS]
        else:
            extra = getattr(self.instance, section.extra_attr)
        if isinstance(extra, dict):
            data.update({name: value for name, value in extra.items() if name not in section.reserved})
        return data

    def document(self):
        """The edited object as CSBS JSON (the shape ``parse`` reads)."""
        raise NotImplementedError

    def parse(self, document):
        """``{attr: value}`` of the document, by the import's rules; raises ``ItemInvalid``.

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
            except ItemInvalid as error:
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
    return key is POLICY_KEY or key.kind.dump(key.kind.column_default) is not None


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
