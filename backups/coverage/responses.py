"""The report as JSON (the API) and as CSV cells: one shape for each, from ``report.ResourceCoverage``.

Times are written as the list writes them (``backups.timestamps.format_timestamp``: UTC, no
offset, six fraction digits).
"""

from ..document.timestamps import format_timestamp


def _backup(ref, *, status=True):
    if ref is None:
        return None
    body = {"id": ref.id, "created_at": format_timestamp(ref.created_at)}
    if status:
        body["status"] = ref.status
    return body


def resource_body(row, query):
    """One resource of the report as the API writes it."""
    replication = row.last_replication
    return {
        "project_id": row.project_id,
        "resource_id": row.resource_id,
        "resource_name": row.resource_name,
        "resource_type": row.resource_type,
        "resource_az": row.resource_az,
        "categories": list(row.categories),
        "why": row.why(query),
        "backup_count": row.backup_count,
        "last_backup": _backup(row.last_backup),
        "last_available_backup": _backup(row.last_available_backup),
        "newest_available_replication": row.newest_available_replication,
        "failure_streak": row.failure_streak,
        "failing_since": format_timestamp(row.failing_since),
        "latest_fail_reason": row.latest_fail_reason,
        "last_replication": None
        if replication is None
        else {
            "backup": _backup(replication.backup, status=False),
            "replicated_at": format_timestamp(replication.replicated_at),
            "destination_region": replication.destination_region,
        },
    }


def report_body(report):
    """``{"as_of", "days", "failures", "category", "counts", "resources"}`` of one page."""
    query = report.query
    return {
        "as_of": format_timestamp(query.as_of),
        "days": query.days,
        "failures": query.failures,
        "category": query.category,
        "counts": report.counts,
        "resources": [resource_body(row, query) for row in report.rows],
    }


#: CSV header -> the cell of a row (``row``, ``query``).
CSV_COLUMNS = (
    ("project", lambda r, q: r.project_id),
    ("resource_id", lambda r, q: r.resource_id),
    ("resource_name", lambda r, q: r.resource_name),
    ("resource_type", lambda r, q: r.resource_type),
    ("az", lambda r, q: r.resource_az),
    ("categories", lambda r, q: " ".join(r.categories)),
    ("why", lambda r, q: r.why(q)),
    ("backup_count", lambda r, q: r.backup_count),
    ("last_backup_id", lambda r, q: r.last_backup.id),
    ("last_backup_at", lambda r, q: r.last_backup.created_at),
    ("last_backup_status", lambda r, q: r.last_backup.status),
    ("last_available_id", lambda r, q: r.last_available_backup and r.last_available_backup.id),
    ("last_available_at", lambda r, q: r.last_available_backup and r.last_available_backup.created_at),
    ("newest_available_replication", lambda r, q: r.newest_available_replication),
    ("failure_streak", lambda r, q: r.failure_streak),
    ("failing_since", lambda r, q: r.failing_since),
    ("latest_fail_reason", lambda r, q: r.latest_fail_reason),
    ("last_replicated_backup_id", lambda r, q: r.last_replication and r.last_replication.backup.id),
    ("last_replicated_at", lambda r, q: r.last_replication and r.last_replication.replicated_at),
    ("last_replication_region", lambda r, q: r.last_replication and r.last_replication.destination_region),
)
