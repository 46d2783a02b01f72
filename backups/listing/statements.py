"""Statements: a queryset's SQL compiled once per *shape* and reused with each request's values.

Building a queryset (the scope, the FilterSet's filters, the sort and the marker's condition) and
compiling it is the ORM's per-request cost, about 0.6 ms for a small page: the same work each time
for requests that differ only in their values (the project, the marker, a status). A statement
does that work once per shape, per process:

* the **inputs** of a query are one flat ``{name: value}`` mapping, everything its builder reads
  (``build(inputs)`` returns the queryset and reads nothing else);
* its **slots** are the inputs that are strings or timestamps: the project id, the marker, a
  filter's value. They end up in the parameters, not in the SQL;
* its **shape** is the database alias and every other input (booleans, ``None``, the sort): what
  changes the SQL text. With LIMIT/OFFSET given apart (``limits``) the page size and the offset
  are not part of it either.

On the first request of a shape the queryset is built from the request's inputs by the selector
and the FilterSet (the one home of the scope and the filters) and compiled, as without a
statement; then built and compiled a second time with a *sentinel* in every slot: a string with a
NUL (no request value can hold one: the parameters refuse it) or a timestamp in year 1. The SQL
is kept only when both texts are the same and every parameter is, in both, either the slot's own
value or one same constant; each slot's value is then put at its positions on later requests. A
value the ORM transforms (the escaped ``%…%`` pattern of a ``name`` filter; a timestamp written as
text on SQLite) or writes into the SQL text fails that test: its shape is remembered as not
reusable and each of its requests is built and compiled by the ORM. So a reused statement runs
the very SQL and parameters the ORM would, and only the ORM ever decides what they are.

Where: the statement runs on ``connections[alias]``, ``alias`` being where the router sends this
request's reads of the model (``Model.objects.db``, the router's answer for any of its querysets,
none of which carries hints or ``using()``); a first request checks that its queryset's ``.db`` is
that alias. Statements are kept per alias.
"""
import datetime as dt
import threading
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Count

#: Shapes kept per cache; beyond, the oldest is forgotten (and compiled again when it comes back).
MAX_SHAPES = 512

_YEAR_ONE = dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)


def sentinel(name, value, position):
    """A stand-in of the slot ``name`` that no request value and no SQL constant equals."""
    if isinstance(value, str):
        return f"\x00{name}\x00"
    return _YEAR_ONE + dt.timedelta(seconds=position)


def is_slot(value):
    return isinstance(value, (str, dt.datetime))


@dataclass(frozen=True)
class Statement:
    """SQL and parameters to run on ``connections[alias]``."""

    sql: str
    params: tuple
    alias: str


@dataclass(frozen=True)
class _Template:
    sql: str
    #: Per parameter: ``(True, slot name)`` or ``(False, constant)``.
    params: tuple
    #: Whether the page's ``LIMIT``/``OFFSET`` (``limits``) is appended to ``sql``.
    limited: bool

    def statement(self, inputs, alias, limits):
        sql = self.sql
        if self.limited:
            sql = f"{sql} {connections[alias].ops.limit_offset_sql(*limits)}"
        return Statement(sql, tuple(inputs[key] if slot else key for slot, key in self.params), alias)


_NOT_REUSABLE = object()


def query_sql(queryset, alias):
    """The SQL and parameters of ``queryset`` as it would run on ``alias``; ``None`` if it matches nothing."""
    try:
        return queryset.query.get_compiler(using=alias).as_sql()
    except EmptyResultSet:  # e.g. ``__in=[]``: the ORM answers without a query
        return None


def count_sql(queryset, alias):
    """The SQL of ``queryset.count()``, compiled, not run; ``None`` for a query not of the kind below.

    Django's ``Query.get_aggregation`` for a filtered query without annotations, slicing,
    DISTINCT, grouping or set operations (the only kind the API counts): the selection becomes
    ``COUNT(*)``, ordering and limits go. The test suite pins it to the SQL ``count()`` runs.
    """
    query = queryset.query
    if (
        query.annotations
        or query.extra
        or query.is_sliced
        or query.distinct
        or query.combinator
        or query.group_by is not None
        or query.select_for_update
    ):
        return None
    query = query.clone()
    aggregate = Count("*").resolve_expression(query, allow_joins=True, reuse=None, summarize=True)
    query.select = ()
    query.selected = None
    query.default_cols = False
    query.annotations = {"__count": aggregate}
    query.set_annotation_mask(["__count"])
    query.clear_ordering(force=True)
    query.select_related = False
    try:
        return query.get_compiler(using=alias, elide_empty=True).as_sql()
    except EmptyResultSet:
        return None


