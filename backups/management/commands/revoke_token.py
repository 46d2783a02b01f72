"""``revoke_token``: delete API tokens, chosen by prefix, by user (and project), or every expired one.

    python manage.py revoke_token --prefix=PREFIX
    python manage.py revoke_token --user NAME [--project PROJECT]
    python manage.py revoke_token --all-expired

Write ``--prefix=PREFIX`` with the ``=``: a prefix may start with ``-`` (tokens use the URL-safe
alphabet), which would otherwise be read as an option. Exactly one selection is required, and an
empty one (``--prefix ""``) is refused, so the command can never delete every token by accident. It
prints how many tokens it deleted and, for each, the prefix ``create_token`` printed (the first
characters of the token, stored in clear to tell tokens apart), never a token. Nothing matching is
not an error (revoking is idempotent); an unknown user is, since it is most likely a typo.
Memberships are kept: they are access to the browse pages, not tokens.
"""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from backups.models import ApiToken

from .create_token import clean_project_id


class Command(BaseCommand):
    help = "Revoke (delete) API tokens: by --prefix, by --user [--project], or --all-expired."

    def add_arguments(self, parser):
        selection = parser.add_mutually_exclusive_group(required=True)
        selection.add_argument(
            "--prefix",
            help=f"The token's first {ApiToken.PREFIX_LENGTH} characters, as create_token printed them.",
        )
        selection.add_argument("--user", help="Every token of this user (narrowed by --project).")
        selection.add_argument("--all-expired", action="store_true", help="Every token past its expiry.")
        parser.add_argument("--project", help="With --user: only the tokens of this project.")

    def handle(self, *args, prefix, user, all_expired, project, **options):
        tokens, described = self.selection(prefix, user, all_expired, project)
        with transaction.atomic():
            revoked = list(tokens.select_related("user").order_by("created_at", "pk"))
            ApiToken.objects.filter(pk__in=[token.pk for token in revoked]).delete()
        for token in revoked:
            self.stdout.write(f"  {token.prefix}… of {token.user} on {token.project_id}")
        noun = "token" if len(revoked) == 1 else "tokens"
        self.stdout.write(f"Revoked {len(revoked)} {noun} ({described}).")

    def selection(self, prefix, user, all_expired, project):
        """The tokens to delete and a description of the choice; refuse an empty or mixed selection."""
        if project is not None and user is None:
            raise CommandError("--project narrows --user: give --user NAME --project PROJECT")
        if prefix is not None:
            if len(prefix) != ApiToken.PREFIX_LENGTH:
                raise CommandError(
                    f"Invalid --prefix '{prefix[:40]}': give the token's first "
                    f"{ApiToken.PREFIX_LENGTH} characters, as create_token printed them"
                )
            return ApiToken.objects.filter(prefix=prefix), f"prefix {prefix}"
        if user is not None:
            if not user:
                raise CommandError("Empty --user: name the user whose tokens to revoke")
            User = get_user_model()
            account = User.objects.filter(**{User.USERNAME_FIELD: user}).first()
            if account is None:
                raise CommandError(f"No user named '{user[:80]}': nothing revoked")
            tokens = ApiToken.objects.filter(user=account)
            if project is None:
                return tokens, f"user {user}, every project"
            return tokens.filter(project_id=clean_project_id(project)), f"user {user}, project {project}"
        if all_expired:
            return ApiToken.objects.filter(expires_at__lte=timezone.now()), "expired"
        raise CommandError(
            "Choose the tokens to revoke: --prefix PREFIX, --user NAME [--project PROJECT] or --all-expired"
        )
