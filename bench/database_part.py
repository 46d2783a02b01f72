"""The import's database work alone: its rows, already made, loaded the way the import loads them.

    DATABASE_URL=… .venv/bin/python bench/database_part.py ROWS_DIR FILE_BYTES

``bench/importing.py`` runs this in a fresh, migrated database after the import, with the rows the
import wrote exported to ``ROWS_DIR`` (one COPY text file per table, ``<db_table>.copy``). It does
what ``import_checkpoint_items`` does in the database, in one transaction and with the same code
(``services.deferred_indexes``, ``services.statistics``), but with no Python per item: the indexes
dropped, the tables emptied in the writing subtransaction, each table's rows sent by ``COPY …
FREEZE`` from its file (psycopg2, as the import sends them), every index and constraint rebuilt,
the statistics refreshed, the commit. What no importer of these rows into this schema can beat on
this server: the import's own floor, beside PostgreSQL's bare COPY of the items (the bench's floor).

Prints one JSON object: the seconds of the load (the COPYs), of the rebuild (indexes, constraints,
statistics) and of the commit, and the server process's id.
"""
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def load(rows_dir, file_bytes):
    """Load the rows of ``rows_dir`` into the (empty) item tables as the import does; the figures.

    Runs on Django's connection, in a transaction of its own (a savepoint inside the caller's).
    """
    from django.db import connection, transaction

    from backups.services.deferred_indexes import MODELS, defer_indexes
    from backups.services.statistics import WrittenRows

    started = time.perf_counter()
    with transaction.atomic():
        deferred = defer_indexes(file_bytes)
        if deferred is None:
            raise SystemExit("database_part: the tables are not empty, or the file is too small to defer")
        written = WrittenRows()
        with transaction.atomic():  # the import's writing subtransaction: rows written frozen
            deferred.empty()
            with connection.cursor() as cursor:
                for model in MODELS:
                    table = model._meta.db_table
                    statement = f"COPY {connection.ops.quote_name(table)} FROM STDIN WITH (FREEZE)"
                    with open(Path(rows_dir) / f"{table}.copy", "rb") as rows:
                        cursor.cursor.copy_expert(statement, rows, size=1 << 20)
                    written.add({model: cursor.cursor.rowcount})
        loaded = time.perf_counter()
        deferred.restore()
        analyzed = written.refresh()
        rebuilt = time.perf_counter()
    committed = time.perf_counter()
    return {
        "load_seconds": loaded - started,
        "rebuild_seconds": rebuilt - loaded,
        "commit_seconds": committed - rebuilt,
        "seconds": committed - started,
        "rows": {model._meta.db_table: rows for model, rows in written.rows.items()},
        "analyzed": analyzed,
    }


def export(cursor, rows_dir):
    """Write the item tables' rows to ``rows_dir`` as ``load`` reads them (a psycopg2 cursor)."""
    from django.db import connection

    from backups.services.deferred_indexes import TABLES

    Path(rows_dir).mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        with open(Path(rows_dir) / f"{table}.copy", "wb", buffering=1 << 20) as out:
            cursor.copy_expert(f"COPY {connection.ops.quote_name(table)} TO STDOUT", out, size=1 << 20)


def main(rows_dir, file_bytes):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from django.db import connection

    connection.ensure_connection()
    backend = connection.connection.get_backend_pid()  # for the bench's CPU figure, read once it ends
    print(json.dumps({**load(rows_dir, file_bytes), "backend": backend}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
