"""The coverage selector: one row per resource, computed in SQL in one query (see the package docstring).

The query's stages, the same SQL on SQLite and PostgreSQL:

1. ``base``: the backups that count (the caller's scope with the list's filters, ``created_at <=
   as_of``, a resource id, no replica) — the ORM's SQL, so the FilterSet's conditions are the
   list's own — each with ``replicated`` (2 success, 1 pending, 0 none: ``EXISTS`` on its
   replication records, which PostgreSQL probes by ``item_id`` per backup or hashes once for a
   large project).
2. ``ranked``: one window over each resource's history, newest first (``created_at DESC, id
   DESC``), read in that order from the ``item_proj_resource_created`` index alone: each backup's
   position and the running count of streak breakers before it.
3. ``resources``: ``GROUP BY`` resource. The newest backup of a kind (any, good, in the streak,
   replicated) and its status or replication state is an arg-min (``_newest``), its time a ``MAX``;
   ``categorised`` adds the categories; ``page`` orders and pages.
4. The totals of every category (over all resources, before the category filter and paging) left
   joined to the page's rows, which alone get their details: the latest backup's name, type and AZ,
   the streak's newest failure reason, the replication record's time and region.

So a page costs one query whatever its size, and no backup is ever loaded into Python.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Case, Exists, IntegerField, OuterRef, Value, When
from django.utils.dateparse import parse_datetime

from .. import choices
from ..models import CheckpointItem, ReplicationRecord

Status = choices.ItemStatus
GOOD_STATUSES = (Status.AVAILABLE, Status.WAITING_RESTORE, Status.RESTORING)
#: Running backups neither count in nor end a failure streak.
RUNNING_STATUSES = (Status.WAITING_PROTECT, Status.PROTECTING)
PENDING_REPLICATION = (choices.ReplicationStatus.REPLICATING, choices.ReplicationStatus.WAITING_REPLICATE)

UNPROTECTED, FAILING, UNREPLICATED = "unprotected", "failing", "unreplicated"
CATEGORIES = (UNPROTECTED, FAILING, UNREPLICATED)
ANY, ALL = "any", "all"
#: ``category`` values: in any category (the default), one of them, or every resource.
CATEGORY_CHOICES = (ANY, *CATEGORIES, ALL)

REPLICATED, PENDING, NOT_REPLICATED = "success", "pending", "none"
_REPLICATION_STATES = {2: REPLICATED, 1: PENDING, 0: NOT_REPLICATED}


@dataclass(frozen=True)
class CoverageQuery:
    """What to compute: ``items`` is the caller's scope with the list's filters already applied."""

    items: object
    as_of: dt.datetime
    days: int
    failures: int
    category: str = ANY
    limit: int | None = None  # None: every row (the CSV)
    offset: int = 0

    @property
    def threshold(self):
        """The oldest instant a good backup may have to cover the resource (inclusive)."""
        return earlier(self.as_of, self.days)


@dataclass(frozen=True)
class BackupRef:
    id: str
    created_at: dt.datetime
    status: str = Status.AVAILABLE


@dataclass(frozen=True)
class Replication:
    backup: BackupRef
    replicated_at: dt.datetime | None
    destination_region: str | None


@dataclass(frozen=True)
class ResourceCoverage:
    """One resource's row of the report."""

    project_id: str
    resource_id: str
    resource_name: str | None
    resource_type: str | None
    resource_az: str | None
    backup_count: int
    last_backup: BackupRef
    last_available_backup: BackupRef | None
    newest_available_replication: str | None  # REPLICATED, PENDING, NOT_REPLICATED; None: no good backup
    failure_streak: int
    failing_since: dt.datetime | None
    latest_fail_reason: str | None
    last_replication: Replication | None
    categories: tuple

    def why(self, query):
        """One sentence for a person: what is wrong with this resource (or that nothing is)."""
        reasons = []
        if UNPROTECTED in self.categories:
            if self.last_available_backup is None:
                reasons.append("No good backup")
            else:
                age = age_text(query.as_of - self.last_available_backup.created_at)
                reasons.append(f"Newest good backup is {age} old")
            if self.failure_streak == 0 and self.last_backup.created_at < query.threshold:
                reasons.append(f"no backup at all since {self.last_backup.created_at:%Y-%m-%d}")
            elif self.failure_streak == 0:
                reasons.append(f"the newest backup is {self.last_backup.status}")
        if self.failure_streak:
            reason = (self.latest_fail_reason or "no reason given").rstrip(". ")
            reasons.append(f"{self.failure_streak} failed in a row: {reason}")
        if UNREPLICATED in self.categories:
            reasons.append("the newest good backup was not replicated, earlier ones were")
        if not reasons:
            return "Covered."
        text = "; ".join(reasons) + "."
        return text[0].upper() + text[1:]


