"""Validating a Keystone token: one ``GET {KEYSTONE_AUTH_URL}/auth/tokens``, its answer cached.

The contract (docs/API.md, "Keystone tokens"):

- The service authenticates itself with keystoneauth1's v3 ``Password`` plugin
  (``KEYSTONE_USERNAME``, ``KEYSTONE_PASSWORD``, ``KEYSTONE_PROJECT_NAME``,
  ``KEYSTONE_USER_DOMAIN_NAME``, ``KEYSTONE_PROJECT_DOMAIN_NAME``); keystoneauth1 keeps that
  token, logs in again before it expires, and once more if Keystone answers 401.
- The caller's token goes in ``X-Subject-Token``. Keystone's 200 body is read with
  keystoneauth1's ``access`` module; a 404 (unknown, revoked or expired token), an ``expires_at``
  already past, or a token not scoped to a project (unscoped, domain- or system-scoped) is a
  ``Rejected`` with the message the caller gets in the 401.
- Keystone unreachable, slower than ``KEYSTONE_TIMEOUT`` seconds per call (no retry), answering
  anything else, or refusing the service's own credentials: ``KeystoneUnavailable`` (503). A
  validation makes at most two calls: the service's login, when its token is due, and the check.
- The answer is cached in Django's default cache under a SHA-256 of the endpoint and the token
  (never the token itself) for ``KEYSTONE_CACHE_TTL`` seconds, and a valid token never past its
  ``expires_at``; a rejection is cached too (a revoked token does not come back). So a revocation
  is seen within ``KEYSTONE_CACHE_TTL`` seconds, and a page of requests costs one call.

Tokens are never logged: keystoneauth1's own debug log replaces ``X-Subject-Token`` and
``X-Auth-Token`` by their hashes, and the project's ``LOGGING`` keeps it at WARNING anyway.
"""
import functools
import hashlib
import logging
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from keystoneauth1 import access, session
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1.identity import v3

from .principal import KeystoneToken

logger = logging.getLogger("backups.keystone")

CACHE_PREFIX = "keystone-token"
INVALID = "Authentication failed: the token is invalid or expired"  # as for a local token
NOT_PROJECT_SCOPED = (
    "Authentication failed: the token is not scoped to a project; "
    "ask Keystone for a project-scoped token (auth.scope.project)"
)


@dataclass(frozen=True)
class Rejected:
    """Keystone's answer for a token that authenticates nothing; ``message`` goes in the 401."""

    message: str


class KeystoneUnavailable(Exception):
    """Keystone could not say whether the token is valid; the caller gets a 503."""


def is_configured():
    return bool(settings.KEYSTONE_AUTH_URL)


def cache_key(token):
    digest = hashlib.sha256(f"{settings.KEYSTONE_AUTH_URL}\0{token}".encode()).hexdigest()
    return f"{CACHE_PREFIX}:{digest}"


def cached(token):
    """The cached ``KeystoneToken`` or ``Rejected`` of ``token``, or None: Keystone must be asked."""
    return cache.get(cache_key(token))


def validate(token):
    """Ask Keystone about ``token``; cache and return a ``KeystoneToken`` or a ``Rejected``."""
    result = _ask_keystone(token)
    if isinstance(result, Rejected):
        cache.set(cache_key(token), result, timeout=settings.KEYSTONE_CACHE_TTL)
        return result
    seconds_left = math.floor((result.expires_at - timezone.now()).total_seconds())
    timeout = min(settings.KEYSTONE_CACHE_TTL, seconds_left)
    if timeout > 0:
        cache.set(cache_key(token), result, timeout=timeout)
    return result


def _ask_keystone(token):
    url = f"{settings.KEYSTONE_AUTH_URL}/auth/tokens"
    try:
        response = service_session().get(
            url, headers={"X-Subject-Token": token}, authenticated=True, raise_exc=False, connect_retries=0
        )
    except ks_exceptions.ConnectionError as error:  # refused, timed out, TLS, reset
        logger.warning("Keystone unreachable at %s: %s", url, error.__class__.__name__)
        raise KeystoneUnavailable from None
    except ks_exceptions.ClientException as error:  # the service's own login failed
        logger.error("the service could not log in to Keystone as %r: %s", settings.KEYSTONE_USERNAME, error)
        raise KeystoneUnavailable from None
    if response.status_code == 404:
        return Rejected(INVALID)
    if response.status_code != 200:
        logger.error(
            "Keystone answered %d to a token validation (are the service's credentials allowed "
            "to validate tokens?)", response.status_code,
        )
        raise KeystoneUnavailable
    return _read(response)


def _read(response):
    """The token facts of Keystone's 200 answer (keystoneauth1's ``AccessInfoV3``)."""
    try:
        info = access.create(body=response.json())
        expires_at = info.expires
        project_scoped = info.project_scoped
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        logger.error("Keystone's token body cannot be read: %s", error.__class__.__name__)
        raise KeystoneUnavailable from None
    if expires_at is None or expires_at <= timezone.now():
        return Rejected(INVALID)
    if not project_scoped:
        return Rejected(NOT_PROJECT_SCOPED)
    return KeystoneToken(
        user_id=info.user_id or "",
        user_name=info.username or "",
        user_domain_name=info.user_domain_name or "",
        project_id=info.project_id,
        project_name=info.project_name or "",
        roles=tuple(info.role_names or ()),
        expires_at=expires_at,
    )


def service_session():
    """The keystoneauth1 session logged in as the service (one per configuration and process)."""
    return _session(
        settings.KEYSTONE_AUTH_URL,
        settings.KEYSTONE_USERNAME,
        settings.KEYSTONE_PASSWORD,
        settings.KEYSTONE_PROJECT_NAME,
        settings.KEYSTONE_USER_DOMAIN_NAME,
        settings.KEYSTONE_PROJECT_DOMAIN_NAME,
        settings.KEYSTONE_TIMEOUT,
    )


@functools.lru_cache(maxsize=4)
def _session(auth_url, username, password, project_name, user_domain_name, project_domain_name, timeout):
    auth = v3.Password(
        auth_url=auth_url,
        username=username,
        password=password,
        project_name=project_name or None,
        user_domain_name=user_domain_name,
        project_domain_name=project_domain_name if project_name else None,
    )
    return session.Session(auth=auth, timeout=timeout)
