"""Bulk writes of checkpoint items (import, demo data, the sync), keeping ``document`` current.

Single saves keep it current by themselves (``CheckpointItem.save`` and the children's
``save``/``delete``); bulk statements bypass ``save``, so this module renders each item in memory
(``render.render_parsed``; the derived columns by ``services.documents.derived_columns``) before
writing the batch.

``upsert_items`` is the import's hot path (a million items at ten thousand a second), so it writes
plain SQL built from the models' ``_meta`` rather than ``bulk_create``: no model instances, rows as
dicts, each column converted once by its field type, and on PostgreSQL every table written by
``COPY`` straight into it (an item already stored is deleted with its children first, so no
staging table and no ``ON CONFLICT`` pass). It runs in two halves — ``prepare_items`` (Python
only, no query) and ``write_items`` (the statements) — so that a caller may prepare the next
batch in another thread while the database writes this one. Bulk writers refresh the planner's
statistics afterwards (``backups.services.statistics``).
"""
import operator
from dataclasses import dataclass, field

import orjson
from django.db import connection, transaction

from backups.document.render import render_parsed
from backups.models import CheckpointItem, ReplicationRecord, VolumeBackup
from backups.services import documents


class ItemConflict(ValueError):
    """An import would take over an item id that belongs to another project."""

    def __init__(self, item_id, owner):
        super().__init__(f"id {item_id!r} already belongs to another project ({owner})")
        self.item_id = item_id
        self.owner = owner


class OriginConflict(ItemConflict):
    """A write would take over an item of another origin (a sync source's, or an import's)."""

    def __init__(self, item_id, source_id):
        owner = f"sync source #{source_id}" if source_id else "an import or an admin edit"
        self.rule = f"comes from another origin ({owner}): it is changed there, not overwritten here"
        ValueError.__init__(self, f"id {item_id!r} {self.rule}")
        self.item_id = item_id
        self.owner = owner


@dataclass(frozen=True)
class Origin:
    """Who writes a batch: an import (no source), or a sync source (``backups.sync``)."""

    source_id: int | None = None


IMPORT = Origin()


def build_item(project_id, parsed):
    """Unsaved model instances for a ``parse.ParsedItem``, derived columns set."""
    item = CheckpointItem(project_id=project_id, **parsed.fields)
    volume_backups = [VolumeBackup(item=item, **row) for row in parsed.volume_backups]
    replication_records = [ReplicationRecord(item=item, **row) for row in parsed.replication_records]
    documents.derive(item, volume_backups, replication_records)
    return item, volume_backups, replication_records


def upsert_items(project_id, parsed_items, origin=IMPORT):
    """Insert or replace a batch of parsed items of ``project_id``; return ``(created, updated)``.

    Upsert by ``id``: an existing item of the same project is replaced whole (its children too);
    an id owned by another project raises ``ItemConflict``, one of another origin (a sync source's
    item for an import, an import's for a source) ``OriginConflict``. Runs in the caller's
    transaction. The items are written as ``origin``'s, and not gone.
    """
    return write_items(prepare_items(project_id, parsed_items, origin))


@dataclass
class PreparedItems:
    """A batch of items as database rows, ready for ``write_items``."""

    project_id: str
    ids: list
    items: object  # per table, the rows as the backend's insert takes them (_Table.prepare)
    volume_backups: object
    replication_records: object
    origin: Origin = field(default=IMPORT)


def prepare_items(project_id, parsed_items, origin=IMPORT):
    """Render and convert a batch of ``parse.ParsedItem`` for ``write_items``; runs no query."""
    items, volume_backups, replication_records = [], [], []
    source_id = origin.source_id
    for parsed in parsed_items:
        fields = parsed.fields
        document = render_parsed(parsed)
        derived = documents.derived_columns(fields["name"], fields["resource_name"], document)
        # fields first: a merge into an empty dict copies its table whole, not key by key.
        items.append({**fields, **derived, "project_id": project_id, "source_id": source_id, "gone_at": None})
        item_id = fields["id"]
        for row in parsed.volume_backups:
            volume_backups.append({**row, "item_id": item_id})
        for row in parsed.replication_records:
            replication_records.append({**row, "item_id": item_id})
    return PreparedItems(
        project_id=project_id,
        ids=[item["id"] for item in items],
        items=_ITEMS.prepare(connection, items),
        volume_backups=_VOLUME_BACKUPS.prepare(connection, volume_backups),
        replication_records=_REPLICATION_RECORDS.prepare(connection, replication_records),
        origin=origin,
    )


