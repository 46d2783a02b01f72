"""What a valid Keystone token becomes: ``request.auth`` (``KeystoneToken``) and ``request.user``.

``KeystoneToken`` answers the two questions the tenancy code asks of a local ``ApiToken`` —
``project_id`` (the token's project scope) and ``is_admin`` (one of ``KEYSTONE_ADMIN_ROLES``) — so
``backups.api.permissions`` treats both kinds alike. ``KeystoneUser`` is an authenticated user that
exists only for the request: no Django user is created for a Keystone user, nothing is written to
the database, and it holds no Django permission (it is never staff).
"""
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings


@dataclass(frozen=True)
class KeystoneToken:
    """The facts of one validated token that the service uses; never the token itself."""

    user_id: str
    user_name: str
    user_domain_name: str
    project_id: str
    project_name: str
    roles: tuple[str, ...]
    expires_at: datetime

    @property
    def is_admin(self):
        """One of ``KEYSTONE_ADMIN_ROLES`` (exact names): the setting is read now, not when cached."""
        return not set(self.roles).isdisjoint(settings.KEYSTONE_ADMIN_ROLES)


class KeystoneUser:
    """``request.user`` of a request authenticated by a Keystone token (like simplejwt's ``TokenUser``)."""

    is_active = True
    is_staff = False
    is_superuser = False
    is_authenticated = True
    is_anonymous = False
    pk = id = None

    def __init__(self, token):
        self.token = token
        self.username = f"keystone:{token.user_domain_name}/{token.user_name}"

    def __str__(self):
        return self.username

    def get_username(self):
        return self.username

    def has_perm(self, perm, obj=None):
        return False

    def has_perms(self, perm_list, obj=None):
        return False

    def has_module_perms(self, module):
        return False
