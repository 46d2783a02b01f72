"""``create_token``: issue an ``X-Auth-Token`` for a user on one project; the token is the last line printed.

    python manage.py create_token --user NAME --project PROJECT [--admin] [--expires-in DAYS]

The user is created when missing (with an unusable password: the token is how it signs in) and
recorded as a member of the project (``ProjectMembership``, which the browse pages read). Only the
token's SHA-256 is stored (``ApiToken.issue``), so the token is shown once, on the last line of the
output, so that scripts can take it with ``tail -n 1``. Nothing else printed is secret.
"""
import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from backups.models import ApiToken, ProjectMembership
from backups.tenancy import is_project_id

#: A hundred years: a bound that keeps the expiry a valid date and refuses typos like 10**9.
MAX_EXPIRES_IN_DAYS = 36500


def clean_project_id(value):
    if not is_project_id(value):
        raise CommandError(
            f"Invalid --project '{(value or '')[:80]}': a project id is 1-64 characters of "
            "letters, digits, '_' and '-'"
        )
    return value


def clean_expires_in(value):
    """``--expires-in``: whole days from 1 to MAX_EXPIRES_IN_DAYS; ``None`` (not given) never expires."""
    if value is None:
        return None
    text = str(value).strip()
    if not re.fullmatch(r"[0-9]{1,9}", text, re.ASCII) or not 1 <= int(text) <= MAX_EXPIRES_IN_DAYS:
        raise CommandError(
            f"Invalid --expires-in '{str(value)[:40]}': give a whole number of days from 1 to "
            f"{MAX_EXPIRES_IN_DAYS}, or leave it out for a token that never expires"
        )
    return int(text)


def clean_username(value):
    User = get_user_model()
    field = User._meta.get_field(User.USERNAME_FIELD)
    try:
        return field.clean(value, None)
    except ValidationError as error:
        raise CommandError(f"Invalid --user '{(value or '')[:80]}': {' '.join(error.messages)}") from None


class Command(BaseCommand):
    help = (
        "Issue an API token (X-Auth-Token) for a user on a project, creating the user if needed. "
        "The token is printed once, on the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="User name; created (no password) if missing.")
        parser.add_argument("--project", required=True, help="Project id the token may read.")
        parser.add_argument(
            "--admin", action="store_true", help="The admin role: may read every project and use all_tenants."
        )
        parser.add_argument(
            "--expires-in", metavar="DAYS", help="Days until the token expires (default: never)."
        )

    def handle(self, *args, user, project, admin, expires_in, **options):
        username = clean_username(user)
        project_id = clean_project_id(project)
        days = clean_expires_in(expires_in)
        expires_at = timezone.now() + timedelta(days=days) if days else None
        User = get_user_model()
        with transaction.atomic():
            account, created = User.objects.get_or_create(**{User.USERNAME_FIELD: username})
            if created:
                account.set_unusable_password()
                account.save(update_fields=["password"])
            elif not account.is_active:
                # TokenAuthentication refuses tokens of inactive users: the token would never work.
                raise CommandError(f"User '{username}' is inactive: reactivate it before issuing a token")
            ProjectMembership.objects.get_or_create(user=account, project_id=project_id)
            token, key = ApiToken.issue(
                user=account, project_id=project_id, is_admin=admin, expires_at=expires_at
            )

        if created:
            self.stdout.write(f"Created user {username} (no password; it signs in with tokens).")
        details = ["admin" if admin else "project member"]
        details.append(f"expires {expires_at:%Y-%m-%d %H:%M:%S} UTC" if expires_at else "never expires")
        details.append(f"prefix {token.prefix}")
        self.stdout.write(
            f"Token for {username} on {project_id} ({', '.join(details)}). "
            "It is shown only once; store it now:"
        )
        self.stdout.write(key)
