"""Tenancy (API.md): who may read which project, who is an admin, who may use ``all_tenants``.

One home for these rules, for the API and the browse pages alike:

* **The project-id rule**: a ``{project_id}`` is 1–64 characters of ``[A-Za-z0-9_-]``
  (``PROJECT_ID_PATTERN``, ``is_project_id``): the API's URLs, the commands and the pages use it.
* **Admins**: an admin token (``ApiToken.is_admin``), or a staff user (browser session). Admins
  read every project and may set ``all_tenants=true``; nobody else may.
* **Readers**: a token reads its own project; a user reads the projects of their
  ``ProjectMembership`` rows (in the order they were granted: the first is their default).

The API applies these in API.md's order (``backups.api.permissions``): authentication (401), the
path's project (403), parameters (400), ``all_tenants`` (403). The pages do the same with
``ProjectAccess`` (``backups.ui``).
"""
import re
from dataclasses import dataclass

from django.db import connection

from backups.listing.selectors import checkpoint_item_scope
from backups.models import ApiToken, CheckpointItem, ProjectMembership

PROJECT_ID_PATTERN = r"[A-Za-z0-9_-]{1,64}"
_PROJECT_ID = re.compile(PROJECT_ID_PATTERN, re.ASCII)


def is_project_id(value):
    return isinstance(value, str) and _PROJECT_ID.fullmatch(value) is not None


def user_is_admin(user):
    return bool(user and user.is_staff)


def caller_is_admin(request):
    """An admin token, or a staff user signed in with a session."""
    if isinstance(request.auth, ApiToken):
        return request.auth.is_admin
    return user_is_admin(request.user)


def caller_may_read(request, project_id):
    """May this API request read ``project_id``? (Its token's project, a membership, or admin.)"""
    if caller_is_admin(request):
        return True
    if isinstance(request.auth, ApiToken):
        return request.auth.project_id == project_id
    return ProjectMembership.objects.filter(user=request.user, project_id=project_id).exists()


class ProjectNotReadable(Exception):
    """The requested ``project`` is not one the user may read (or not a project id at all)."""

    def __init__(self, project):
        super().__init__(project)
        self.project = project


def all_project_ids():
    """Every project that has items, sorted: one index probe per project, not a scan of the items.

    A loose index scan (recursive ``MIN(project_id) > previous``) over the ``(project_id, …)``
    indexes; the same SQL runs on SQLite and PostgreSQL.
    """
    table = connection.ops.quote_name(CheckpointItem._meta.db_table)
    sql = f"""
        WITH RECURSIVE projects(project_id) AS (
            SELECT MIN(project_id) FROM {table}
            UNION ALL
            SELECT (SELECT MIN(i.project_id) FROM {table} i WHERE i.project_id > projects.project_id)
            FROM projects WHERE projects.project_id IS NOT NULL
        )
        SELECT project_id FROM projects WHERE project_id IS NOT NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class ProjectAccess:
    """A signed-in user's projects: those they may pick, the one picked, and whether they are admin."""

    projects: tuple
    project: str | None
    is_staff: bool

    @classmethod
    def for_user(cls, user, requested=None):
        """Raise ``ProjectNotReadable`` for a ``requested`` project the user may not read."""
        memberships = list(
            ProjectMembership.objects.filter(user=user).order_by("pk").values_list("project_id", flat=True)
        )
        is_admin = user_is_admin(user)
        projects = sorted({*memberships, *all_project_ids()} if is_admin else memberships)
        if requested:
            if not is_project_id(requested) or not (is_admin or requested in projects):
                raise ProjectNotReadable(requested)
            if requested not in projects:  # an admin may look at a project that has no items yet
                projects = sorted([*projects, requested])
            return cls(tuple(projects), requested, is_admin)
        default = memberships[0] if memberships else (projects[0] if projects else None)
        return cls(tuple(projects), default, is_admin)

    def may_use_all_tenants(self):
        return self.is_staff

    def scope(self, all_tenants=False):
        """The items this page may show (``all_tenants`` only once ``may_use_all_tenants``)."""
        return checkpoint_item_scope(self.project, all_tenants=all_tenants)

    def visible_items(self):
        """Items of any project the user may read: the detail page's scope."""
        if self.is_staff:
            return CheckpointItem.objects.all()
        return CheckpointItem.objects.filter(project_id__in=self.projects)
