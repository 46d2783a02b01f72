"""The item's JSON text: ``dumps``/``loads_exact`` with integers of any size exact, and what jsonb holds."""
import json

import orjson

INT64 = 2**63
INT32 = 2**31


def jsonb_safe(value):
    """Whether jsonb (and the renderer's orjson) holds ``value`` exactly: no NUL, no integer beyond
    64 bits, no number beyond a double. A string holding the six characters ``\\u0000`` is taken
    for unsafe too, and merely kept as given."""
    try:
        return orjson.dumps(value).find(b"\\u0000") < 0  # find: bytes' ``in`` raises and clears a TypeError
    except orjson.JSONEncodeError:
        return False


def as_given_text(as_given):
    """The ``as_given`` column's text: JSON of ``{path: value}``, or ``None`` when empty."""
    return dumps(as_given) if as_given else None


def _exact_integers(value):
    """``value`` with integers beyond 64 bits as raw JSON number text (orjson writes 64 bits)."""
    if type(value) is int:
        return value if -INT64 <= value < 2**64 else orjson.Fragment(str(value))
    if isinstance(value, dict):
        return {key: _exact_integers(entry) for key, entry in value.items()}
    if isinstance(value, list):
        return [_exact_integers(entry) for entry in value]
    return value


def loads_exact(text):
    """JSON text back to values, integers of any size exact (orjson reads them as floats)."""
    return json.loads(text)


def dumps(document):
    """Compact JSON text, as stored in ``CheckpointItem.document`` and sent by the API.

    Integers of any size are written exactly.
    """
    try:
        return orjson.dumps(document).decode()
    except orjson.JSONEncodeError:
        return orjson.dumps(_exact_integers(document)).decode()
