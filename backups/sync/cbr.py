"""CBR backups onto the CSBS item shape, so CSBS clients see them through the same API.

``GET /v3/{project_id}/backups`` answers ``BackupResp`` objects (``huaweicloudsdkcbr``). The
mapping (``shared/spec/UPSTREAMS.md``):

* ``id, name, description, status, checkpoint_id, resource_id, resource_type, created_at,
  updated_at, protected_at, replication_records`` — as they are (the records keep CBR's keys:
  those CSBS does not list are kept as the record's extra keys by the ingest rule);
* ``resource_name``, ``resource_az``, ``image_type`` into ``extend_info``, and ``size`` from
  ``resource_size`` (GB) in MB; CBR's own ``extend_info`` keys (``bootable``, ``snapshot_id``,
  ``encrypted``, ``contain_system_disk``…) stay in ``extend_info`` beside them;
* ``incremental`` into ``extend_info.incremental``, where CSBS keeps the same fact;
* every other key (``vault_id``, ``expired_at``, ``enterprise_project_id``, ``parent_id``,
  ``provider_id``, ``project_id``, ``children``, ``scheduled_operation_id``, ``version``…) kept as
  an extra key of the item. CBR has no ``policy_id``.

Timestamps come in several forms (with or without an offset, 3 or 6 fraction digits, a date
alone): read leniently — no offset means UTC, a date alone its midnight — and written in CSBS's
form. A value that is no time at all is passed on as given, for the ingest rule to judge.
"""

from backups.document.timestamps import format_timestamp, parse_timestamp

AS_IS = ("id", "name", "description", "status", "checkpoint_id", "resource_id", "resource_type")
TIMES = ("created_at", "updated_at", "protected_at")
INTO_EXTEND_INFO = ("resource_name", "resource_az", "image_type")
CONSUMED = frozenset(
    {*AS_IS, *TIMES, *INTO_EXTEND_INFO, "resource_size", "incremental", "replication_records", "extend_info"}
)
MB_PER_GB = 1024


def lenient_timestamp(value):
    if not isinstance(value, str):
        return value
    try:
        return format_timestamp(parse_timestamp(value, allow_date=True))
    except ValueError:
        return value


def megabytes(gigabytes):
    if isinstance(gigabytes, bool) or not isinstance(gigabytes, (int, float)):
        return gigabytes
    return gigabytes * MB_PER_GB


def _record(record):
    if not isinstance(record, dict):
        return record
    return (
        {**record, "created_at": lenient_timestamp(record.get("created_at"))}
        if "created_at" in record
        else record
    )


def csbs_item(backup):
    """The CSBS item (a dict) of one CBR backup (a dict, as the API answers it)."""
    if not isinstance(backup, dict):
        return backup  # the ingest rule refuses it, saying why
    item = {key: backup.get(key) for key in AS_IS}
    item.update({key: lenient_timestamp(backup.get(key)) for key in TIMES})
    extend_info = backup.get("extend_info")
    extend_info = dict(extend_info) if isinstance(extend_info, dict) else {}
    extend_info.update({key: backup.get(key) for key in INTO_EXTEND_INFO})
    extend_info["size"] = megabytes(backup.get("resource_size"))
    if "incremental" in backup:
        extend_info["incremental"] = backup["incremental"]
    item["extend_info"] = extend_info
    records = backup.get("replication_records")
    item["replication_records"] = [_record(r) for r in records] if isinstance(records, list) else records
    item.update((key, value) for key, value in backup.items() if key not in CONSUMED)
    return item