def earlier(moment, days):
    """``moment`` minus ``days``, or the first instant there is (``as_of`` may be in year 1)."""
    try:
        return moment - dt.timedelta(days=days)
    except OverflowError:
        return dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def age_text(delta):
    """``3 days``, ``1 day``, ``5 hours``: how old a backup is, for a person."""
    if delta >= dt.timedelta(days=1):
        return f"{delta.days} day{'s' if delta.days != 1 else ''}"
    hours = int(delta.total_seconds() // 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}"


@dataclass
class CoverageReport:
    query: CoverageQuery
    counts: dict  # {"resources": n, "unprotected": n, "failing": n, "unreplicated": n, "any": n}
    rows: list = field(default_factory=list)

    @property
    def matching(self):
        """How many resources the query's category holds (all pages)."""
        return self.counts[{ANY: ANY, ALL: "resources"}.get(self.query.category, self.query.category)]

    @property
    def has_next(self):
        return self.query.limit is not None and self.query.offset + len(self.rows) < self.matching


def coverage_report(query):
    """The report's page (``query.limit`` rows from ``query.offset``) and every category's count."""
    sql, params = coverage_sql(query)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    counts = dict(zip(COUNT_NAMES, (int(value or 0) for value in rows[0][: len(COUNT_NAMES)]), strict=True))
    report = CoverageReport(query, counts)
    report.rows = [_row(row[len(COUNT_NAMES) :]) for row in rows if row[len(COUNT_NAMES)] is not None]
    return report


def coverage_rows(query, chunk_size=2000):
    """Every row of the report (no paging), read ``chunk_size`` at a time: the CSV's source."""
    sql, params = coverage_sql(query)
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(chunk_size):
            for row in chunk:
                if row[len(COUNT_NAMES)] is not None:
                    yield _row(row[len(COUNT_NAMES) :])


def resource_history(query, project_id, resource_id, since, limit):
    """The backups of one resource that count, created in ``[since, as_of]``, newest first (one query)."""
    success = choices.ReplicationStatus.SUCCESS
    replicated = ReplicationRecord.objects.filter(item=OuterRef("pk"), status=success)
    return list(
        _counted(query)
        .filter(project_id=project_id, resource_id=resource_id, created_at__gte=since)
        .annotate(replicated=Exists(replicated))
        .order_by("-created_at", "-id")
        .values("id", "name", "status", "created_at", "fail_reason", "replicated")[:limit]
    )


# --- the SQL ---------------------------------------------------------------------------------------

COUNT_NAMES = ("resources", UNPROTECTED, FAILING, UNREPLICATED, ANY)
ROW_COLUMNS = (
    "p.project_id", "p.resource_id", "p.backups", "p.last_id", "p.last_created_at", "p.last_status",
    "p.available_id", "p.available_created_at", "available.status", "p.available_replication", "p.streak",
    "p.streak_since", "p.replicated_id", "p.replicated_created_at", "p.unprotected", "p.failing",
    "p.unreplicated", "latest.resource_name", "latest.resource_type", "latest.resource_az",
    "failure.fail_reason",
)


def _literals(values):
    """SQL literals of our own vocabulary (never user input): ``'available', 'restoring'``."""
    assert all(str(v).replace("_", "").isalpha() for v in values)
    return ", ".join(f"'{v}'" for v in values)


def _counted(query):
    """The backups that count (scope and filters are in ``query.items``)."""
    return (
        query.items.filter(created_at__lte=query.as_of, resource_id__isnull=False)
        .exclude(resource_id="")
        .exclude(image_type=choices.ImageType.REPLICATION)
    )


def _base(query):
    """The ORM's SQL of the backups that count, each with ``replicated``: 2 success, 1 pending, 0."""
    records = ReplicationRecord.objects.filter(item=OuterRef("pk"))
    state = Case(
        When(Exists(records.filter(status=choices.ReplicationStatus.SUCCESS)), then=Value(2)),
        When(Exists(records.filter(status__in=PENDING_REPLICATION)), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    queryset = (
        _counted(query)
        .annotate(replicated=state)
        .order_by()
        .values_list("project_id", "resource_id", "id", "created_at", "status", "replicated")
    )
    return queryset.query.sql_with_params()


def _newest(condition, value="id"):
    """``value`` of the newest backup that meets ``condition``: an arg-min in plain SQL.

    The key sorts like ``position`` (ten digits) and carries the value after them, so ``MIN`` of it
    is the newest such backup's, and ``SUBSTR(…, 11)`` gives the value back — the same on both
    databases, without a second window or a join.
    """
    return f"SUBSTR(MIN(CASE WHEN {condition} THEN CAST(1000000000 + position AS TEXT) || {value} END), 11)"


def _table(model):
    return connection.ops.quote_name(model._meta.db_table)


GOOD = f"status IN ({_literals(GOOD_STATUSES)})"
IN_STREAK = f"status = {_literals([Status.ERROR])} AND breaks_so_far = 0"
#: Ends a failure streak: neither a failure nor still running.
BREAKS_STREAK = f"b.status NOT IN ({_literals([Status.ERROR, *RUNNING_STATUSES])})"


def _history_sql():
    """``ranked`` (each backup's position in its resource's history) and ``resources`` (one row each)."""
    return f"""
    ranked AS (
        SELECT b.*,
            ROW_NUMBER() OVER w AS position,
            SUM(CASE WHEN {BREAKS_STREAK} THEN 1 ELSE 0 END) OVER w AS breaks_so_far
        FROM base b
        WINDOW w AS (PARTITION BY b.project_id, b.resource_id ORDER BY b.created_at DESC, b.id DESC
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ),
    resources AS (
        SELECT project_id, resource_id,
            SUM(CASE WHEN status = {_literals([Status.DELETED])} THEN 0 ELSE 1 END) AS backups,
            MIN(CASE WHEN position = 1 THEN id END) AS last_id,
            MAX(created_at) AS last_created_at,
            MIN(CASE WHEN position = 1 THEN status END) AS last_status,
            {_newest(GOOD, "CAST(replicated AS TEXT) || id")} AS available_key,
            MAX(CASE WHEN {GOOD} THEN created_at END) AS available_created_at,
            MIN(CASE WHEN {GOOD} THEN position END) AS available_position,
            SUM(CASE WHEN {IN_STREAK} THEN 1 ELSE 0 END) AS streak,
            MIN(CASE WHEN {IN_STREAK} THEN created_at END) AS streak_since,
            {_newest(IN_STREAK)} AS streak_error_id,
            {_newest("replicated = 2")} AS replicated_id,
            MAX(CASE WHEN replicated = 2 THEN created_at END) AS replicated_created_at,
            MIN(CASE WHEN replicated = 2 THEN position END) AS replicated_position
        FROM ranked
        GROUP BY project_id, resource_id
    )"""


#: ``categorised``: each resource's categories (parameters: the threshold, the failures).
CATEGORISED_SQL = """
    categorised AS (
        SELECT f.*,
            SUBSTR(f.available_key, 2) AS available_id,
            SUBSTR(f.available_key, 1, 1) AS available_replication,
            CASE WHEN f.available_created_at IS NULL OR f.available_created_at < %s
                 THEN 1 ELSE 0 END AS unprotected,
            CASE WHEN f.streak >= %s THEN 1 ELSE 0 END AS failing,
            CASE WHEN SUBSTR(f.available_key, 1, 1) = '0' AND f.replicated_position > f.available_position
                 THEN 1 ELSE 0 END AS unreplicated
        FROM resources f
    )"""
TOTALS_SQL = """
    totals AS (
        SELECT COUNT(*) AS resources, SUM(unprotected) AS unprotected, SUM(failing) AS failing,
            SUM(unreplicated) AS unreplicated,
            SUM(CASE WHEN unprotected + failing + unreplicated > 0 THEN 1 ELSE 0 END) AS at_risk
        FROM categorised
    )"""


def _order(prefix):
    """The report's order: oldest good backup first (none first of all), then project and resource."""
    collate = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
    return (
        f"CASE WHEN {prefix}available_created_at IS NULL THEN 0 ELSE 1 END, {prefix}available_created_at, "
        f"{prefix}project_id{collate}, {prefix}resource_id{collate}"
    )


def _replication_column(column):
    """A column of the page row's newest success record (the last one listed)."""
    return (
        f"(SELECT rr.{column} FROM {_table(ReplicationRecord)} rr WHERE rr.item_id = p.replicated_id "
        f"AND rr.status = {_literals([choices.ReplicationStatus.SUCCESS])} ORDER BY rr.position DESC LIMIT 1)"
    )


def coverage_sql(query):
    """``(sql, params)`` of the report; columns: ``COUNT_NAMES``, then ``ROW_COLUMNS`` and replication."""
    assert query.category in CATEGORY_CHOICES
    base_sql, base_params = _base(query)
    items = _table(CheckpointItem)
    category = {ANY: "(unprotected + failing + unreplicated) > 0", ALL: "1 = 1"}.get(
        query.category, f"{query.category} = 1"
    )
    paging, paging_params = "", []
    if query.limit is not None:
        paging, paging_params = "LIMIT %s OFFSET %s", [query.limit, query.offset]
    sql = f"""
    WITH base (project_id, resource_id, id, created_at, status, replicated) AS ({base_sql}),
    {_history_sql()},
    {CATEGORISED_SQL},
    page AS (SELECT * FROM categorised WHERE {category} ORDER BY {_order("")} {paging}),
    {TOTALS_SQL}
    SELECT t.resources, t.unprotected, t.failing, t.unreplicated, t.at_risk, {", ".join(ROW_COLUMNS)},
        {_replication_column("created_at")} AS replicated_at,
        {_replication_column("destination_region")} AS destination_region
    FROM totals t
    LEFT JOIN page p ON 1 = 1
    LEFT JOIN {items} latest ON latest.id = p.last_id
    LEFT JOIN {items} failure ON failure.id = p.streak_error_id
    LEFT JOIN {items} available ON available.id = p.available_id
    ORDER BY {_order("p.")}
    """
    threshold = connection.ops.adapt_datetimefield_value(query.threshold)
    return sql, [*base_params, threshold, query.failures, *paging_params]


# --- rows ------------------------------------------------------------------------------------------


def _instant(value):
    """A timestamp as the driver returns it (SQLite: text) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def _row(values):
    (
        project_id, resource_id, backups, last_id, last_created_at, last_status,
        available_id, available_created_at, available_status, available_replication, streak,
        streak_since, replicated_id, replicated_created_at, unprotected, failing,
        unreplicated, resource_name, resource_type, resource_az,
        fail_reason, replicated_at, destination_region,
    ) = values
    flags = (unprotected, failing, unreplicated)
    last_replication = None
    if replicated_id is not None:
        source = BackupRef(replicated_id, _instant(replicated_created_at))
        last_replication = Replication(source, _instant(replicated_at), destination_region)
    return ResourceCoverage(
        project_id=project_id,
        resource_id=resource_id,
        resource_name=resource_name,
        resource_type=resource_type,
        resource_az=resource_az,
        backup_count=int(backups),
        last_backup=BackupRef(last_id, _instant(last_created_at), last_status),
        last_available_backup=BackupRef(available_id, _instant(available_created_at), available_status)
        if available_id is not None
        else None,
        newest_available_replication=_REPLICATION_STATES[int(available_replication)]
        if available_id is not None
        else None,
        failure_streak=int(streak),
        failing_since=_instant(streak_since),
        latest_fail_reason=fail_reason if streak else None,
        last_replication=last_replication,
        categories=tuple(name for name, flag in zip(CATEGORIES, flags, strict=True) if int(flag)),
    )
