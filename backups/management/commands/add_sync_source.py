"""``add_sync_source NAME --kind csbs --endpoint URL --project-id P --token-env VAR``: add or update.

Re-running it with the same NAME updates that source: options given replace the stored values,
options left out keep them. The authentication method follows from the options: ``--token-env``
(a ready X-Auth-Token), ``--password-env`` with ``--username-env`` and ``--domain-env`` (IAM
password login), ``--ak-env`` with ``--sk-env`` (AK/SK signing). Only the NAMES of the
environment variables are stored, never their values.
"""

import re
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from backups.choices import AuthMethod, SourceKind
from backups.sync.models import SyncSource
from backups.tenancy import is_project_id

AUTH_OPTIONS = {
    AuthMethod.TOKEN: ("token_env",),
    AuthMethod.PASSWORD: ("username_env", "password_env", "domain_env", "iam_endpoint"),
    AuthMethod.AKSK: ("ak_env", "sk_env", "security_token_env"),
}
PLAIN_OPTIONS = ("kind", "region", "endpoint", "project_id", "page_size", "enabled", "interval")


def duration(text):
    """``900``, ``90s``, ``15m``, ``2h``, ``1d`` → a ``timedelta``."""
    match = re.fullmatch(r"([0-9]+)([smhd]?)", text.strip())
    if not match or int(match[1]) == 0:
        raise ValueError(f"{text!r} is not a duration: give seconds or e.g. 90s, 15m, 2h, 1d")
    unit = {"": "seconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match[2]]
    return timedelta(**{unit: int(match[1])})


class Command(BaseCommand):
    help = "Create or update an upstream source of the live mirror (secrets: names of env variables only)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--kind", choices=SourceKind.values, help="csbs (default) or cbr")
        parser.add_argument("--region", help="e.g. ap-southeast-1: the endpoints default from it")
        parser.add_argument(
            "--endpoint", help="base URL, e.g. http://127.0.0.1:8001 (default from the region)"
        )
        parser.add_argument(
            "--project-id", dest="project_id", help="the upstream project, and the inventory's"
        )
        parser.add_argument("--token-env", dest="token_env", metavar="VAR", help="VAR holds an X-Auth-Token")
        parser.add_argument("--username-env", dest="username_env", metavar="VAR", help="IAM user name")
        parser.add_argument("--password-env", dest="password_env", metavar="VAR", help="IAM password")
        parser.add_argument(
            "--domain-env", dest="domain_env", metavar="VAR", help="IAM domain (account) name"
        )
        parser.add_argument(
            "--iam-endpoint",
            dest="iam_endpoint",
            metavar="URL",
            help="Keystone v3 URL (default https://iam.{region}.myhuaweicloud.com/v3)",
        )
        parser.add_argument("--ak-env", dest="ak_env", metavar="VAR", help="access key id")
        parser.add_argument("--sk-env", dest="sk_env", metavar="VAR", help="secret access key")
        parser.add_argument(
            "--security-token-env",
            dest="security_token_env",
            metavar="VAR",
            help="temporary credentials' security token (optional)",
        )
        parser.add_argument("--page-size", dest="page_size", type=int, help="1-1000 (default 1000)")
        parser.add_argument("--interval", type=self._duration, help="for --watch: e.g. 15m (default), 1h")
        enabled = parser.add_mutually_exclusive_group()
        enabled.add_argument("--enable", dest="enabled", action="store_true", default=None)
        enabled.add_argument("--disable", dest="enabled", action="store_false")

    @staticmethod
    def _duration(text):
        try:
            return duration(text)
        except ValueError as error:
            raise CommandError(str(error)) from None

    def handle(self, *args, name, **options):
        source = SyncSource.objects.filter(name=name).first()
        created = source is None
        if created:
            source = SyncSource(name=name)
        if options["project_id"] is not None and not is_project_id(options["project_id"]):
            raise CommandError(f"--project-id {options['project_id']!r}: 1-64 of A-Z, a-z, 0-9, _ and -")
        for option in PLAIN_OPTIONS:
            if options[option] is not None:
                setattr(source, option, options[option])
        self._set_auth(source, options, created)
        try:
            source.full_clean()
        except ValidationError as error:
            messages = "; ".join(
                f"{field}: {' '.join(errors)}" for field, errors in error.message_dict.items()
            )
            raise CommandError(f"source {name!r} not saved: {messages}") from None
        source.save()
        self.stdout.write(
            f"{'created' if created else 'updated'} source {source.name}: {source.kind}, project "
            f"{source.project_id}, {source.endpoint_url()}, auth {source.auth_method} "
            f"({', '.join(f'{f}={v}' for f, v in source.required_env().items())})"
        )

    def _set_auth(self, source, options, created):
        given = [method for method, fields in AUTH_OPTIONS.items() if any(options[f] for f in fields)]
        if len(given) > 1:
            raise CommandError(
                "give the options of one authentication method: --token-env, or "
                "--username-env/--password-env/--domain-env, or --ak-env/--sk-env"
            )
        if not given:
            if created:
                raise CommandError(
                    "say how to authenticate: --token-env VAR (or --password-env …, --ak-env …)"
                )
            return
        method = given[0]
        if method != source.auth_method:  # a new method: forget the old one's names
            for field in (f for fields in AUTH_OPTIONS.values() for f in fields):
                setattr(source, field, "")
            source.auth_method = method
        for field in AUTH_OPTIONS[method]:
            if options[field]:
                setattr(source, field, options[field])
