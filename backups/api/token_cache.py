"""Valid tokens remembered for a few seconds in each process, so that a client's requests cost no token query.

``find_token(key_hash)`` is ``TokenAuthentication``'s one lookup: the ``ApiToken`` with its user,
or ``None``. A token found in the database is remembered for ``AUTH_TOKEN_CACHE_SECONDS``
(default 5; 0 turns the memory off), at most ``AUTH_TOKEN_CACHE_SIZE`` tokens per process (the
least recently used are forgotten first). Unknown tokens are never remembered: each attempt is
looked up, and counted by the failed-authentication throttle.

What the memory may not change: a revoked token is refused

* in this process at once: deleting or saving a token, and saving or deleting a user, forget
  what is remembered of them (model signals; ``revoke_token``, the admin and ``create_token`` all
  send them);
* in every other process (each gunicorn worker has its own memory) within
  ``AUTH_TOKEN_CACHE_SECONDS``, when the memory of it expires; so are changes made without
  signals (``QuerySet.update``, SQL).

A token's expiry and its user's ``is_active`` are checked on every request, from the remembered
token, so a token still stops working at its ``expires_at``. Only hashes are keys; no token is
ever held in clear.
"""

import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save

from backups.models import ApiToken

_remembered = OrderedDict()  # key_hash -> (monotonic time found, ApiToken with its user)
_lock = threading.Lock()


def find_token(key_hash):
    """The ``ApiToken`` (``select_related`` user) whose key hashes to ``key_hash``, or ``None``."""
    seconds = settings.AUTH_TOKEN_CACHE_SECONDS
    now = time.monotonic()
    if seconds > 0:
        with _lock:
            entry = _remembered.get(key_hash)
            if entry is not None and now - entry[0] < seconds:
                _remembered.move_to_end(key_hash)
                return entry[1]
    token = ApiToken.objects.select_related("user").filter(key_hash=key_hash).first()
    if token is not None and seconds > 0:
        with _lock:
            _remembered[key_hash] = (now, token)
            _remembered.move_to_end(key_hash)
            while len(_remembered) > settings.AUTH_TOKEN_CACHE_SIZE:
                _remembered.popitem(last=False)
    return token


def forget_all():
    with _lock:
        _remembered.clear()


def _forget_token(sender, instance, **kwargs):
    with _lock:
        _remembered.pop(instance.key_hash, None)


def _forget_user(sender, instance, **kwargs):
    with _lock:
        for key_hash in [k for k, (_, token) in _remembered.items() if token.user_id == instance.pk]:
            del _remembered[key_hash]


post_save.connect(_forget_token, sender=ApiToken, dispatch_uid="token_cache.saved_token")
post_delete.connect(_forget_token, sender=ApiToken, dispatch_uid="token_cache.deleted_token")
post_save.connect(_forget_user, sender=get_user_model(), dispatch_uid="token_cache.saved_user")
post_delete.connect(_forget_user, sender=get_user_model(), dispatch_uid="token_cache.deleted_user")
