"""Bulk writes of checkpoint items (import, demo data), keeping ``document`` current.

Single saves keep it current by themselves (``CheckpointItem.save`` and the children's
``save``/``delete``); bulk statements bypass ``save``, so this module renders each item in memory
(``backups.services.documents.derive``) before writing the batch.

``upsert_items`` is the import's hot path (a million items at thousands a second), so it writes
plain SQL built from the models' ``_meta`` rather than ``bulk_create``: no model instances, each
column converted once by its field type (JSON as text, datetimes by the backend's own adapter),
where ``bulk_create`` spends most of its time preparing field by field. It runs in two halves —
``prepare_items`` (Python only, no query) and ``write_items`` (the statements) — so that a caller
may prepare the next batch in another thread while the database writes this one.
"""
import io
import operator
from dataclasses import dataclass, field
from types import SimpleNamespace

import orjson
from django.db import connection, transaction

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
    """Unsaved model instances for a ``schema.ParsedItem``, derived columns set."""
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
    """Render and convert a batch of ``schema.ParsedItem`` for ``write_items``; runs no query."""
    trees = [_tree(project_id, parsed, origin) for parsed in parsed_items]
    return PreparedItems(
        project_id=project_id,
        ids=[item.id for item, _, _ in trees],
        items=_ITEMS.prepare(connection, [item for item, _, _ in trees]),
        volume_backups=_VOLUME_BACKUPS.prepare(connection, [v for _, vbs, _ in trees for v in vbs]),
        replication_records=_REPLICATION_RECORDS.prepare(connection, [r for _, _, rrs in trees for r in rrs]),
        origin=origin,
    )


def write_items(prepared):
    """Write a ``PreparedItems`` batch (see ``upsert_items``); return ``(created, updated)``."""
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
            VolumeBackup.objects.filter(item_id__in=list(owners)).delete()
            ReplicationRecord.objects.filter(item_id__in=list(owners)).delete()
        with connection.cursor() as cursor:
            _ITEMS.insert(cursor, prepared.items)
            _VOLUME_BACKUPS.insert(cursor, prepared.volume_backups)
            _REPLICATION_RECORDS.insert(cursor, prepared.replication_records)
    updated = len(owners)
    return len(prepared.ids) - updated, updated


def _tree(project_id, parsed, origin=IMPORT):
    """The item and its children as plain attribute objects, derived columns set.

    ``documents.derive`` reads attributes only, so it runs on these as on model instances:
    the one home of the derived columns, without the cost of ``Model.__init__``.
    """
    item = SimpleNamespace(
        project_id=project_id, source_id=origin.source_id, gone_at=None, **parsed.fields,
    )
    volume_backups = [SimpleNamespace(item_id=item.id, **row) for row in parsed.volume_backups]
    replication_records = [SimpleNamespace(item_id=item.id, **row) for row in parsed.replication_records]
    documents.derive(item, volume_backups, replication_records)
    return item, volume_backups, replication_records


def _json_text(value):
    return orjson.dumps(value).decode()


class _Table:
    """One model's INSERT (an upsert on the primary key for items) and its columns' conversions."""

    def __init__(self, model, *, upsert=False):
        self.model = model
        self.upsert = upsert
        # An auto-increment key is left to the database.
        self.fields = [
            f for f in model._meta.concrete_fields
            if not (f.primary_key and f.get_internal_type().endswith("AutoField"))
        ]
        self.values_of = operator.itemgetter(*(f.attname for f in self.fields))
        self.defaults = [(f.attname, f.get_default()) for f in self.fields]
        self.converted = [
            (i, f.get_internal_type()) for i, f in enumerate(self.fields)
            if f.get_internal_type() in ("JSONField", "DateTimeField")
        ]

    def prepare(self, connection, objects):
        """The rows of ``objects`` (attribute objects, one attribute per column) as ``insert`` takes them."""
        adapters = {"JSONField": _json_text, "DateTimeField": connection.ops.adapt_datetimefield_value}
        converted = [(i, adapters[kind]) for i, kind in self.converted]
        rows = []
        for obj in objects:
            values = vars(obj)
            try:
                row = list(self.values_of(values))
            except KeyError:  # a column the parsed item does not set: its model default
                row = [values.get(attname, default) for attname, default in self.defaults]
            for i, convert in converted:
                if row[i] is not None:  # None stays SQL NULL, as Django writes it
                    row[i] = convert(row[i])
            rows.append(row)
        if connection.vendor == "postgresql":
            return "".join("\t".join(map(_copy_text, row)) + "\n" for row in rows)
        return rows

    def insert(self, cursor, prepared):
        """Write the rows of ``prepare``: COPY on PostgreSQL, one prepared INSERT elsewhere."""
        if not prepared:
            return
        qn = cursor.db.ops.quote_name
        table = qn(self.model._meta.db_table)
        columns = ", ".join(qn(f.column) for f in self.fields)
        upsert = ""
        if self.upsert:
            updates = ", ".join(
                f"{qn(f.column)} = EXCLUDED.{qn(f.column)}" for f in self.fields if not f.primary_key
            )
            upsert = f" ON CONFLICT ({qn(self.model._meta.pk.column)}) DO UPDATE SET {updates}"
        if cursor.db.vendor != "postgresql":
            placeholders = ", ".join(["%s"] * len(self.fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders}){upsert}", prepared)
            return
        # COPY costs the server half of what a many-row INSERT does (no statement to parse). COPY
        # cannot upsert, so items go through a temporary table and one INSERT … SELECT … ON CONFLICT.
        with cursor.db.wrap_database_errors:  # psycopg2's errors as django.db's, like execute's
            if not upsert:
                cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", io.StringIO(prepared))
                return
            stage = qn(f"{self.model._meta.db_table}_stage")
            cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} (LIKE {table}) ON COMMIT DROP")
            cursor.cursor.copy_expert(f"COPY {stage} ({columns}) FROM STDIN", io.StringIO(prepared))
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage}{upsert}")
            cursor.execute(f"TRUNCATE {stage}")


def _copy_text(value):
    """One value in COPY's text format: ``\\N`` for NULL, backslash escapes for the separators."""
    if type(value) is not str:
        if value is None:
            return "\\N"
        if value is True or value is False:
            return "t" if value else "f"
        return str(value)  # numbers; datetimes as 2017-04-15 04:20:37.277880+00:00
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\n" in value or "\r" in value or "\t" in value:
        value = value.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return value


_ITEMS = _Table(CheckpointItem, upsert=True)
_VOLUME_BACKUPS = _Table(VolumeBackup)
_REPLICATION_RECORDS = _Table(ReplicationRecord)