def write_items(prepared, *, fresh=False):
    """Write a ``PreparedItems`` batch (see ``upsert_items``); return ``(created, updated)``.

    An item already stored is deleted with its children and written again (the same statement
    path as a new one): on PostgreSQL every row goes straight into its table by ``COPY``.
    ``fresh``: the caller emptied the tables in its current subtransaction
    (``deferred_indexes.DeferredIndexes.empty``): no id is stored, so none is looked up; no
    savepoint is opened (it would be another subtransaction); ``COPY`` writes the rows frozen.
    """
    if fresh:
        with connection.cursor() as cursor:
            for table, rows in _tables_of(prepared):
                table.insert(cursor, rows, freeze=True)
        return len(prepared.ids), 0
    project_id, source_id = prepared.project_id, prepared.origin.source_id
    owners = {
        pk: (project, source)
        for pk, project, source in CheckpointItem.objects.filter(pk__in=prepared.ids).values_list(
            "pk", "project_id", "source_id"
        )
    }
    for item_id in prepared.ids:  # in the batch's order, so the first conflicting item is the one named
        owner, owner_source = owners.get(item_id, (project_id, source_id))
        if owner != project_id:
            raise ItemConflict(item_id, owner)
        if owner_source != source_id:
            raise OriginConflict(item_id, owner_source)
    with transaction.atomic():
        if owners:
            stored = list(owners)
            VolumeBackup.objects.filter(item_id__in=stored).delete()
            ReplicationRecord.objects.filter(item_id__in=stored).delete()
            CheckpointItem.objects.filter(pk__in=stored)._raw_delete(CheckpointItem.objects.db)
        with connection.cursor() as cursor:
            for table, rows in _tables_of(prepared):
                table.insert(cursor, rows)
    updated = len(owners)
    return len(prepared.ids) - updated, updated


def _tables_of(prepared):
    """Each table with its rows of the batch, parents first."""
    return (
        (_ITEMS, prepared.items),
        (_VOLUME_BACKUPS, prepared.volume_backups),
        (_REPLICATION_RECORDS, prepared.replication_records),
    )


def written_rows(prepared):
    """``{model: rows}`` a batch writes, for ``backups.services.statistics``."""
    def count(rows):
        return rows.count(b"\n") if isinstance(rows, bytes) else len(rows)

    return {
        CheckpointItem: len(prepared.ids),
        VolumeBackup: count(prepared.volume_backups),
        ReplicationRecord: count(prepared.replication_records),
    }


def _json_text(value):
    return orjson.dumps(value).decode()


