#!/usr/bin/env python
"""Write a CSBS list response of N realistic items, streamed, for import measurements.

    python scripts/make_import_file.py --items 1000000 --seed 1 -o bench/data/items-1m.json

Items look like the seed's sample: two volume backups each, the sample's unlisted keys (``taskid``,
``hypervisor_type``), numbers where CSBS sends numbers, every status, failures with ``fail_code``,
incremental chains, some replicas with replication records, ties on ``created_at`` and no
``protected_at`` where a backup never finished. The same ``--seed`` gives the same bytes.
"""

import argparse
import datetime as dt
import random
import sys
import uuid
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backups import choices  # noqa: E402  (the vocabularies' one home; needs no settings)

STATUS_WEIGHTS = {
    choices.ItemStatus.AVAILABLE: 80,
    choices.ItemStatus.ERROR: 8,
    choices.ItemStatus.PROTECTING: 3,
    choices.ItemStatus.WAITING_PROTECT: 2,
    choices.ItemStatus.RESTORING: 2,
    choices.ItemStatus.WAITING_RESTORE: 1,
    choices.ItemStatus.DELETING: 2,
    choices.ItemStatus.WAITING_DELETE: 1,
    choices.ItemStatus.DELETED: 1,
}
STATUSES = [str(status) for status in STATUS_WEIGHTS]
WEIGHTS = list(STATUS_WEIGHTS.values())
AZS = ["az1.dc1", "az2.dc1", "cn-north-1a", "cn-north-1b", "cn-east-2c"]
REGIONS = ["cn-north-1", "cn-east-2", "ap-southeast-1"]
RESOURCES_PER_FILE = 5000
EPOCH = dt.datetime(2017, 4, 15, 4, 20, 37, 277880)
FAILURES = [
    (
        {"code": "BackupService.9002", "description": "Backup failed: the snapshot could not be created."},
        "Creating the snapshot of the volume failed.",
    ),
    (
        {"code": "BackupService.6010", "description": "The server is being restored."},
        "The server's status does not allow a backup.",
    ),
]


def timestamp(moment):
    return moment.isoformat(timespec="microseconds")


