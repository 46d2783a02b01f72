"""The ``sort`` parameter: its grammar, the SQL ordering it means, and the keyset condition.

Grammar (API.md): ``key1[:dir],key2[:dir],…`` with keys ``created_at, updated_at, name, status,
protected_at, id`` and ``dir`` ``asc`` or ``desc`` in any case, default ``desc``. The whole value
is at most 255 characters; blanks around tokens are ignored. An empty token, an unknown key or
direction, a key given twice, or a token with more than one ``:`` is rejected with a message that
says how to fix it. No ``sort`` (or an empty one) means ``created_at:desc``.

Total order: ``id`` is appended as the last tie-breaker in the direction of the last key, so two
rows never compare equal and marker paging is stable. Keys after an explicit ``id`` cannot change
the order and are dropped.

NULLs sort as larger than every value on every database: a nullable key is ordered by
``COALESCE(key, NULL_DATETIME_SENTINEL)``, the largest instant we store (imports refuse it), or
for ``name`` ``COALESCE(name, NULL_NAME_SENTINEL)``, U+10FFFF (a name starting with it is kept as
given, not typed), and the same expression is indexed. This keeps the ORDER BY, the keyset
condition and the indexes one and the same expression on SQLite and PostgreSQL, instead of
NULLS FIRST/LAST special cases.

Strings sort by Unicode code point because their columns use the ``"C"`` collation on PostgreSQL
(``backups.model_fields.CodePointCharField``) and SQLite's ``BINARY`` collation is code-point order.
"""
import datetime as dt
from dataclasses import dataclass

from django.db.models import DateTimeField, F, Q, Value
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThanOrEqual, TupleLessThanOrEqual
from django.db.models.functions import Coalesce

from backups.model_fields import CodePointCharField

#: Stands for NULL in sort expressions: larger than every timestamp an item may carry.
NULL_DATETIME_SENTINEL = dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone.utc)

#: Stands for a NULL ``name``: sorts after every name the column holds (``CodePointCharField``).
NULL_NAME_SENTINEL = "\U0010ffff"

SORT_KEYS = ("created_at", "updated_at", "name", "status", "protected_at", "id")
NULLABLE_KEYS = frozenset({"updated_at", "protected_at", "name"})
DIRECTIONS = ("asc", "desc")
DEFAULT_DIRECTION = "desc"
MAX_SORT_LENGTH = 255


class SortError(ValueError):
    """``sort`` breaks the grammar; the message names the rule and how to fix it."""


@dataclass(frozen=True)
class SortKey:
    key: str
    descending: bool

    @property
    def direction(self):
        return "desc" if self.descending else "asc"

    @property
    def alias(self):
        return f"_sort_{self.key}"

    def expression(self):
        return sort_expression(self.key)

    def __str__(self):
        return f"{self.key}:{self.direction}"


def sort_expression(key):
    """The SQL expression a key sorts by: the column, or ``COALESCE`` for a nullable one."""
    if key == "name":
        return Coalesce(F(key), Value(NULL_NAME_SENTINEL, output_field=CodePointCharField()))
    if key in NULLABLE_KEYS:
        return Coalesce(key, Value(NULL_DATETIME_SENTINEL, output_field=DateTimeField()))
    return F(key)


