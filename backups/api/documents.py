"""The page's stored documents read as the database's UTF-8 bytes, put in the body without a conversion.

A document is stored as the JSON text the API sends (``CheckpointItem.document``). Read as a
Python ``str`` it is decoded from UTF-8 by the driver, then joined into the body and encoded back
to UTF-8 by ``HttpResponse``: for a page of 1000 (about 2 MB, names in any script) that round trip
costs more than reading the rows. On PostgreSQL with psycopg2 the page's statement runs on a
cursor that hands text columns over as ``bytes`` (``psycopg2.extensions.BYTES``), and the body is
one ``bytes`` join. Other databases and drivers get the same rows encoded here. The statement
(``backups.listing.statements``) runs on the database the router chose for the request's reads
(``statement.alias``: the replica for a read when one is usable, ``backups.db.router``), never on
a hard-wired alias.
"""
from django.db import connections

try:
    import psycopg2.extensions as psycopg2_extensions
except ImportError:  # pragma: no cover - psycopg2 is pinned
    psycopg2_extensions = None


def fetch_documents(statement):
    """``[{"id": str, "document": bytes}, …]`` of a page's statement (it selects ``id``, ``document``)."""
    connection = connections[statement.alias]
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if psycopg2_extensions is not None and isinstance(raw, psycopg2_extensions.cursor):
            psycopg2_extensions.register_type(psycopg2_extensions.BYTES, raw)
            cursor.execute(statement.sql, statement.params)
            return [{"id": row[0].decode(), "document": row[1]} for row in cursor.fetchall()]
        cursor.execute(statement.sql, statement.params)
        return [{"id": row[0], "document": row[1].encode()} for row in cursor.fetchall()]
