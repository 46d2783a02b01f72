"""The benchmark's dataset: ``backups.demo``'s benchmark shape, loaded through the one rendering path by COPY.

Items come from ``backups.demo.generate(..., shape=BENCHMARK_SHAPE)`` (1,000,000 items over 1,000
projects by default, the first project the whale, two volume backups per item, ~10% with a
replication record, ties on ``created_at``, NULL ``protected_at`` where a backup never finished).
Every row goes through ``backups.document.parse.parse_item`` and
``backups.services.upsert.build_item``
(which renders ``document`` with ``render_item``), in worker processes; ``load()`` only replaces the
INSERTs by COPY, with the secondary indexes and constraints dropped during the load and re-created
after it. The generator yields project by project; a real cloud writes every tenant's backups
interleaved in time, so the loaded table is rewritten in ``created_at`` order before indexing, and a
tenant's rows end up spread over the whole table as in production.
"""

import concurrent.futures
import datetime as dt
import io
import multiprocessing
import time

#: The data's "now": fixed, so that the same seed gives the same rows on any day.
ANCHOR = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
CHUNK = 5_000


def item_dicts(items, projects, seed, whale=None):
    """``(project_id, item dict)`` pairs of the benchmark dataset (deterministic).

    ``whale``: how many items the first project gets (default the shape's 10%), so that a smaller
    dataset can still hold a whale of 100,000 items.
    """
    import dataclasses

    from backups import demo

    shape = demo.BENCHMARK_SHAPE
    if whale is not None:
        shape = dataclasses.replace(shape, first_project_share=whale / items)
    return demo.generate(items, projects, seed, ANCHOR, shape=shape)


def _chunks(iterable, size):
    chunk = []
    for entry in iterable:
        chunk.append(entry)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- COPY --------------------------------------------------------------------------------------


def _copy_value(value, kind):
    if value is None:
        return "\\N"
    if kind == "json":
        import orjson

        value = orjson.dumps(value).decode()
    elif kind == "bool":
        return "t" if value else "f"
    elif kind == "datetime":
        return value.isoformat()
    elif not isinstance(value, str):
        return str(value)
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def _columns(model, skip_auto=True):
    """``[(column, attname, kind)]`` of a model's concrete fields, auto ids left to their default."""
    columns = []
    for field in model._meta.concrete_fields:
        internal = field.get_internal_type()
        if skip_auto and internal in ("AutoField", "BigAutoField"):
            continue
        kind = {"JSONField": "json", "BooleanField": "bool", "DateTimeField": "datetime"}.get(
            internal, "text"
        )
        columns.append((field.column, field.attname, kind))
    return columns


def _rows(objects, columns):
    buffer = io.StringIO()
    for obj in objects:
        buffer.write("\t".join(_copy_value(getattr(obj, attname), kind) for _, attname, kind in columns))
        buffer.write("\n")
    buffer.seek(0)
    return buffer


def _load_chunk(args):
    """Worker: build a chunk of items through the rendering path and COPY it (own connection)."""
    database_url, pairs = args
    import django

    django.setup()
    import psycopg2

    from backups.document.parse import parse_item
    from backups.models import CheckpointItem, ReplicationRecord, VolumeBackup
    from backups.services.upsert import build_item

    trees = [build_item(project, parse_item(data)) for project, data in pairs]
    connection = psycopg2.connect(database_url)
    with connection, connection.cursor() as cursor:
        for model, objects in (
            (CheckpointItem, [item for item, _, _ in trees]),
            (VolumeBackup, [v for _, vbs, _ in trees for v in vbs]),
            (ReplicationRecord, [r for _, _, rrs in trees for r in rrs]),
        ):
            columns = _columns(model)
            names = ", ".join(f'"{column}"' for column, _, _ in columns)
            cursor.copy_expert(f"COPY {model._meta.db_table} ({names}) FROM STDIN", _rows(objects, columns))
    connection.close()
    return len(pairs)


def _report(futures, done, started, log):
    count = 0
    for future in concurrent.futures.as_completed(futures):
        count += future.result()
        if (done + count) // 50_000 != (done + count - future.result()) // 50_000:
            log(f"  loaded {done + count:,} items ({(done + count) / (time.monotonic() - started):,.0f}/s)")
    return count


TABLES = ("backups_checkpointitem", "backups_volumebackup", "backups_replicationrecord")


def _secondary_structures(cursor):
    """Definitions of the non-primary-key constraints and indexes of the item tables.

    With the foreign keys of other tables that point at them (the sync's sightings): the rewrite
    truncates the item tables, which PostgreSQL refuses while such a key exists.
    """
    cursor.execute(
        """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
           WHERE (conrelid::regclass::text = ANY(%s) AND contype IN ('f', 'u'))
              OR (confrelid::regclass::text = ANY(%s) AND contype = 'f'
                  AND NOT conrelid::regclass::text = ANY(%s))""",
        [list(TABLES)] * 3,
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
           WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
        [list(TABLES)],
    )
    return constraints, cursor.fetchall()


def _rewrite(cursor, table, select):
    cursor.execute(f"CREATE UNLOGGED TABLE bench_sorted AS {select}")
    cursor.execute(f"TRUNCATE {table}")
    cursor.execute(f"INSERT INTO {table} SELECT * FROM bench_sorted")
    cursor.execute("DROP TABLE bench_sorted")


def load(database_url, *, items, projects, seed, whale=None, workers=2, log=print):
    """Fill the (migrated, empty) item tables of ``database_url``; return seconds taken."""
    import psycopg2

    started = time.monotonic()
    connection = psycopg2.connect(database_url)
    connection.autocommit = True
    cursor = connection.cursor()
    constraints, indexes = _secondary_structures(cursor)
    for table, name, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    chunks = ((database_url, pairs) for pairs in _chunks(item_dicts(items, projects, seed, whale), CHUNK))
    done = 0
    # Bounded in flight: the generator runs in this process, and must not run ahead into memory.
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending = set()
        for chunk in chunks:
            pending.add(pool.submit(_load_chunk, chunk))
            if len(pending) >= workers * 2:
                finished, pending = concurrent.futures.wait(pending, return_when="FIRST_COMPLETED")
                done += _report(finished, done, started, log)
        done += _report(pending, done, started, log)
    log("  rewriting the tables in created_at order (tenants interleaved, as written in production)")
    _rewrite(cursor, "backups_checkpointitem", "SELECT * FROM backups_checkpointitem ORDER BY created_at")
    for table in TABLES[1:]:
        _rewrite(
            cursor,
            table,
            f"SELECT c.* FROM {table} c JOIN backups_checkpointitem i ON i.id = c.item_id "
            "ORDER BY i.created_at, c.item_id, c.position",
        )
    log(f"  re-creating {len(indexes)} indexes and {len(constraints)} constraints")
    for _, definition in indexes:
        cursor.execute(definition)
    for table, name, definition in constraints:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    log("  VACUUM ANALYZE")
    for table in TABLES:
        cursor.execute(f"VACUUM (ANALYZE) {table}")
    connection.close()
    return time.monotonic() - started
