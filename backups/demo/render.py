"""Rendering: a planned slot becomes a CSBS item dict, in the seed's JSON shape.

``ProjectRenderer`` renders the slots of one project in order, every random draw coming from
the project's ``random.Random``; the order of the draws is part of the output (the same seed
must give the same items), so a change here that reorders them changes every dataset.
"""
import datetime as dt
from typing import NamedTuple

from backups.choices import FailOp, ImageType, ItemStatus

from .instants import between, ts
from .plan import Run, uuid_from
from .replication import replicate
from .vocabulary import (
    COMPLETED,
    FAILURES,
    MANUAL_DESCRIPTIONS,
    MANUAL_NAMES,
    RECOVERY_REGION,
    RESOURCE_TYPE,
    VOLUME_STATUS,
)

_NOT_RESTORABLE = (ItemStatus.WAITING_DELETE, ItemStatus.DELETING, ItemStatus.DELETED, ItemStatus.ERROR)


def _failure(rng, fail_op, server):
    code, description, reason = rng.choice(FAILURES[fail_op])
    reason = reason.format(server=server.name, volume=rng.choice(server.volumes).name)
    return {"Code": code, "Description": description}, reason


class Origin(NamedTuple):
    """What starts a backup: a policy's run (``run``) or a person (``run`` None)."""

    run: Run
    created: dt.datetime
    checkpoint_id: str
    name: str
    description: str
    policy_id: str


class Timeline(NamedTuple):
    """When a backup finished, was last updated, and how far it got."""

    completed: bool
    finished_at: dt.datetime
    protected_at: dt.datetime
    updated_at: dt.datetime
    progress: int
    fail_code: dict
    fail_reason: str


