"""The page's stored documents read as the database's UTF-8 bytes, put in the body without a conversion.

A document is stored as the JSON text the API sends (``CheckpointItem.document``). Read as a
Python ``str`` it is decoded from UTF-8 by the driver, then joined into the body and encoded back
to UTF-8 by ``HttpResponse``: for a page of 1000 (about 2 MB, names in any script) that round trip
costs more than reading the rows. On PostgreSQL with psycopg2 the page's query runs on a cursor
that hands text columns over as ``bytes`` (``psycopg2.extensions.BYTES``), and the body is one
``bytes`` join. Other databases and drivers get the same rows encoded here. The query runs on the
database the router chose for the queryset (``queryset.db``: the replica for a read when one is
usable, ``backups.db.router``), never on a hard-wired alias.
"""
from django.db import connections

try:
    import psycopg2.extensions as psycopg2_extensions
except ImportError:  # pragma: no cover - psycopg2 is pinned
    psycopg2_extensions = None


def fetch_documents(page_queryset):
    """``[{"id": str, "document": bytes}, …]`` of a sliced ``values("id", "document")`` queryset."""
    alias = page_queryset.db
    connection = connections[alias]
    if connection.vendor == "postgresql" and psycopg2_extensions is not None:
        sql, params = page_queryset.query.get_compiler(using=alias).as_sql()
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if isinstance(raw, psycopg2_extensions.cursor):
                psycopg2_extensions.register_type(psycopg2_extensions.BYTES, raw)
                cursor.execute(sql, params)
                return [{"id": row[0].decode(), "document": row[1]} for row in cursor.fetchall()]
    return [{"id": row["id"], "document": row["document"].encode()} for row in page_queryset]
