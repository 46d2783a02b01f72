"""Persistent PostgreSQL connections checked without a round trip: a look at the socket, not ``SELECT 1``.

Django's ``CONN_HEALTH_CHECKS`` sends ``SELECT 1`` before the first query of every request that
reuses a persistent connection (``CONN_MAX_AGE``): one more round trip on every API request, as
many as the request's own queries. The settings turn it off for PostgreSQL, and
``close_broken_connections`` (run when a request starts) does the same job locally: it polls each
open, idle PostgreSQL connection's socket without waiting.

* Nothing to read: the server has not written to an idle connection since its last answer, so it
  has not ended it. The connection is used as is.
* Something to read: the server said something on its own. When it ends a session (shut down,
  restarted, ``pg_terminate_backend``, ``idle_session_timeout``) it sends a FATAL error and
  closes the socket. Then, and only then, Django's own check runs (``is_usable``: ``SELECT 1``),
  which fails on such a connection; it is closed and the request's first query opens a new one,
  exactly as after a failed ``SELECT 1`` of Django's check.

Neither check sees a peer that vanished without a word (a network partition): ``SELECT 1`` would
hang on it as the request's own query does. SQLite connections are local files and are skipped.
"""

import select

from django.db import connections


def server_has_spoken(raw_connection):
    """Does the driver connection's socket hold unread data (or is it closed)? Never blocks."""
    if getattr(raw_connection, "closed", False):
        return True
    poller = select.poll()
    try:
        poller.register(raw_connection.fileno(), select.POLLIN | select.POLLPRI)
    except (OSError, ValueError):  # no socket any more
        return True
    return bool(poller.poll(0))


def close_broken_connections(**kwargs):
    """``request_started``: close every idle PostgreSQL connection the server has ended."""
    for connection in connections.all(initialized_only=True):
        raw = connection.connection
        if connection.vendor != "postgresql" or raw is None or connection.in_atomic_block:
            continue
        if server_has_spoken(raw) and not connection.is_usable():
            connection.close()