class _Table:
    """One model's INSERT (COPY on PostgreSQL) and its columns' conversions.

    ``json_text_last``: a text column that holds JSON text written by the encoder (the item's
    ``document``, a third of the table's bytes), sent last in COPY's column list: it holds no
    tab, line break or carriage return (JSON escapes them), so it is not scanned for them.
    """

    def __init__(self, model, json_text_last=None):
        self.model = model
        # An auto-increment key is left to the database.
        self.fields = [
            f for f in model._meta.concrete_fields
            if not (f.primary_key and f.get_internal_type().endswith("AutoField"))
        ]
        self.json_text_last = json_text_last is not None
        if self.json_text_last:
            last = model._meta.get_field(json_text_last)
            self.fields = [f for f in self.fields if f is not last] + [last]
        self.values_of = operator.itemgetter(*(f.attname for f in self.fields))
        self.defaults = [(f.attname, f.get_default()) for f in self.fields]
        self.converted = [
            (i, f.get_internal_type()) for i, f in enumerate(self.fields)
            if f.get_internal_type() in ("JSONField", "DateTimeField", "BooleanField")
        ]
        # A foreign key is written as its target's column: the sync source's id is an integer.
        column_kinds = [(f.target_field if f.is_relation else f).get_internal_type() for f in self.fields]
        self.numeric = [
            i for i, kind in enumerate(column_kinds) if kind.endswith(("IntegerField", "AutoField"))
        ]
        self.copy_line, self.copy_row = self._compile_copy_row()

    def prepare(self, connection, rows):
        """``rows`` (dicts of column values by attname) as ``insert`` takes them."""
        if connection.vendor == "postgresql":
            return self._copy_text(rows)
        adapters = {"JSONField": _json_text, "DateTimeField": connection.ops.adapt_datetimefield_value}
        converted = [(i, adapters[kind]) for i, kind in self.converted if adapters.get(kind)]
        prepared = []
        for values in rows:
            row = list(self._values(values))
            for i, convert in converted:
                if row[i] is not None:  # None stays SQL NULL, as Django writes it
                    row[i] = convert(row[i])
            prepared.append(row)
        return prepared

    def _values(self, values):
        try:
            return self.values_of(values)
        except KeyError:  # a column the parsed item does not set: its model default
            return [values.get(attname, default) for attname, default in self.defaults]

    def _copy_text(self, rows):
        """``rows`` in COPY's text format, UTF-8: ``\\N`` for NULL, the separators escaped. Bytes,
        so that a worker process hands them over as they are sent (a ``str`` would be encoded to
        pickle it, decoded, and encoded again for COPY).

        A row whose values hold no backslash, tab or line break — nearly all — is joined as it
        is (``line_of``, NULL as ``\\x00``, replaced once per batch); finding out costs a scan of
        the joined row instead of one per value. No value holds NUL: neither PostgreSQL's text
        nor jsonb can, and the ingest rule keeps such values as given (JSON text, where NUL is
        written ``\\u0000``).
        """
        line_of, row_of, last = self.copy_line, self.copy_row, self.json_text_last
        tabs = len(self.fields) - 1 - last  # in the line of the columns before ``json_text_last``
        lines = []
        for values in rows:
            values = self._values(values)
            # Encoded row by row: an all-ASCII row (nearly all) is copied as it is, where one
            # string of the whole batch would be as wide as its widest character, and slow to encode.
            line = line_of(values).encode()
            # find, not ``in``: bytes' ``in`` first tries its operand as an integer, and raises and
            # clears a TypeError with a formatted message each time (a third of the row's checks).
            breaks = line.find(b"\\") >= 0 or line.find(b"\n") >= 0 or line.find(b"\r") >= 0
            if breaks or line.count(b"\t") != tabs:
                line = "\t".join([_escape(value) for value in row_of(values)[: len(values) - last]]).encode()
            if last:
                text = values[-1].encode()
                line += b"\t" + (text.replace(b"\\", b"\\\\") if text.find(b"\\") >= 0 else text)
            lines.append(line)
        return (b"\n".join(lines) + b"\n").replace(b"\x00", b"\\N") if lines else b""

    def _compile_copy_row(self):
        """``(line_of, row_of)``: ``row_of(values)`` is the columns' values (in ``fields``' order)
        as COPY text, each converted by its column's kind, ``None`` as ``\\x00``; ``line_of``
        joins them with tabs. One generated expression per column instead of a loop over the
        converted columns of every row (the import writes three million rows a million items)."""
        kinds = {i: kind for i, kind in self.converted}
        kinds.update((i, "numeric") for i in self.numeric)
        convert = {"JSONField": "json_text", "DateTimeField": "copy_datetime", "numeric": "str"}
        names = [f"v{i}" for i in range(len(self.fields))]
        expressions = []
        for i, name in enumerate(names):
            kind = kinds.get(i)
            if kind == "BooleanField":
                value = f"('t' if {name} else 'f')"
            elif kind == "JSONField":  # nearly always an empty object or list, or an integer: no encoder call
                empty = f"not {name} and {name}.__class__ in EMPTY_JSON"
                integer = f"str({name}) if {name}.__class__ is int"
                value = f"(EMPTY_JSON[{name}.__class__] if {empty} else {integer} else json_text({name}))"
            elif kind is not None:
                value = f"{convert[kind]}({name})"
            else:
                value = name
            expressions.append(f"NUL if {name} is None else {value}")
        unpack = f"    {', '.join(names)}, = values\n"
        joined = expressions[:-1] if self.json_text_last else expressions  # see _copy_text
        source = (
            f"def row_of(values):\n{unpack}    return ({', '.join(expressions)},)\n"
            f"def line_of(values):\n{unpack}    return TAB.join(({', '.join(joined)},))\n"
        )
        namespace = {
            "NUL": "\x00", "json_text": _json_text, "copy_datetime": _copy_datetime,
            "EMPTY_JSON": {dict: "{}", list: "[]"}, "TAB": "\t",
        }
        exec(source, namespace)  # noqa: S102 - generated from the model's own fields
        return namespace["line_of"], namespace["row_of"]

    def insert(self, cursor, prepared, freeze=False):
        """Write the rows of ``prepare``: COPY on PostgreSQL, one prepared INSERT elsewhere.

        ``freeze``: the table was emptied in the current subtransaction (``write_items(fresh=True)``).
        """
        if not prepared:
            return
        qn = cursor.db.ops.quote_name
        table = qn(self.model._meta.db_table)
        columns = ", ".join(qn(f.column) for f in self.fields)
        if cursor.db.vendor != "postgresql":
            placeholders = ", ".join(["%s"] * len(self.fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", prepared)
            return
        # COPY costs the server half of what a many-row INSERT does (no statement to parse).
        with cursor.db.wrap_database_errors:  # psycopg2's errors as django.db's, like execute's
            options = " WITH (FREEZE)" if freeze else ""
            cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN{options}", _TextStream(prepared))


class _TextStream:
    """COPY's input as psycopg2 reads it: a few large reads of the encoded rows (no StringIO copy)."""

    def __init__(self, data):
        self.data = data
        self.offset = 0

    def read(self, size=-1):
        size = max(size, 1 << 20)
        chunk = self.data[self.offset : self.offset + size]
        self.offset += len(chunk)
        return chunk

    readline = read


def _copy_datetime(value):
    text = getattr(value, "text", None)  # timestamps.Instant: the canonical UTC text as read
    return text + "+00" if text is not None else value.isoformat()


_ESCAPES = (("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def _escape(text):
    """One value of a row that needs escaping; NULL (``\\x00``) as ``\\N``."""
    if text == "\x00":
        return "\\N"
    for char, escaped in _ESCAPES:
        if char in text:
            text = text.replace(char, escaped)
    return text


_ITEMS = _Table(CheckpointItem, json_text_last="document")
_VOLUME_BACKUPS = _Table(VolumeBackup)
_REPLICATION_RECORDS = _Table(ReplicationRecord)
