"""Kinds of values: how one key's JSON value becomes a column value and back (or is kept as given)."""
from .jsontext import INT32, INT64, dumps, jsonb_safe
from .timestamps import format_timestamp, parse_timestamp


def json_kind(value):
    """The JSON type of a value in words, as the import's summary writes it."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer" if -INT64 <= value < INT64 else "integer beyond 64 bits"
    return {str: "string", float: "number", dict: "object", list: "array", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _describe(value):
    text = dumps(value) if not isinstance(value, bytes) else repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{json_kind(value).split(' ')[0]} {text}"


class Kind:
    """How one key's JSON value becomes a column value and back.

    ``load`` returns the column value or raises ``ValueError`` saying why the column cannot hold
    it (the value is then kept as given); ``None`` always loads as ``None``. ``dump`` writes a
    column value back; ``column_default`` is stored when the key is absent or kept as given.
    """

    expected = "a value"
    column_default = None

    def load(self, value):
        return value

    def dump(self, value):
        return value


class String(Kind):
    def __init__(self, max_length=None, non_empty=False, below=None):
        self.max_length = max_length
        self.non_empty = non_empty
        self.below = below
        self.expected = "a string" + (f" of at most {max_length} characters" if max_length else "")

    def load(self, value):
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError(f"must be {self.expected}, got {_describe(value)}")
        if self.non_empty and not value:
            raise ValueError("must not be empty")
        if self.max_length is not None and len(value) > self.max_length:
            raise ValueError(f"is {len(value)} characters long: at most {self.max_length} are allowed")
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        if self.below is not None and value >= self.below:
            raise ValueError("sorts with the NULLs: it must not start with U+10FFFF")
        return value


class Choice(Kind):
    def __init__(self, choices_class):
        self.values = tuple(choices_class.values)
        allowed = ", ".join(repr(v) if v == "" else v for v in self.values)
        self.expected = f"one of {allowed}"

    def load(self, value):
        if value is None:
            return None
        if not isinstance(value, str) or value not in self.values:
            raise ValueError(f"must be {self.expected}, got {_describe(value)}")
        return value


class Timestamp(Kind):
    expected = "an ISO 8601 timestamp"

    def load(self, value):
        return None if value is None else parse_timestamp(value)

    def dump(self, value):
        return format_timestamp(value)


class Boolean(Kind):
    expected = "true or false"

    def load(self, value):
        if value is None or value is True or value is False:
            return value
        raise ValueError(f"must be true or false, got {_describe(value)}")


class Integer(Kind):
    """An integer within its column's range: 64 bits, or 32 (``IntegerField``)."""

    def __init__(self, bits=64):
        self.limit = INT64 if bits == 64 else INT32
        self.bits = bits
        self.expected = "an integer"

    def load(self, value):
        if value is None:
            return None
        if type(value) is not int:
            raise ValueError(f"must be an integer, got {_describe(value)}")
        if not -self.limit <= value < self.limit:
            raise ValueError(f"is out of the {self.bits}-bit integer range")
        return value


class Scalar(Kind):
    """Any JSON value, kept with its JSON type in a jsonb column (the seed says String, CSBS sends
    numbers): only NUL and integers beyond 64 bits go to ``as_given``."""

    expected = "a string or a number"

    def load(self, value):
        return _jsonb_value(value)


def _jsonb_value(value):
    if not jsonb_safe(value):
        raise ValueError("holds NUL, an integer beyond 64 bits or a number beyond a double")
    return value


class Object(Kind):
    expected = "an object"

    def __init__(self, default=None):
        self.default = default
        self.column_default = None if default is None else default()

    def load(self, value):
        if value is None:
            return self.default() if self.default is not None else None
        if not isinstance(value, dict):
            raise ValueError(f"must be an object, got {_describe(value)}")
        return _jsonb_value(value)

    def dump(self, value):
        if value is None and self.default is not None:
            return self.default()
        return value


class ListOfObjects(Kind):
    expected = "an array of objects"
    column_default = []

    def load(self, value):
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
            raise ValueError(f"must be an array of objects, got {_describe(value)}")
        return _jsonb_value(value)

    def dump(self, value):
        return [] if value is None else value
