"""The items of a CSBS list response, read from a file of any size in a few large parses.

``read_items(raw, key)`` yields each item (a dict, as JSON gives it) of ``{"checkpoint_items":
[...]}`` or ``{"checkpoint_item": {...}}``, in order, with memory bounded by ``CHUNK``:

* **Fast path.** The array is read ``CHUNK`` bytes at a time; each chunk is cut after its last
  ``}`` that is followed by ``,`` or ``]`` and parsed by orjson as ``[`` + cut + ``]`` — thousands
  of items in one C call instead of one parser event per value. A cut that falls inside a string
  cannot parse (JSON's grammar is read the same way from an item boundary), so a successful parse
  proves the cut is an item boundary; the next cut is tried otherwise.
* **Exact numbers.** orjson reads integers beyond 64 bits as floats; a chunk with a run of 20 digits
  (or ``-`` and 19) is parsed by the standard library instead, integers exact, and a number beyond
  a double's range kept as a ``Decimal`` (``backups.document.parse`` keeps it as given).
* **Fallback.** When no cut parses — the file is not valid JSON, or is written in a way the cut
  does not see — the rest of the file, from the last item boundary, goes through ijson's C parser
  (``yajl2_c``), whose error then says what is wrong; ``JSONError`` carries it. Items are yielded
  the same either way.
"""
import json
import math
import re
from decimal import Decimal

import ijson
import orjson

CHUNK = 4 << 20
#: Longest tail after the array (``]`` … ``}``) read into memory to check it is valid JSON.
MAX_TAIL = 1 << 20
_ARRAY_START = re.compile(rb'\A\s*\{\s*"checkpoint_items"\s*:\s*\[', re.ASCII)
#: Digits to ``0``, ``-`` kept, the rest to a space: then two ``bytes.find`` (C, memchr-fast) tell
#: whether a text holds 20 digits in a row or ``-`` and 19 (a regex would step through every byte).
_DIGITS = bytes.maketrans(
    bytes(range(256)), bytes(b"0"[0] if 48 <= c <= 57 else (c if c == 45 else 32) for c in range(256))
)
_TWENTY_DIGITS = b"0" * 20
_MINUS_NINETEEN = b"-" + b"0" * 19
_SPACE = b" \t\r\n"
#: A value of the list key that appears again after the array (the fast path reads one array).
JSONError = (ijson.JSONError, ValueError)


class RepeatedKey(ValueError):
    """The root object has the list key twice."""


def _number(text):
    """A JSON number with a fraction or an exponent: a float, or a Decimal beyond a double's range."""
    value = float(text)
    return value if math.isfinite(value) else Decimal(text)


def _exact(value):
    """ijson's Decimals as floats (the JSON type orjson gives), unless beyond a double's range."""
    if isinstance(value, Decimal):
        as_float = float(value)
        return as_float if math.isfinite(as_float) else value
    if isinstance(value, dict):
        return {key: _exact(entry) for key, entry in value.items()}
    if isinstance(value, list):
        return [_exact(entry) for entry in value]
    return value


def loads(text):
    """One JSON text (bytes) to values: orjson, or the exact path when it holds a long number."""
    digits = text.translate(_DIGITS)
    if digits.find(_TWENTY_DIGITS) < 0 and digits.find(_MINUS_NINETEEN) < 0:
        return orjson.loads(text)
    return json.loads(text, parse_float=_number)


class _Stream:
    """The rest of a file after ``head`` bytes already read (ijson reads from it)."""

    def __init__(self, head, raw):
        self.head = head
        self.raw = raw

    def read(self, size=-1):
        if size == 0:  # ijson reads nothing first, to see whether the stream gives bytes
            return b""
        if self.head:
            data, self.head = self.head, b""
            return data
        return self.raw.read(size)


def read_items(raw, key, list_key):
    """Yield the items of the response in ``raw`` (a binary file at the root object's start).

    ``key`` is the root's first key (checked by the caller); ``list_key`` the list response's.
    """
    if key != list_key:
        yield _detail(raw, key)
        return
    head = raw.read(1 << 16)
    start = _ARRAY_START.match(head)
    if start is None:
        yield from _fallback(_Stream(head, raw), f"{key}.item")
        return
    yield from _list(raw, head[start.end() :], list_key)


def _detail(raw, key):
    text = raw.read()
    try:
        return loads(text)[key]
    except (orjson.JSONDecodeError, ValueError):
        pass
    return next(iter(_fallback(_Stream(text, raw), key)))


def _list(raw, buffer, list_key):
    eof = False
    first = True
    while True:
        if len(buffer) < CHUNK and not eof:
            more = raw.read(CHUNK)
            eof = not more
            buffer += more
        buffer = buffer.lstrip(_SPACE)
        if buffer[:1] == b"]":
            yield from _tail(raw, buffer[1:], list_key)
            return
        lead = b""  # what ijson must see before the buffer to be in the fast path's state
        if not first:
            if buffer[:1] != b",":  # not a separator: ijson says what is wrong
                yield from _rest(raw, b"{}", buffer, list_key)
                return
            buffer = buffer[1:].lstrip(_SPACE)
            lead = b"{},"
        items, cut = _parse_cut(buffer)
        while items is None and not eof and len(buffer) <= 16 * CHUNK:  # an item longer than the chunk
            more = raw.read(CHUNK)
            eof = not more
            buffer += more
            items, cut = _parse_cut(buffer)
        if items is None:
            yield from _rest(raw, lead, buffer, list_key)
            return
        yield from items
        first = False
        buffer = buffer[cut:]


