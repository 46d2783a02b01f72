"""Reads of web requests on the replica, every write on the primary, and a request's own writes read back.

Active when ``REPLICA_DATABASE_URL`` is set (``settings.DATABASES["replica"]``); the rules:

- **Writes** (``db_for_write``: the admin, imports, the sync, tokens, sessions) go to ``default``,
  the primary. Management commands and anything outside a web request read from the primary too.
- **Reads in a web request** (``GET``/``HEAD``: the API, the pages) go to ``replica`` while the
  replica is usable (``backups.db.replica``: answering, streaming, lag within ``REPLICA_MAX_LAG``).
- **Read-your-writes**: a request with an unsafe method (``POST``...) reads from the primary
  throughout, and so does a read inside a transaction on the primary; a request that writes (any
  ``db_for_write``) reads from the primary from then on, and its response sets the
  ``csbs_primary_until`` cookie, so that the same client's next requests for
  ``REPLICA_PIN_SECONDS`` read from the primary too (the admin's list after a save shows the save).
- **Fallback**: a replica that is down or lagging sends reads to the primary, and a ``GET`` whose
  replica failed while it ran is served again from the primary (``ReplicaRoutingMiddleware``), so
  the user sees no error.

The cache table (the failed-authentication throttle counts in it) is always read on the primary: its
read-modify-write must not read a stale count. Per request the cost is one context variable and one
cookie lookup; the replica's health is read from memory, never queried per request.
"""

import contextvars
import time

from django.db import connections

from .replica import REPLICA, replica_monitor

PIN_COOKIE = "csbs_primary_until"
SAFE_METHODS = frozenset({"GET", "HEAD"})
#: Apps whose tables are read where they are written.
PRIMARY_ONLY_APPS = frozenset({"django_cache"})

_routing = contextvars.ContextVar("db_routing", default=None)


class RequestRouting:
    """Where this request's reads go. ``primary`` once it wrote, or when it must read on the primary."""

    __slots__ = ("primary", "wrote", "used_replica")

    def __init__(self, primary):
        self.primary = primary
        self.wrote = False
        self.used_replica = False


class PrimaryReplicaRouter:
    """``DATABASE_ROUTERS`` entry; see the module's docstring for the rules."""

    def db_for_read(self, model, **hints):
        routing = _routing.get()
        if routing is None or routing.primary or model._meta.app_label in PRIMARY_ONLY_APPS:
            return "default"
        if connections["default"].in_atomic_block:  # a transaction on the primary reads what it wrote
            return "default"
        if not replica_monitor().usable() or not _connected(REPLICA):
            return "default"
        routing.used_replica = True
        return REPLICA

    def db_for_write(self, model, **hints):
        routing = _routing.get()
        if routing is not None and model._meta.app_label not in PRIMARY_ONLY_APPS:
            routing.primary = routing.wrote = True
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, **hints):
        return db == "default"  # the replica follows the primary's schema by streaming


def _connected(alias):
    """Connect to ``alias`` now if this thread has no connection yet; ``False`` (replica marked down)
    if that fails, so that a replica that refuses or times out costs one connect, not an error."""
    connection = connections[alias]
    if connection.connection is not None:
        return True
    try:
        connection.ensure_connection()
    except Exception as error:  # noqa: BLE001 - OperationalError, InterfaceError...
        replica_monitor().mark_down(f"connect failed: {error.__class__.__name__}")
        return False
    return True


def reads_on_replica():
    """Whether a read now would go to the replica (for a fallback on a miss, e.g. a new token)."""
    routing = _routing.get()
    return routing is not None and routing.used_replica and not routing.primary


class ReplicaRoutingMiddleware:
    """Sets the request's routing; pins the client after a write; re-serves a GET whose replica failed."""

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.pin_seconds = settings.REPLICA_PIN_SECONDS
        self.secure = settings.SESSION_COOKIE_SECURE

    def __call__(self, request):
        now = time.time()
        routing = RequestRouting(primary=request.method not in SAFE_METHODS or self._pinned(request, now))
        replica = connections[REPLICA]
        replica.errors_occurred = False
        token = _routing.set(routing)
        try:
            response = self.get_response(request)
            if routing.used_replica and replica.errors_occurred:
                response = self._again_on_primary(request, response, routing)
        finally:
            _routing.reset(token)
        if routing.wrote:
            response.set_cookie(
                PIN_COOKIE,
                str(int(now + self.pin_seconds)),
                max_age=self.pin_seconds,
                httponly=True,
                samesite="Lax",
                secure=self.secure,
            )
        return response

    def _pinned(self, request, now):
        until = request.COOKIES.get(PIN_COOKIE)
        if not until:
            return False
        try:
            until = float(until)
        except ValueError:
            return False
        return now < until <= now + self.pin_seconds + 1  # a forged far-future pin is ignored

    def _again_on_primary(self, request, response, routing):
        """The replica failed during this request: mark it down and serve the request from the primary."""
        replica_monitor().mark_down("a request's query failed")
        connections[REPLICA].close()
        if request.method not in SAFE_METHODS or response.streaming:
            return response  # a streamed body has started: nothing can be re-served
        routing.primary, routing.used_replica = True, False
        return self.get_response(request)
