"""Bounded database waits for the web processes: a database that stops answering is a 503 in seconds.

Three layers, each for a different failure:

1. **libpq connection options** (``connection_options``, set in ``settings.DATABASES[...]["OPTIONS"]``
   for PostgreSQL): ``connect_timeout``; TCP keepalives (idle 5 s, then 3 probes 1 s apart) and
   ``tcp_user_timeout`` so that the kernel gives up on a peer that stopped acknowledging (a network
   partition, a host that froze or vanished); ``statement_timeout`` sent as ``options`` so that the
   server cancels a query that runs too long. Behind PgBouncer the ``options`` startup parameter is
   not accepted (PgBouncer 1.18): the pooler sets ``statement_timeout`` itself and bounds the
   server with ``query_timeout`` (``deploy/pgbouncer/pgbouncer.ini``).
2. **A client-side deadline** (``install``): a frozen PostgreSQL *process* on a live host, e.g.
   ``SIGSTOP``, keeps its sockets open and its kernel keeps acknowledging, so neither keepalives nor
   ``tcp_user_timeout`` ever fire and libpq would wait forever. psycopg2's documented wait callback
   (``psycopg2.extensions.set_wait_callback``) lets us do libpq's waiting ourselves: each wait for
   the server gives up after ``DB_CONNECT_TIMEOUT`` while connecting and ``DB_QUERY_TIMEOUT + 1``
   seconds afterwards (the server's own ``statement_timeout`` cancels a merely slow query first).
   Giving up raises ``OperationalError``; psycopg2 closes that connection; the API answers its CSBS
   503 and the next request connects afresh. The worker lives on.
3. gunicorn's worker timeout stays the last resort.

The callback is process-wide and psycopg2 refuses ``COPY`` under it, so it is installed by the WSGI
entry point (``project/wsgi.py``) only, where requests never ``COPY``; management commands (imports
``COPY``) run without it and without a statement timeout, unless ``DB_QUERY_TIMEOUT`` is set for them.
Its cost is a Python ``poll``/``select`` loop per round trip, measured below noise.
"""

import select
import time

import psycopg2
from psycopg2 import extensions

#: Keepalive and TCP timing: notice a silent peer in about 5 s + 3 × 1 s, a partition in 5 s.
KEEPALIVE_OPTIONS = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 1,
    "keepalives_count": 3,
}
#: Seconds past ``statement_timeout`` that the client waits before giving up on a silent server.
CLIENT_GRACE = 1.0


def connection_options(*, connect_timeout, query_timeout, through_pgbouncer):
    """libpq options for one PostgreSQL database of ``settings.DATABASES`` (see the module's docstring)."""
    options = {"connect_timeout": connect_timeout, **KEEPALIVE_OPTIONS}
    if query_timeout > 0:
        options["tcp_user_timeout"] = int((query_timeout + CLIENT_GRACE) * 1000)
        if not through_pgbouncer:
            options["options"] = f"-c statement_timeout={int(query_timeout * 1000)}"
    return options


class DeadlineWait:
    """psycopg2 wait callback: libpq's waits, each bounded by a deadline (``install``)."""

    def __init__(self, connect_timeout, query_timeout):
        self.connect_timeout = float(connect_timeout)
        self.query_timeout = float(query_timeout) + CLIENT_GRACE

    def __call__(self, conn):
        connecting = conn.status == extensions.STATUS_SETUP
        limit = self.connect_timeout if connecting else self.query_timeout
        deadline = time.monotonic() + limit
        while True:
            state = conn.poll()
            if state == extensions.POLL_OK:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                what = "connect" if connecting else "answer"
                raise psycopg2.OperationalError(f"the database did not {what} within {limit:g} s")
            if state == extensions.POLL_READ:
                select.select([conn.fileno()], [], [], remaining)
            elif state == extensions.POLL_WRITE:
                select.select([], [conn.fileno()], [], remaining)
            else:
                raise psycopg2.OperationalError(f"unexpected poll state {state}")


def install(connect_timeout, query_timeout):
    """Bound every database wait of this process (a web server's): see the module's docstring."""
    if query_timeout and query_timeout > 0:
        extensions.set_wait_callback(DeadlineWait(connect_timeout, query_timeout))