def _rest(raw, lead, buffer, list_key):
    """The rest of the array through ijson. ``lead`` is a placeholder item (``{}`` or ``{},``)
    standing for the items already read, so that ijson is in the same state: it is dropped."""
    prefix = b'{"' + list_key.encode() + b'":[' + lead
    yield from _fallback(_Stream(prefix + buffer, raw), f"{list_key}.item", skip=1 if lead else 0)


def _parse_cut(buffer, tries=4):
    """``(items, end)`` of the longest prefix of ``buffer`` that is whole items, or ``(None, 0)``.

    The first cut tried is the last ``}`` where braces balance (counted as if no string held one:
    a guess that orjson then proves or refutes); then the last few ``}`` before ``,`` or ``]``.
    """
    guess = _balanced_end(buffer)
    candidates = [guess] if guess is not None else []
    end = len(buffer)
    while len(candidates) <= tries:
        end = buffer.rfind(b"}", 0, end)
        if end < 0:
            break
        if end != guess and _followed_by_separator(buffer, end):
            candidates.append(end)
    for end in candidates:
        try:
            items = loads(b"[" + buffer[: end + 1] + b"]")
        except (orjson.JSONDecodeError, ValueError):
            continue
        return items, end + 1
    return None, 0


def _followed_by_separator(buffer, end):
    return buffer[end + 1 : end + 66].lstrip(_SPACE)[:1] in (b",", b"]", b"")


_BRACES = re.compile(rb"[{}]")


def _balanced_end(buffer, window=1 << 16):
    """The last ``}`` of ``buffer`` that closes a top-level item if no string holds a brace."""
    while True:
        start = max(0, len(buffer) - window)
        region = buffer[start:]
        # Brace balance at the region's start, the buffer starting between items (balance 0).
        depth = buffer.count(b"{", 0, start) - buffer.count(b"}", 0, start)
        last = None
        for match in _BRACES.finditer(region):
            if match.group() == b"{":
                depth += 1
            else:
                depth -= 1
                if depth == 0 and _followed_by_separator(buffer, start + match.start()):
                    last = start + match.start()
        if last is not None or start == 0:
            return last
        window *= 4


def _tail(raw, tail, list_key):
    """After the array: the rest of the root object, which must be valid JSON."""
    tail += raw.read(MAX_TAIL)
    if len(tail) >= MAX_TAIL or raw.read(1):
        raise ValueError("the response goes on for more than 1 MB after the items' array")
    try:
        rest = loads(b'{"":[]' + tail)
    except (orjson.JSONDecodeError, ValueError):
        # ijson words the error (a truncated file, trailing garbage): parse an empty array in its place.
        yield from _fallback(_Stream(b'{"' + list_key.encode() + b'":[]' + tail, raw), f"{list_key}.item")
        return
    if not isinstance(rest, dict) or list_key in rest:
        raise RepeatedKey(f"the key {list_key!r} appears twice")


def _fallback(stream, prefix, skip=0):
    """ijson's C parser over the rest; ``skip`` placeholder items (an empty object) dropped."""
    for index, item in enumerate(ijson.items(stream, prefix, use_float=False)):
        if index >= skip:
            yield _exact(item)


# --- pieces for worker processes ----------------------------------------------------------------


class NotCut(Exception):
    """``read_pieces`` met something it does not cut (the caller reads the file with ``read_items``)."""


def read_pieces(raw, key, list_key):
    """The list's array in pieces of JSON text (``[…]``), for worker processes to parse.

    Each piece is cut after a ``}`` where braces balance (counted as if no string held one) and is
    followed by ``,`` or ``]``: a brace count per chunk in this process instead of a parse. The
    worker's parse proves the cut; if it fails, or anything here is unusual (a detail response, a
    missing separator, no cut, an error after the array), the caller reads the file again with
    ``read_items``, whose messages say what is wrong. Raises ``NotCut`` for those cases.
    """
    if key != list_key:
        raise NotCut("a detail response")
    buffer = raw.read(1 << 16)
    start = _ARRAY_START.match(buffer)
    if start is None:
        raise NotCut("the list key is not written plainly")
    buffer = buffer[start.end() :]
    eof = False
    first = True
    while True:
        if len(buffer) < CHUNK and not eof:
            more = raw.read(CHUNK)
            eof = not more
            buffer += more
        buffer = buffer.lstrip(_SPACE)
        if buffer[:1] == b"]":
            for _ in _tail(raw, buffer[1:], list_key):
                pass
            return
        if not first:
            if buffer[:1] != b",":
                raise NotCut("no separator between items")
            buffer = buffer[1:].lstrip(_SPACE)
        end = _balanced_end(buffer)
        while end is None and not eof and len(buffer) <= 16 * CHUNK:  # an item longer than the chunk
            more = raw.read(CHUNK)
            eof = not more
            buffer += more
            end = _balanced_end(buffer)
        if end is None:
            raise NotCut("no item boundary")
        yield b"[" + buffer[: end + 1] + b"]"
        first = False
        buffer = buffer[end + 1 :]
