"""Is the read replica fit to serve reads? A per-process answer, refreshed in the background.

``replica_monitor().usable()`` is what the router asks on every read it could send to the replica:
an attribute read, never a query. A daemon thread of each process (started on first use, again
after a fork) asks the replica every ``REPLICA_CHECK_INTERVAL`` seconds whether it is a standby that
streams from the primary and how far its replay lags::

    lag = 0                                   when everything received is replayed
        = now() - pg_last_xact_replay_timestamp()   otherwise

The replica is usable when that query answers, the WAL receiver is ``streaming`` and the lag is at
most ``REPLICA_MAX_LAG`` seconds. A request that sees the replica fail (``mark_down``) makes it
unusable at once for this process, until the next check finds it healthy again. The check uses the
``replica`` database settings of Django (through PgBouncer when the reads do), with the web
process's bounded waits (``backups.db.timeouts``), so a frozen replica only stalls the thread.
"""

import logging
import os
import threading
import time

from django.conf import settings
from django.db import connections

logger = logging.getLogger("backups.db")

REPLICA = "replica"

LAG_SQL = """
SELECT pg_is_in_recovery(),
       COALESCE((SELECT status = 'streaming' FROM pg_stat_wal_receiver LIMIT 1), false),
       CASE WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
       END
"""


class ReplicaMonitor:
    """The replica's last known state in this process, and the thread that keeps it fresh."""

    def __init__(self, alias=REPLICA, interval=None, max_lag=None):
        self.alias = alias
        self.interval = float(interval if interval is not None else settings.REPLICA_CHECK_INTERVAL)
        self.max_lag = float(max_lag if max_lag is not None else settings.REPLICA_MAX_LAG)
        self._usable = False  # until the first check says otherwise: reads start on the primary
        self.lag = None
        self.reason = "not checked yet"
        self.checked_at = None
        self._pid = None
        self._wake = threading.Event()
        self._lock = threading.Lock()

    # --- what requests ask -------------------------------------------------------------------
    def usable(self):
        if self._pid != os.getpid():
            self._start()
        return self._usable

    def mark_down(self, reason):
        """A request saw the replica fail: reads go to the primary until a check finds it healthy."""
        if self._usable:
            logger.warning("replica unusable: %s; reads go to the primary", reason)
        self._usable, self.reason = False, reason
        self._wake.set()

    def snapshot(self):
        """The state for ``/readyz``: ``{"usable", "lag_seconds", "reason", "checked_seconds_ago"}``."""
        if self._pid != os.getpid():
            self._start()
        ago = None if self.checked_at is None else round(time.monotonic() - self.checked_at, 3)
        lag = None if self.lag is None else round(self.lag, 3)
        return {"usable": self._usable, "lag_seconds": lag, "reason": self.reason, "checked_seconds_ago": ago}

    # --- the check ----------------------------------------------------------------------------
    def check(self):
        """Ask the replica once; update the state; return whether it is usable."""
        connection = connections[self.alias]
        try:
            with connection.cursor() as cursor:
                cursor.execute(LAG_SQL)
                in_recovery, streaming, lag = cursor.fetchone()
        except Exception as error:  # noqa: BLE001 - any failure means: not usable now
            self._set(False, None, f"check failed: {error.__class__.__name__}")
            connection.close()
            return False
        lag = float(lag)
        if not in_recovery:
            self._set(False, lag, "not a standby (promoted?)")
        elif not streaming:
            self._set(False, lag, "not streaming from the primary")
        elif lag > self.max_lag:
            self._set(False, lag, f"lag {lag:.1f}s over REPLICA_MAX_LAG={self.max_lag:g}s")
        else:
            self._set(True, lag, "ok")
        return self._usable

    def _set(self, usable, lag, reason):
        if usable != self._usable:
            log = logger.info if usable else logger.warning
            log("replica %s: %s", "usable" if usable else "unusable", reason)
        self._usable, self.lag, self.reason, self.checked_at = usable, lag, reason, time.monotonic()

    def _start(self):
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._usable, self.reason = False, "not checked yet"
            self._wake = threading.Event()
            thread = threading.Thread(target=self._run, name="replica-monitor", daemon=True)
            thread.start()

    def _run(self):
        pid = os.getpid()
        while self._pid == pid:
            self.check()
            self._wake.wait(self.interval)
            self._wake.clear()


_monitor = None
_monitor_lock = threading.Lock()


def replica_monitor():
    """The process's one monitor (created on first use, from settings)."""
    global _monitor
    if _monitor is None:
        with _monitor_lock:
            if _monitor is None:
                _monitor = ReplicaMonitor()
    return _monitor


def replica_configured():
    return REPLICA in settings.DATABASES