class ProjectRenderer:
    """Renders the slots of one project into items, in order, drawing from the project's rng."""

    def __init__(self, rng, project, replica_project, anchor, shape):
        self.rng = rng
        self.project = project
        self.replica_project = replica_project
        self.anchor = anchor
        self.shape = shape
        self.runs = {}
        self.retention_duration = rng.choice((30, 90, -1))
        if replica_project.id == project.id:  # the replicas stay in the project, in another region
            self.destination_region = next(r for r in (RECOVERY_REGION, "cn-east-3") if r != project.region)
        else:
            self.destination_region = replica_project.region

    def run(self, policy, day):
        """The run of ``policy`` ``day`` days before the anchor (drawn the first time it is asked)."""
        key = (policy.id, day)
        if key not in self.runs:
            midnight = self.anchor - dt.timedelta(days=day)
            instant = midnight + dt.timedelta(
                hours=policy.hour, minutes=policy.minute, seconds=self.rng.randint(0, 2),
                microseconds=self.rng.randint(0, 999_999),
            )
            simultaneous = self.rng.random() < self.shape.tie_fraction
            self.runs[key] = Run(instant, simultaneous, uuid_from(self.rng))
        return self.runs[key]

    def render(self, slot, incremental):
        """``(item, replica or None)`` for one slot."""
        origin = self._origin(slot)
        timeline = self._timeline(slot, origin.created, incremental)
        item = self._item(slot, origin, timeline, incremental)
        replica = None
        if slot.replication is not None:
            replica = replicate(self, item, slot, origin.run, timeline.protected_at)
        return item, replica

    def _origin(self, slot):
        rng, server = self.rng, slot.server
        if slot.manual:
            midnight = self.anchor - dt.timedelta(days=slot.day)
            created = midnight + dt.timedelta(seconds=rng.uniform(3600, 15 * 3600))  # 09:00–23:00 UTC+8
            checkpoint_id = uuid_from(rng)
            name = rng.choice(MANUAL_NAMES).format(hex=f"{rng.getrandbits(16):04x}", server=server.name)
            return Origin(None, created, checkpoint_id, name, rng.choice(MANUAL_DESCRIPTIONS), None)
        run = self.run(server.policy, slot.day)
        created = run.instant
        if not run.simultaneous:
            created += dt.timedelta(microseconds=rng.randint(1_000, 90_000_000))
        name = f"autobk_{rng.getrandbits(16):04x}"
        return Origin(run, created, run.checkpoint_id, name, None, server.policy.id)

    def _timeline(self, slot, created, incremental):
        rng, status, fail_op = self.rng, slot.status, slot.fail_op
        completed = status in COMPLETED or (status == ItemStatus.ERROR and fail_op != FailOp.BACKUP)
        minutes = rng.uniform(4, 40) if not incremental else rng.uniform(1, 8)
        done = created + dt.timedelta(minutes=minutes)
        latest = self.anchor - dt.timedelta(seconds=1)
        recently = max(done, self.anchor - dt.timedelta(hours=6))
        fail_code, fail_reason, progress = {}, "", 100
        finished_at = protected_at = None
        if completed:
            finished_at = protected_at = done
        updated_at = done + dt.timedelta(microseconds=rng.randint(2_000, 20_000))
        if status == ItemStatus.WAITING_PROTECT:
            progress, updated_at = 0, created
        elif status == ItemStatus.PROTECTING:
            progress = rng.randint(1, 99)
            updated_at = between(rng, created, min(done, latest))
        elif status in (ItemStatus.WAITING_RESTORE, ItemStatus.WAITING_DELETE):
            progress, updated_at = 0, between(rng, recently, latest)
        elif status in (ItemStatus.RESTORING, ItemStatus.DELETING):
            progress, updated_at = rng.randint(1, 99), between(rng, recently, latest)
        elif status == ItemStatus.DELETED:
            updated_at = between(rng, done, latest)
        if fail_op:
            fail_code, fail_reason = _failure(rng, fail_op, slot.server)
            if fail_op == FailOp.BACKUP:
                progress = rng.randint(0, 95)
                finished_at = done
            else:  # a restore or a delete failed later, on a complete backup
                updated_at = between(rng, done, latest)
                if fail_op == FailOp.DELETE:
                    progress = rng.randint(5, 95)
        return Timeline(completed, finished_at, protected_at, updated_at, progress, fail_code, fail_reason)

    def _item(self, slot, origin, timeline, incremental):
        server = slot.server
        volume_backups, total_size = self._volume_backups(slot, origin.name, incremental, timeline.completed)
        extend_info = self._extend_info(slot, timeline, incremental, volume_backups, total_size)
        item = {
            "id": uuid_from(self.rng),
            "checkpoint_id": origin.checkpoint_id,
            "name": origin.name,
            "description": origin.description,
            "status": str(slot.status),
            "resource_id": server.id,
            "resource_type": RESOURCE_TYPE,
            "created_at": ts(origin.created),
            "updated_at": ts(timeline.updated_at),
            "protected_at": ts(timeline.protected_at),
            "backup_data": {
                "__openstack_region_name": server.az,  # the seed: "the AZ of the server"
                "cloudservicetype": server.flavor[0],
                "disk": server.volumes[0].size_gb,
                "imagetype": server.imagetype,
                "ram": server.flavor[2],
                "vcpus": server.flavor[1],
                "eip": server.eip,
                "private_ip": server.private_ip,
            },
            "extend_info": extend_info,
            "replication_records": [],
        }
        if origin.policy_id is not None:
            item["policy_id"] = origin.policy_id
        return item

    def _extend_info(self, slot, timeline, incremental, volume_backups, total_size):
        rng, server = self.rng, slot.server
        restorable = timeline.completed and slot.status not in _NOT_RESTORABLE
        extend_info = {
            "auto_trigger": not slot.manual,
            "average_speed": rng.randint(5, 60) if incremental else rng.randint(30, 150),
            "copy_from": "",
            "copy_status": "na",
            "fail_code": timeline.fail_code,
            "fail_op": str(slot.fail_op),
            "fail_reason": timeline.fail_reason,
            "image_type": str(ImageType.BACKUP),
            "incremental": incremental,
            "progress": timeline.progress,
            "resource_az": server.az,
            "resource_name": server.name,
            "resource_type": RESOURCE_TYPE,
            "size": total_size,
            "space_saving_ratio": rng.randint(90, 99) if incremental else rng.randint(20, 60),
            "finished_at": ts(timeline.finished_at),
            "supported_restore_mode": server.restore_mode if restorable else "na",
            "os_images_data": [{"image_id": uuid_from(rng)}] if restorable and server.registers_image else [],
            "support_lld": False,
            "volume_backups": volume_backups,
            # Keys the seed does not list, as CSBS sends them (the sample has both).
            "taskid": uuid_from(rng, version=1),
            "hypervisor_type": "QEMU",
        }
        if not timeline.completed:
            extend_info["average_speed"] = 0
        if self.project.dec is not None:
            extend_info["dec"] = self.project.dec
            if self.project.dec:
                extend_info["dec_size"] = str(total_size)
        return extend_info

    def _volume_backups(self, slot, name, incremental, completed):
        """``(volume backups, their total size)``: none while the backup waits to start."""
        rng, status, fail_op = self.rng, slot.status, slot.fail_op
        volume_status = "error" if fail_op == FailOp.BACKUP else VOLUME_STATUS.get(status, "available")
        if fail_op == FailOp.DELETE:
            volume_status = "error_deleting"
        volume_backups = []
        snapshot_id = uuid_from(rng)
        total_size = 0
        if status != ItemStatus.WAITING_PROTECT:
            for volume in slot.server.volumes:
                size = 0
                if completed:
                    used = volume.size_gb * 1024
                    size = int(used * (rng.uniform(0.005, 0.05) if incremental else rng.uniform(0.2, 0.6)))
                total_size += size
                volume_backups.append(
                    self._volume_backup(volume, name, volume_status, incremental, size, snapshot_id)
                )
        return volume_backups, total_size

    def _volume_backup(self, volume, name, status, incremental, size, snapshot_id):
        rng = self.rng
        volume_backup = {
            "id": uuid_from(rng),
            "name": name,
            "status": status,
            "average_speed": rng.randint(5, 150) if size else 0,
            "bootable": volume.bootable,
            "image_type": "backup",
            "incremental": incremental,
            "size": size,
            "source_volume_id": volume.id,
            "source_volume_size": volume.size_gb,
            "source_volume_name": volume.name,
            "space_saving_ratio": rng.randint(90, 99) if incremental else rng.randint(20, 60),
            "snapshot_id": snapshot_id,
            "source_volume_service_type": "EVS",
        }
        if self.project.dec:
            volume_backup["dec_size"] = str(size)
        return volume_backup
