"""``sync_backups --watch``: run each source again when its interval has passed since its last run.

Bounded: ``--cycles N`` stops after N passes that ran something, ``--for SECONDS`` after that long;
SIGTERM or SIGINT stops it at once — a run in progress stops before its next page and ends
``interrupted``, its cursor kept, so the next run resumes there.
"""

import signal
import threading
import time
from contextlib import contextmanager

from django.utils import timezone


def next_due(source, now):
    """When ``source`` should run next: now if it never ran, else its last start + interval."""
    last = source.runs.order_by("-started_at").values_list("started_at", flat=True).first()
    return now if last is None else last + source.interval


@contextmanager
def stop_on_signals(stop):
    """Set the ``stop`` event on SIGTERM/SIGINT for the duration (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in previous:
        signal.signal(sig, lambda signum, frame: stop.set())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def watch(select_sources, run_source, *, stop, cycles=None, seconds=None, clock=time.monotonic):
    """Loop: run the due sources (``run_source(source)``), then sleep until the next is due."""
    deadline = None if seconds is None else clock() + seconds
    done = 0
    while not stop.is_set():
        now = timezone.now()
        sources = list(select_sources())
        due = [s for s in sources if next_due(s, now) <= now]
        for source in due:
            if stop.is_set():
                break
            run_source(source)
        if due:
            done += 1
            if cycles is not None and done >= cycles:
                return done
        now = timezone.now()
        waits = [(next_due(s, now) - now).total_seconds() for s in sources]
        wait = max(1.0, min(waits)) if waits else 60.0
        if deadline is not None:
            left = deadline - clock()
            if left <= 0:
                return done
            wait = min(wait, left)
        stop.wait(wait)
    return done
