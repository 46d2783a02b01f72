"""Failed ``X-Auth-Token`` attempts, counted per client address: past the limit, 429 ``CSBS.9429``.

``record_failed_authentication`` is called by ``TokenAuthentication`` for each unknown, expired or
revoked token, and by ``backups.keystone`` for each token Keystone rejects (which calls
``raise_if_locked_out`` before asking Keystone). More than ``AUTH_FAILURE_LIMIT`` failures from
one client address within a fixed window of ``AUTH_FAILURE_WINDOW`` seconds are answered 429
with ``Retry-After`` (the seconds left in the window) instead of 401, until the window ends.

Only failures are counted and only failures are checked: a request with a valid local token never
touches the cache, so the hot path costs no extra query or round trip whatever the cache backend,
and a valid client behind the same NAT as a prober is not locked out. Tokens are 256-bit random
values, so letting a valid one through during a lock-out gives a prober nothing.

The counters live in Django's default cache. The default, ``LocMemCache``, counts per process: with
several gunicorn workers each counts alone (a prober gets up to limit × workers tries per window).
Production with several workers should set a shared cache (``CACHE_BACKEND=database`` after
``manage.py createcachetable``, or memcached/Redis). The client address is ``REMOTE_ADDR``, or the
address ``NUM_PROXIES`` trusted proxies put in ``X-Forwarded-For`` (DRF's rule).
"""

import hashlib
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger("backups.api")

KEY_PREFIX = "auth-failures"


class AuthenticationThrottled(Throttled):
    default_detail = "Too many failed authentication attempts from this client address."


def client_address(request):
    """The caller's address, as DRF's throttles read it (``NUM_PROXIES``)."""
    return BaseThrottle().get_ident(request) or "unknown"


def _counter(request, now):
    """``(cache key, window start, address)`` of the caller's failures in the window of ``now``."""
    window = settings.AUTH_FAILURE_WINDOW
    window_start = int(now // window) * window
    address = client_address(request)
    # Hashed: an address from X-Forwarded-For is caller-supplied text, unfit as a cache key as is.
    key = f"{KEY_PREFIX}:{hashlib.sha256(address.encode()).hexdigest()}:{window_start}"
    return key, window_start, address


def raise_if_locked_out(request, *, now=None):
    """Raise ``AuthenticationThrottled`` if the caller is past the limit, without counting a failure.

    For checks that cost a call elsewhere (a Keystone validation): a locked-out client is refused
    before the call is made.
    """
    now = time.time() if now is None else now
    key, window_start, _ = _counter(request, now)
    if (cache.get(key) or 0) > settings.AUTH_FAILURE_LIMIT:
        window_end = window_start + settings.AUTH_FAILURE_WINDOW
        raise AuthenticationThrottled(wait=max(1, math.ceil(window_end - now)))


def record_failed_authentication(request, *, now=None):
    """Count one failed attempt of the caller; raise ``AuthenticationThrottled`` past the limit."""
    limit, window = settings.AUTH_FAILURE_LIMIT, settings.AUTH_FAILURE_WINDOW
    now = time.time() if now is None else now
    key, window_start, address = _counter(request, now)
    cache.add(key, 0, timeout=window + 1)
    try:
        failures = cache.incr(key)
    except ValueError:  # expired or evicted between add and incr
        cache.set(key, 1, timeout=window + 1)
        failures = 1
    if failures > limit:
        if failures == limit + 1:
            logger.warning(
                "failed authentication throttled: %d failures from %s within %ds", failures, address, window
            )
        raise AuthenticationThrottled(wait=max(1, math.ceil(window_start + window - now)))