@dataclass(frozen=True)
class Ordering:
    """A total order: the caller's keys, then ``id`` unless already given."""

    keys: tuple

    @classmethod
    def parse(cls, value):
        """Parse a ``sort`` value (``None`` or ``""``: the default). Raises ``SortError``."""
        if value is None or value.strip() == "":
            requested = [SortKey("created_at", descending=True)]
        else:
            requested = _parse_tokens(value)
        keys = []
        for sort_key in requested:
            keys.append(sort_key)
            if sort_key.key == "id":
                break
        else:
            keys.append(SortKey("id", descending=keys[-1].descending))
        return cls(tuple(keys))

    def __str__(self):
        return ",".join(str(k) for k in self.keys)

    def reversed(self):
        """The same keys with every direction flipped: walking it after a row walks backwards.

        The browse pages' "previous page" reads the rows before the page's first row this way.
        """
        return type(self)(tuple(SortKey(k.key, descending=not k.descending) for k in self.keys))

    def aliases(self):
        """``{alias: expression}`` to pass to ``QuerySet.alias()`` before ordering or filtering."""
        return {k.alias: k.expression() for k in self.keys}

    def order_by(self):
        return [F(k.alias).desc() if k.descending else F(k.alias).asc() for k in self.keys]

    def apply(self, queryset):
        """Order ``queryset`` totally by this ordering."""
        return queryset.alias(**self.aliases()).order_by(*self.order_by())

    def after(self, values):
        """The keyset condition: rows strictly after the row whose sort values are ``values``.

        Cinder's lexicographic condition ``(k1 > v1) OR (k1 = v1 AND k2 > v2) OR …`` with ``>``
        turned to ``<`` for descending keys, plus the redundant bound ``k1 >= v1`` in front so
        that the database walks the ``(k1, …, id)`` index from the marker instead of scanning.
        ``values`` maps each alias to the marker row's value (never NULL: see the module doc).
        The queryset must carry ``aliases()`` (``apply`` adds them).
        """
        first = self.keys[0]
        if all(k.descending == first.descending for k in self.keys):
            # One direction: a row comparison ``(k1, …, id) >= (v1, …, vid)`` without the marker
            # itself (the last key is always ``id``). PostgreSQL makes it the bound of the
            # ``(k1, …, id)`` index scan, so the page starts at the marker however many rows tie
            # on k1; ``>=`` rather than ``>`` because the planner estimates a row comparison by
            # its first column, and ``k1 > v1`` would count none of the marker's ties and send it
            # to the wrong index. SQLite gets the lexicographic form from Django.
            compare = TupleLessThanOrEqual if first.descending else TupleGreaterThanOrEqual
            row = compare(Tuple(*(F(k.alias) for k in self.keys)), [values[k.alias] for k in self.keys])
            marker_id = self.keys[-1].alias
            return Q(row) & ~Q(**{marker_id: values[marker_id]})
        bound = Q(**{f"{first.alias}__{'lte' if first.descending else 'gte'}": values[first.alias]})
        condition = Q()
        equal_so_far = Q()
        for sort_key in self.keys:
            lookup = "lt" if sort_key.descending else "gt"
            condition |= equal_so_far & Q(**{f"{sort_key.alias}__{lookup}": values[sort_key.alias]})
            equal_so_far &= Q(**{sort_key.alias: values[sort_key.alias]})
        return bound & condition


def _parse_tokens(value):
    if len(value) > MAX_SORT_LENGTH:
        raise SortError(f"sort is {len(value)} characters long: at most {MAX_SORT_LENGTH} are allowed")
    keys = []
    seen = set()
    for position, token in enumerate(value.split(","), start=1):
        token = token.strip()
        if not token:
            raise SortError(
                f"sort has an empty key at position {position}: write key[:dir] pairs separated by commas"
            )
        parts = [part.strip() for part in token.split(":")]
        if len(parts) > 2:
            raise SortError(f"Invalid sort token '{token}': write key[:dir], e.g. created_at:desc")
        key = parts[0]
        if key not in SORT_KEYS:
            raise SortError(f"Invalid sort key '{key}': allowed keys are {', '.join(SORT_KEYS)}")
        direction = parts[1].lower() if len(parts) == 2 else DEFAULT_DIRECTION
        if direction not in DIRECTIONS:
            raise SortError(
                f"Invalid sort direction '{parts[1]}' for key '{key}': allowed directions are asc, desc"
            )
        if key in seen:
            raise SortError(f"sort key '{key}' is given twice: give each key at most once")
        seen.add(key)
        keys.append(SortKey(key, descending=direction == "desc"))
    return keys
