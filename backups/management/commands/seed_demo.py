"""``seed_demo``: reproducible synthetic backups (backups.demo), demo users and an API token.

Items go through the import path — ``parse.parse_item`` then ``services.upsert``'s two halves in
batches — so demo data is validated like any import. Ids come from ``--seed``: re-running with
the same seed (and the same ``--items``/``--projects``) updates the same items in place; ``--clear``
deletes every item first. The data's "now" is ``--anchor``, by default today's midnight UTC.
"""
import sys
import time
from collections import Counter

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries, transaction
from django.utils import timezone
from tqdm import tqdm

from backups import demo
from backups.document.parse import ItemInvalid, parse_item
from backups.document.timestamps import parse_timestamp
from backups.models import (
    ApiToken,
    CheckpointItem,
    ProjectMembership,
    ReplicationRecord,
    Sighting,
    VolumeBackup,
)
from backups.services.statistics import WrittenRows
from backups.services.upsert import ItemConflict, prepare_items, write_items, written_rows

ADMIN_USERNAME, ADMIN_PASSWORD = "admin", "admin"
SUPPORT_USERNAME, SUPPORT_PASSWORD = "support", "support"
SUPPORT_GROUP = "Support"
SUPPORT_PERMISSIONS = ("view_checkpointitem", "view_volumebackup", "view_replicationrecord")
BASE_URL = "http://127.0.0.1:8000"


def positive_int(text):
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = "Create reproducible synthetic backups, a demo admin and support user, and an API token."

    def add_arguments(self, parser):
        parser.add_argument("--items", type=positive_int, default=2000, help="How many items (default 2000).")
        parser.add_argument("--projects", type=int, default=5, help="Over how many projects (default 5).")
        parser.add_argument("--seed", type=int, default=0, help="Same seed, same data (default 0).")
        parser.add_argument(
            "--anchor",
            help="The data's 'now' (every backup is older), e.g. 2026-11-26T00:00Z; default: today 00:00 UTC",
        )
        parser.add_argument(
            "--shape", choices=sorted(demo.SHAPES), default="demo",
            help="Proportions of the data: 'demo', or 'benchmark' (issue 7's dataset).",
        )
        parser.add_argument("--batch-size", type=int, default=1000, help="Items per write (default 1000).")
        parser.add_argument("--clear", action="store_true", help="Delete every existing item first.")
        parser.add_argument("--no-users", action="store_true", help="Do not create users, group or token.")

    def handle(self, *args, items, projects, seed, anchor, shape, batch_size, clear, no_users, **options):
        if projects < 1:
            raise CommandError("--projects must be at least 1")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            anchor = parse_timestamp(anchor) if anchor else demo.default_anchor(timezone.now())
        except ValueError as error:
            raise CommandError(f"--anchor {error}") from None

        started = time.perf_counter()
        with transaction.atomic():
            if clear:
                self.clear_items()
            created, updated, per_project = self.seed_items(
                items, projects, seed, anchor, demo.SHAPES[shape], batch_size
            )
        elapsed = time.perf_counter() - started
        project_ids = demo.project_ids(projects, seed)
        self.stdout.write(
            f"Seeded {created + updated} items ({created} created, {updated} updated) over {projects} "
            f"project(s) in {elapsed:.1f} s ({(created + updated) / max(elapsed, 1e-9):,.0f} items/s); "
            f"seed {seed}, anchor {anchor:%Y-%m-%dT%H:%M:%SZ}."
        )
        for project_id in project_ids[:5]:
            self.stdout.write(f"  project {project_id}: {per_project[project_id]} items")
        if projects > 5:
            self.stdout.write(f"  … and {projects - 5} more projects")
        if not no_users:
            self.seed_users(project_ids)

    def clear_items(self):
        # Plain DELETEs: the ORM's cascade would load every item (documents included) into memory.
        with connection.cursor() as cursor:
            for model in (VolumeBackup, ReplicationRecord, Sighting, CheckpointItem):
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
        self.stdout.write("Deleted every existing item.")

    def seed_items(self, items, projects, seed, anchor, shape, batch_size):
        """Parse and upsert the generated items in batches of one project; return the counts."""
        created = updated = 0
        per_project = Counter()
        batch, batch_project = [], None
        written = WrittenRows()

        def flush():
            nonlocal created, updated
            if batch:
                prepared = prepare_items(batch_project, batch)
                try:
                    done = write_items(prepared)
                except ItemConflict as error:
                    raise CommandError(
                        f"{error}: the database holds other data under these ids; run again with --clear"
                    ) from None
                created, updated = created + done[0], updated + done[1]
                written.add(written_rows(prepared))
                progress.update(len(batch))
                batch.clear()
                # DEBUG keeps every statement (megabytes per batch) for nobody to read; a caller
                # that captures queries (assertNumQueries) sets force_debug_cursor and keeps them.
                if settings.DEBUG and not connection.force_debug_cursor:
                    reset_queries()

        with tqdm(total=items, unit="item", disable=not sys.stderr.isatty(), file=sys.stderr) as progress:
            for project_id, item in demo.generate(items, projects, seed, anchor, shape):
                if project_id != batch_project or len(batch) >= batch_size:
                    flush()
                    batch_project = project_id
                try:
                    batch.append(parse_item(item))
                except ItemInvalid as error:  # a bug of the generator, not of the user's input
                    raise CommandError(f"generated item {item.get('id')} is invalid: {error}") from None
                per_project[project_id] += 1
            flush()
        written.refresh()  # the planner's statistics, current for what was written
        return created, updated, per_project

    def seed_users(self, project_ids):
        """The demo admin and support user (idempotent), and a new API token for the admin."""
        permissions = list(
            Permission.objects.filter(content_type__app_label="backups", codename__in=SUPPORT_PERMISSIONS)
        )
        if len(permissions) != len(SUPPORT_PERMISSIONS):
            raise CommandError("the backups permissions are missing: run `python manage.py migrate` first")
        group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
        group.permissions.add(*permissions)

        User = get_user_model()
        admin, _ = User.objects.get_or_create(username=ADMIN_USERNAME)
        admin.is_staff = admin.is_superuser = admin.is_active = True
        admin.set_password(ADMIN_PASSWORD)
        admin.save()
        support, _ = User.objects.get_or_create(username=SUPPORT_USERNAME)
        support.is_staff = support.is_superuser = False
        support.is_active = True
        support.set_password(SUPPORT_PASSWORD)
        support.save()
        support.groups.add(group)
        ProjectMembership.objects.bulk_create(
            [ProjectMembership(user=support, project_id=project_id) for project_id in project_ids],
            ignore_conflicts=True,
        )
        _, key = ApiToken.issue(user=admin, project_id=project_ids[0], is_admin=True)

        write = self.stdout.write
        write("")
        write(f"Log in (run `python manage.py runserver` first): {BASE_URL}/ and {BASE_URL}/admin/")
        write(f"  {ADMIN_USERNAME} / {ADMIN_PASSWORD}      superuser: every project, the admin site")
        write(f"  {SUPPORT_USERNAME} / {SUPPORT_PASSWORD}  group {SUPPORT_GROUP}: the seeded projects")
        if not settings.DEBUG:
            write(self.style.WARNING("  These are demo passwords: never seed demo users into production."))
        write("")
        write(f"API token of {ADMIN_USERNAME} for project {project_ids[0]} (admin role; shown once):")
        write(f"  X-Auth-Token: {key}")
        write(
            f'  curl -H "X-Auth-Token: {key}" '
            f'"{BASE_URL}/v1/{project_ids[0]}/checkpoint_items?limit=10&sort=created_at:desc"'
        )
