"""Form fields that each carry one schema key's JSON value, and ``field_for_key`` that picks one."""
import json

from django import forms
from django.contrib.admin import widgets as admin_widgets
from django.core.exceptions import ValidationError
from django.utils.text import capfirst

from backups.document import kinds
from backups.document.timestamps import format_timestamp

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
    kinds.Object: '{"code": "BackupService.9900"}',
    kinds.ListOfObjects: '[{"image_id": "fe84dd80"}]',
}


def field_for_key(key, model_field):
    """The form field of one schema key, labelled and explained by its model field."""
    kind = key.kind
    parts = ("Required." if key.required else "", str(model_field.help_text))
    help_text = " ".join(part for part in parts if part)
    common = {"label": capfirst(model_field.verbose_name), "help_text": help_text}
    if isinstance(kind, kinds.String):
        return StringValueField(multiline=kind.max_length is None, **common)
    if isinstance(kind, kinds.Choice):
        labels = dict(model_field.flatchoices)
        options = [(value, f'{labels.get(value, value)} ("{value}")') for value in kind.values]
        return SelectValueField(options=options, **common)
    if isinstance(kind, kinds.Boolean):
        return SelectValueField(options=[(True, "true"), (False, "false")], **common)
    if isinstance(kind, kinds.Integer):
        return IntegerValueField(**common)
    if isinstance(kind, kinds.Timestamp):
        return TimestampValueField(**common)
    if isinstance(kind, kinds.Scalar):
        return JsonTextField(example=_SCALAR_EXAMPLE, multiline=False, **common)
    if isinstance(kind, (kinds.Object, kinds.ListOfObjects)):
        return JsonTextField(example=_JSON_EXAMPLES[type(kind)], **common)
    raise TypeError(f"no admin form field for {type(kind).__name__} (key {key.name})")
