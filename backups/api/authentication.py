"""``X-Auth-Token`` authentication: the token's SHA-256 is looked up, never the token itself."""
from rest_framework import authentication, exceptions

from backups.db.router import reads_on_replica
from backups.models import ApiToken

from .throttling import record_failed_authentication

HEADER = "HTTP_X_AUTH_TOKEN"


class TokenAuthentication(authentication.BaseAuthentication):
    """Authenticates ``X-Auth-Token``; ``request.auth`` is then the ``ApiToken``.

    No header: not this scheme (session login may apply). An unknown, expired or revoked token,
    or one whose user is inactive: 401 with the same message, so tokens cannot be probed; too many
    of them from one client: 429 (``backups.api.throttling``).
    """

    def authenticate(self, request):
        key = request.META.get(HEADER)
        if not key:
            return None
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=ApiToken.hash(key))
            .first()
        )
        if token is None and reads_on_replica():  # issued a moment ago, maybe not replayed there yet
            primary = ApiToken.objects.using("default").select_related("user")
            token = primary.filter(key_hash=ApiToken.hash(key)).first()
        if token is None or token.is_expired or not token.user.is_active:
            record_failed_authentication(request)
            raise exceptions.AuthenticationFailed("Authentication failed: the token is invalid or expired")
        return token.user, token

    def authenticate_header(self, request):
        return "X-Auth-Token"
