"""Hand-built backup histories whose coverage is known, for the report, API, page and CSV tests.

``AS_OF`` is the report's instant, ``DAYS`` its window: a good backup created at or after
``THRESHOLD`` covers its resource. Each resource id names the case it stands for; ``EXPECTED``
holds the answer for ``days=7, failures=3`` in project ``P`` (``Q`` holds a second ``shared``).
"""

import datetime as dt

from backups.document.parse import parse_item
from backups.document.timestamps import format_timestamp
from backups.services.upsert import upsert_items

P, Q = "cov-p", "cov-q"
AS_OF = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
DAYS = 7
THRESHOLD = AS_OF - dt.timedelta(days=DAYS)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def backup(item_id, resource_id, created_at, status="available", *, reason=None, name=None, az="az-1",
           image_type="backup", replication=None, resource_type="OS::Nova::Server"):
    """A CSBS item of ``resource_id``; ``replication`` is the status of one replication record."""
    extend_info = {
        "image_type": image_type,
        "resource_name": name or f"{resource_id}-server",
        "resource_az": az,
        "fail_op": "backup" if status == "error" else "",
        "fail_reason": reason or ("" if status != "error" else f"failure of {item_id}"),
    }
    records = []
    if replication:
        records = [{
            "id": f"rr-{item_id}", "status": replication, "source_region": "cn-north-1",
            "destination_region": "cn-north-4", "created_at": format_timestamp(created_at + HOUR),
        }]
    return {
        "id": item_id,
        "name": f"backup-{item_id}",
        "status": status,
        "created_at": format_timestamp(created_at),
        "resource_id": resource_id,
        "resource_type": resource_type,
        "backup_data": {},
        "extend_info": extend_info,
        "replication_records": records,
    }


def histories():
    """``{project: [item, …]}``: every case of the module docstring."""
    a = AS_OF
    return {
        P: [
            # Never backed up successfully: three failures (a streak of 3).
            backup("never-1", "never", a - 3 * DAY, "error", reason="quota exceeded (oldest)"),
            backup("never-2", "never", a - 2 * DAY, "error"),
            backup("never-3", "never", a - 1 * DAY, "error", reason="Snapshot quota exceeded"),
            # Last good backup exactly DAYS old at as_of: still covered.
            backup("exact-1", "exact", THRESHOLD),
            # One microsecond older than that: not covered.
            backup("older-1", "older", THRESHOLD - dt.timedelta(microseconds=1)),
            # A streak broken by a success: 2 failures since the last good backup, 2 older ones before it.
            backup("broken-1", "broken", a - 5 * DAY, "error"),
            backup("broken-2", "broken", a - 4 * DAY, "error"),
            backup("broken-3", "broken", a - 3 * DAY),
            backup("broken-4", "broken", a - 2 * DAY, "error"),
            backup("broken-5", "broken", a - 1 * DAY, "error", reason="Backup timed out"),
            # Ties in created_at: the larger id is the newer (the list's created_at:desc, id:desc).
            backup("tie-a", "tie", a - DAY, "error"),
            backup("tie-b", "tie", a - DAY, "available", name="tie-renamed"),
            # A deleted backup: the last backup, not counted, and it ends the streak.
            backup("deleted-1", "deleted", a - 10 * DAY),
            backup("deleted-2", "deleted", a - 3 * DAY, "error"),
            backup("deleted-3", "deleted", a - 2 * DAY, "deleted"),
            # Running backups are skipped by the streak: 3 failures, then the newest still running.
            backup("running-1", "running", a - 9 * DAY),
            backup("running-2", "running", a - 3 * DAY, "error"),
            backup("running-3", "running", a - 2 * DAY, "error"),
            backup("running-4", "running", a - 1 * DAY, "error", reason="Storage connection failed"),
            backup("running-5", "running", a - HOUR, "protecting"),
            # Created after as_of: does not count (the resource is covered by its earlier backup only).
            backup("late-1", "late", a - 2 * DAY),
            backup("late-2", "late", a + HOUR, "error"),
            # The newest good backup not replicated while an earlier one was.
            backup("gap-1", "gap", a - 3 * DAY, replication="success"),
            backup("gap-2", "gap", a - 2 * DAY, replication="fail"),
            # A replica of gap-2 in its own project is not a backup of the resource here.
            backup("gap-replica", "gap", a - 2 * DAY + HOUR, image_type="replication"),
            # The newest good backup is still replicating: not a gap.
            backup("pending-1", "pending", a - 3 * DAY, replication="success"),
            backup("pending-2", "pending", a - 2 * DAY, replication="replicating"),
            # Replicated every time: covered.
            backup("replicated-1", "replicated", a - 3 * DAY, replication="success"),
            backup("replicated-2", "replicated", a - 2 * DAY, replication="success"),
            # The same resource id in two projects: two resources.
            backup("shared-p", "shared", a - 20 * DAY, az="az-2"),
            # No resource id: nobody's backup.
            {**backup("orphan", "x", a - DAY), "resource_id": None},
        ],
        Q: [backup("shared-q", "shared", a - DAY, az="az-2")],
    }


def load(projects=(P, Q)):
    for project, items in histories().items():
        if project in projects:
            upsert_items(project, [parse_item(item) for item in items])


def row(resource, last, last_status, available, count, categories=(), streak=0, reason=None, since=None,
        replication=None, replicated=None, name=None, project=P, az="az-1"):
    """The expected row of ``resource`` as ``tests.test_coverage_report.as_dict`` writes it."""
    return {
        "project_id": project, "resource_id": resource, "resource_name": name or f"{resource}-server",
        "resource_az": az, "backup_count": count, "last_backup": (last, last_status),
        "last_available_backup": available, "failure_streak": streak, "latest_fail_reason": reason,
        "failing_since": since, "newest_available_replication": replication,
        "last_replication": replicated, "categories": tuple(categories),
    }


#: Every resource of P at AS_OF with days=7, failures=3, in the report's order.
EXPECTED = [
    row("never", "never-3", "error", None, 3, ["unprotected", "failing"], streak=3,
        reason="Snapshot quota exceeded", since=AS_OF - 3 * DAY),
    row("shared", "shared-p", "available", "shared-p", 1, ["unprotected"], az="az-2"),
    row("deleted", "deleted-3", "deleted", "deleted-1", 2, ["unprotected"]),
    row("running", "running-5", "protecting", "running-1", 5, ["unprotected", "failing"], streak=3,
        reason="Storage connection failed", since=AS_OF - 3 * DAY),
    row("older", "older-1", "available", "older-1", 1, ["unprotected"]),
    row("exact", "exact-1", "available", "exact-1", 1),
    row("broken", "broken-5", "error", "broken-3", 5, streak=2, reason="Backup timed out",
        since=AS_OF - 2 * DAY),
    row("gap", "gap-2", "available", "gap-2", 2, ["unreplicated"], replication="none",
        replicated=("gap-1", "cn-north-4")),
    row("late", "late-1", "available", "late-1", 1),
    row("pending", "pending-2", "available", "pending-2", 2, replication="pending",
        replicated=("pending-1", "cn-north-4")),
    row("replicated", "replicated-2", "available", "replicated-2", 2, replication="success",
        replicated=("replicated-2", "cn-north-4")),
    row("tie", "tie-b", "available", "tie-b", 2, name="tie-renamed"),
]
for _expected in EXPECTED:
    if _expected["last_available_backup"] and _expected["newest_available_replication"] is None:
        _expected["newest_available_replication"] = "none"
