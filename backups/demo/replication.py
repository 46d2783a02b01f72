"""Replication: a backup's replication record and, unless it failed, its replica item.

The replica is a copy of the source item (``image_type`` ``replication``, ``copy_from`` the
source) in the destination project; the items of one checkpoint replicate into one destination
checkpoint. Draws come from the renderer's rng, in a fixed order (see ``backups.demo.render``).
"""
import datetime as dt

from backups.choices import ImageType, ItemStatus, ReplicationStatus

from .instants import between, ts
from .plan import uuid_from
from .vocabulary import REPLICATION_FAILURE


def replicate(renderer, source, slot, run, protected_at):
    """Add the replication record to ``source``; return the replica item (None when it failed)."""
    rng = renderer.rng
    started = protected_at + dt.timedelta(seconds=rng.uniform(60, 1800))
    record = _record(renderer, source, slot, run, started)
    source["replication_records"] = [record]
    if record["status"] == ReplicationStatus.FAIL:
        return None
    return _replica(renderer, source, record, started)


def _status(rng, slot):
    if slot.replication == "fail":
        return ReplicationStatus.FAIL
    if slot.newest and rng.random() < 0.3:
        return ReplicationStatus.REPLICATING
    return ReplicationStatus.SUCCESS


def _record(renderer, source, slot, run, started):
    rng = renderer.rng
    status = _status(rng, slot)
    if run is None or status == ReplicationStatus.FAIL:
        replica_checkpoint_id = uuid_from(rng)
    else:  # one checkpoint's items replicate into one destination checkpoint
        run.replica_checkpoint_id = run.replica_checkpoint_id or uuid_from(rng)
        replica_checkpoint_id = run.replica_checkpoint_id
    extra_info = {"progress": 100, "fail_code": {}, "fail_reason": ""}
    if status == ReplicationStatus.REPLICATING:
        extra_info["progress"] = rng.randint(1, 99)
    elif status == ReplicationStatus.FAIL:
        code, description, reason = REPLICATION_FAILURE
        extra_info = {"progress": 0, "fail_code": {"Code": code, "Description": description},
                      "fail_reason": reason.format(region=renderer.destination_region)}
    return {
        "id": uuid_from(rng),
        "status": str(status),
        "source_region": renderer.project.region,
        "source_project_id": renderer.project.id,
        "source_checkpoint_id": source["checkpoint_id"],
        "source_checkpoint_item_id": source["id"],
        "destination_region": renderer.destination_region,
        "destination_project_id": renderer.replica_project.id,
        "destination_checkpoint_id": replica_checkpoint_id,
        "destination_checkpoint_item_id": None if status == ReplicationStatus.FAIL else uuid_from(rng),
        "plan_id": source.get("policy_id"),
        "created_at": ts(started),
        "extra_info": extra_info,
    }


def _replica(renderer, source, record, started):
    rng = renderer.rng
    extra_info = record["extra_info"]
    created = started + dt.timedelta(seconds=rng.uniform(1, 5))
    done = created + dt.timedelta(minutes=rng.uniform(1, 20))
    replicating = record["status"] == ReplicationStatus.REPLICATING
    extend_info = dict(source["extend_info"])
    extend_info.update(
        image_type=str(ImageType.REPLICATION),
        copy_from=source["id"],
        progress=extra_info["progress"],
        finished_at=None if replicating else ts(done),
        retention_duration=renderer.retention_duration,
        os_images_data=[],
        supported_restore_mode="na" if replicating else extend_info["supported_restore_mode"],
        taskid=uuid_from(rng, version=1),
        volume_backups=[
            dict(vb, id=uuid_from(rng), status="creating" if replicating else "available")
            for vb in extend_info["volume_backups"]
        ],
    )
    replica = dict(
        source,
        id=record["destination_checkpoint_item_id"],
        checkpoint_id=record["destination_checkpoint_id"],
        status=str(ItemStatus.PROTECTING if replicating else ItemStatus.AVAILABLE),
        created_at=ts(created),
        updated_at=ts(between(rng, created, min(done, renderer.anchor - dt.timedelta(seconds=1)))
                      if replicating else done + dt.timedelta(milliseconds=5)),
        protected_at=None if replicating else ts(done),
        extend_info=extend_info,
        replication_records=[dict(record, extra_info=dict(extra_info))],
    )
    replica.pop("policy_id", None)
    if record["plan_id"] is not None:  # the policy whose replication produced the replica
        replica["policy_id"] = record["plan_id"]
    return replica