class StatementCache:
    """The statements of one query (a page, a count, an item), by alias and shape.

    ``statement(inputs, build)`` returns the ``Statement`` of this request, or ``None`` when
    ``compile`` declines the query (then the caller asks the ORM, e.g. ``queryset.count()``).
    ``model`` is the queried model, whose router decides the alias.
    """

    def __init__(self, model, compile=query_sql, max_shapes=MAX_SHAPES):
        self.model = model
        self.compile = compile
        self.max_shapes = max_shapes
        self._templates = {}
        self._lock = threading.Lock()
        self.builds = 0  # requests whose queryset the ORM built and compiled (tests read it)

    def statement(self, inputs, build, limits=None):
        """This request's statement; ``limits`` is ``(offset, offset + limit)`` of a page, if any."""
        alias = self.model.objects.db
        shape = ((name, type(value) if is_slot(value) else value) for name, value in inputs.items())
        key = (alias, limits is not None, *shape)
        template = self._templates.get(key)
        if template is None:
            return self._learn(key, alias, inputs, build, limits)
        if template is _NOT_REUSABLE:
            self.builds += 1
            queryset = build(inputs)
            return self._compiled(queryset, queryset.db, limits)
        return template.statement(inputs, alias, limits)

    def _compiled(self, queryset, alias, limits):
        compiled = self.compile(queryset[slice(*limits)] if limits else queryset, alias)
        return None if compiled is None else Statement(compiled[0], tuple(compiled[1]), alias)

    def _learn(self, key, alias, inputs, build, limits):
        self.builds += 1
        queryset = build(inputs)
        if queryset.db != alias:  # not the model's own routing: never reused
            self._keep(key, _NOT_REUSABLE)
            return self._compiled(queryset, queryset.db, limits)
        real = self._compiled(queryset, alias, limits)
        if real is None:
            self._keep(key, _NOT_REUSABLE)
            return None
        slots = {
            name: sentinel(name, value, n) for n, (name, value) in enumerate(inputs.items()) if is_slot(value)
        }
        probe = self._compiled(build({**inputs, **slots}), alias, limits)
        template = _template(real, probe, inputs, slots, alias, limits)
        self._keep(key, _NOT_REUSABLE if template is None else template)
        return real

    def _keep(self, key, template):
        with self._lock:
            if len(self._templates) >= self.max_shapes:
                self._templates.pop(next(iter(self._templates)))
            self._templates[key] = template

    def clear(self):
        with self._lock:
            self._templates.clear()
            self.builds = 0


def _template(real, probe, inputs, slots, alias, limits):
    """The template both compilations agree on, or ``None``."""
    if probe is None or real.sql != probe.sql or len(real.params) != len(probe.params):
        return None
    sql, limited = real.sql, limits is not None
    if limited:
        tail = " " + connections[alias].ops.limit_offset_sql(*limits)
        if not sql.endswith(tail):
            return None
        sql = sql[: -len(tail)]
    by_sentinel = {(type(value), value): name for name, value in slots.items()}
    params = []
    for value, stand_in in zip(real.params, probe.params, strict=True):
        try:
            name = by_sentinel.get((type(stand_in), stand_in))
        except TypeError:  # an unhashable parameter (a list): not a slot
            name = None
        if name is not None:
            if type(value) is not type(inputs[name]) or value != inputs[name]:
                return None
            params.append((True, name))
        elif type(value) is type(stand_in) and value == stand_in:
            params.append((False, value))
        else:  # a value the ORM transformed: this shape is built every time
            return None
    template = _Template(sql, tuple(params), limited)
    if template.statement(inputs, alias, limits) != real:
        return None
    return template


def fetch_one(statement):
    """Run ``statement`` on its database; its first row, or ``None``."""
    with connections[statement.alias].cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        return cursor.fetchone()