class ItemFactory:
    """Deterministic items from one ``random.Random``."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.resources = [self._resource(number) for number in range(RESOURCES_PER_FILE)]
        self.moment = EPOCH

    def uuid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _resource(self, number):
        return {
            "id": self.uuid(),
            "name": f"ecs-{number:05d}",
            "az": self.rng.choice(AZS),
            "eip": f"100.{self.rng.randrange(256)}.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}",
            "private_ip": f"192.168.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}",
            "volumes": [
                (self.uuid(), f"ecs-{number:05d}-disk{disk}", size) for disk, size in ((0, 40), (1, 100))
            ],
            "backups": 0,
        }

    def item(self):
        rng = self.rng
        resource = rng.choice(self.resources)
        # A tie on created_at now and then, as when one policy backs up several servers at once.
        if rng.random() >= 0.05:
            self.moment += dt.timedelta(seconds=rng.randrange(1, 120), microseconds=rng.randrange(10**6))
        created_at = self.moment
        status = rng.choices(STATUSES, WEIGHTS)[0]
        finished = status not in {"protecting", "waiting_protect"}
        failed = status == "error"
        incremental = resource["backups"] > 0
        resource["backups"] += 1
        replica = rng.random() < 0.1
        name = (
            f"autobk_{rng.randrange(16**4):04x}" if rng.random() < 0.7 else f"manualbk_{rng.randrange(10**5)}"
        )
        updated_at = created_at + dt.timedelta(
            seconds=rng.randrange(30, 600), microseconds=rng.randrange(10**6)
        )
        fail_code, fail_reason = rng.choice(FAILURES) if failed else ({}, "")
        size = rng.randrange(0, 20480) if finished and not failed else 0
        item = {
            "status": status,
            "backup_data": {
                "eip": resource["eip"],
                "cloudservicetype": "QEMU",
                "ram": rng.choice([1024, 2048, 4096, 8192]),
                "vcpus": rng.choice([1, 2, 4, 8]),
                "__openstack_region_name": "",
                "private_ip": resource["private_ip"],
                "disk": 0,
                "imagetype": rng.choice(["gold", "private", ""]),
            },
            "name": name,
            "resource_id": resource["id"],
            "created_at": timestamp(created_at),
            "checkpoint_id": self.uuid(),
            "updated_at": timestamp(updated_at),
            "resource_type": "OS::Nova::Server",
            "extend_info": {
                "auto_trigger": name.startswith("autobk"),
                "space_saving_ratio": rng.randrange(0, 90) if incremental else 0,
                "copy_status": "na",
                "fail_reason": fail_reason,
                "resource_az": resource["az"],
                "image_type": "replication" if replica else "backup",
                "finished_at": timestamp(updated_at) if finished else None,
                "average_speed": rng.randrange(0, 200),
                "copy_from": self.uuid() if replica else "",
                "supported_restore_mode": "backup" if finished and not failed else "na",
                "support_lld": False,
                "os_images_data": [{"image_id": self.uuid()}],
                "volume_backups": [
                    {
                        "status": "error" if failed else "available",
                        "space_saving_ratio": 0,
                        "name": name,
                        "bootable": disk == 0,
                        "average_speed": rng.randrange(0, 200),
                        "source_volume_size": volume_size,
                        "source_volume_id": volume_id,
                        "incremental": incremental,
                        "image_type": "backup",
                        "source_volume_name": volume_name,
                        "id": self.uuid(),
                        "size": size // 2,
                        "snapshot_id": self.uuid(),
                    }
                    for disk, (volume_id, volume_name, volume_size) in enumerate(resource["volumes"])
                ],
                "fail_code": fail_code,
                "incremental": incremental,
                "taskid": self.uuid(),
                "hypervisor_type": "QEMU",
                "progress": 100 if finished else rng.randrange(0, 100),
                "fail_op": "backup" if failed else "",
                "resource_name": resource["name"],
                "size": size,
            },
            "id": self.uuid(),
        }
        if finished and not failed:
            item["protected_at"] = timestamp(updated_at)
        if rng.random() < 0.3:
            item["policy_id"] = f"policy-{rng.randrange(20):02d}"
        if replica:
            source, destination = rng.sample(REGIONS, 2)
            item["replication_records"] = [
                {
                    "id": self.uuid(),
                    "status": rng.choice(["success", "success", "replicating", "fail"]),
                    "source_region": source,
                    "source_project_id": "0605767a0f0000a53e0ec01df8a5c7a5",
                    "source_checkpoint_id": self.uuid(),
                    "source_checkpoint_item_id": self.uuid(),
                    "destination_region": destination,
                    "destination_project_id": "0605767b9f00e0a52f0cc01de3f2b5e1",
                    "destination_checkpoint_id": self.uuid(),
                    "destination_checkpoint_item_id": self.uuid(),
                    "plan_id": self.uuid(),
                    "created_at": timestamp(created_at),
                    "extra_info": {"progress": 100},
                }
            ]
        return item


def write_list(stream, count, seed):
    """Write ``{"checkpoint_items": [...]}`` with ``count`` items, one item in memory at a time."""
    factory = ItemFactory(seed)
    stream.write(b'{"checkpoint_items": [')
    for number in range(count):
        if number:
            stream.write(b",\n")
        stream.write(orjson.dumps(factory.item()))
    stream.write(b"]}\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1000, help="number of items (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed: the same seed, the same file")
    parser.add_argument("-o", "--output", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    if args.items < 0:
        parser.error("--items must be 0 or more")
    if args.output:
        with open(args.output, "wb", buffering=1 << 20) as stream:
            write_list(stream, args.items, args.seed)
    else:
        write_list(sys.stdout.buffer, args.items, args.seed)


if __name__ == "__main__":
    main()
