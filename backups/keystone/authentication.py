"""``X-Auth-Token`` from Keystone: the DRF authentication class after the local ``TokenAuthentication``.

Inert unless ``KEYSTONE_AUTH_URL`` is set. Then ``TokenAuthentication`` passes on a token it did
not issue (an unknown one; an expired or revoked local token is still its own 401), and this class
validates it (``backups.keystone.validation``): ``request.user`` is a ``KeystoneUser`` and
``request.auth`` a ``KeystoneToken``, which the tenancy code reads like an ``ApiToken``.

- Rejected by Keystone (unknown, revoked, expired, not project-scoped): 401 ``CSBS.9401``, counted
  by the failed-authentication throttle like a bad local token (then 429 ``CSBS.9429``).
- A client locked out by that throttle gets its 429 before Keystone is asked about a token that is
  not in the cache, so a prober cannot make the service call Keystone more than the limit allows.
- Keystone unavailable: 503 ``CSBS.9503``, not counted (it is not the caller's failure).
"""
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from backups.api.authentication import HEADER
from backups.api.errors import CSBSError
from backups.api.throttling import raise_if_locked_out, record_failed_authentication

from . import validation
from .principal import KeystoneUser

UNAVAILABLE = "The service is temporarily unavailable (Keystone cannot validate the token now); retry later"


class KeystoneAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        token = request.META.get(HEADER)
        if not token or not validation.is_configured():
            return None
        result = validation.cached(token)
        if result is None:
            raise_if_locked_out(request)
            try:
                result = validation.validate(token)
            except validation.KeystoneUnavailable:
                raise CSBSError(503, UNAVAILABLE) from None
        if isinstance(result, validation.Rejected):
            record_failed_authentication(request)
            raise exceptions.AuthenticationFailed(result.message)
        return KeystoneUser(result), result

    def authenticate_header(self, request):
        return "X-Auth-Token"


class KeystoneAuthenticationScheme(OpenApiAuthenticationExtension):
    """OpenAPI: ``KeystoneToken``, beside ``XAuthToken`` in the same header; only when configured."""

    target_class = KeystoneAuthentication

    @property
    def name(self):
        return ["KeystoneToken"] if validation.is_configured() else []

    def get_security_definition(self, auto_schema):
        if not validation.is_configured():
            return []
        return [{
            "type": "apiKey",
            "in": "header",
            "name": "X-Auth-Token",
            "description": "A project-scoped Keystone (IAM) token: it reads its project; a role of "
            "KEYSTONE_ADMIN_ROLES makes it an admin.",
        }]

    def get_security_requirement(self, auto_schema):
        return {"KeystoneToken": []} if validation.is_configured() else None
