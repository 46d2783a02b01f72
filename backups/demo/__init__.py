"""Synthetic CSBS checkpoint items for the demo and the benchmark: seeded, reproducible, pure.

``generate(items, projects, seed, anchor, shape)`` yields ``(project_id, item)`` pairs, ``item``
being a dict in the seed's JSON shape (what ``backups.document.schema.parse_item`` reads). Nothing here
touches the database, the clock or the global random state: the same arguments give the same
items, ids included (every uuid comes from a ``random.Random`` seeded with ``seed``). Every
timestamp lies in the ``history_days`` before ``anchor``; the ``seed_demo`` command defaults the
anchor to today's midnight (UTC), so a re-run on another day keeps the ids and moves the dates.

What the data looks like (``DatasetShape`` holds the proportions):

* projects: the first is ``DEMO_PROJECT_ID`` and holds ``first_project_share`` of the items; the
  others have 32-hex ids like Huawei's and share the rest unevenly. In ``DEMO_SHAPE`` the last
  project is the disaster-recovery one, which receives the replicas of the others; in
  ``BENCHMARK_SHAPE`` replicas stay in their project, so each project holds exactly its share.
* servers (``web-01``, ``db-prod-02``…), each in one AZ of its project's region, with a private
  IP, an EIP for some, a flavor (vcpus/ram) and 1–3 disks, the system disk first and bootable.
* each server is backed up daily by a policy, at the policy's time; one run of a policy is one
  checkpoint. In ``tie_fraction`` of the runs every server of the policy starts at the very same
  instant (ties on ``created_at``); otherwise they start milliseconds to minutes apart. A few
  backups are manual (no ``policy_id``, ``auto_trigger`` false, a name a person would type).
* a server's first backup is full, the following ones incremental.
* statuses: mostly ``available``; ``error_fraction`` failed (``fail_op``/``fail_code``/
  ``fail_reason``); the newest backup of a server may still be ``waiting_protect``/``protecting``;
  the oldest may be deleted or being deleted; some are being restored. The first project is given
  every status as soon as it has enough backups. ``protected_at`` is NULL where no backup data
  exists (failed or unfinished backups). Running statuses have ``progress`` below 100.
* ``replication_fraction`` of the items carry a replication record: the source backup, and its
  replica (``image_type`` ``replication``, ``copy_from`` the source) in the destination project;
  a few records failed and have no replica.
"""
import datetime as dt
import math
import random
import uuid
from dataclasses import dataclass

from backups.choices import FailOp, ImageType, ItemStatus, ReplicationStatus, ServerImageType
from backups.document.timestamps import format_timestamp

DEMO_PROJECT_ID = "demo-project"
RESOURCE_TYPE = "OS::Nova::Server"


@dataclass(frozen=True)
class DatasetShape:
    """The proportions of a generated dataset (see the module docstring)."""

    first_project_share: float = 0.4
    volumes_per_server: tuple = (1, 3)
    history_days: tuple = (30, 60)
    servers_per_policy: tuple = (3, 8)
    replication_fraction: float = 0.10
    tie_fraction: float = 0.30
    error_fraction: float = 0.05
    manual_fraction: float = 0.03
    #: Replicas go to the last project (the disaster-recovery one); else they stay in their source
    #: project (another region), and every project holds exactly what ``allocate`` gave it.
    replicas_to_recovery_project: bool = True


DEMO_SHAPE = DatasetShape()
#: Issue 7's dataset: a whale project of 10% (100,000 of 1,000,000 items over 1,000 projects), two
#: disks per server, ~10% with a replication record, ~30% sharing created_at, ~12% NULL protected_at
#: (the fractions below were tuned to give those; test_seed_demo checks them).
BENCHMARK_SHAPE = DatasetShape(
    first_project_share=0.1,
    volumes_per_server=(2, 2),
    tie_fraction=0.33,
    error_fraction=0.126,
    replicas_to_recovery_project=False,
)
SHAPES = {"demo": DEMO_SHAPE, "benchmark": BENCHMARK_SHAPE}

# --- vocabularies of the synthetic world -----------------------------------------------------------

FIRST_REGION = "cn-north-1"
RECOVERY_REGION = "cn-north-4"
OTHER_REGIONS = ("cn-north-1", "cn-east-2", "cn-east-3", "cn-south-1", "ap-southeast-1", "ap-southeast-3")
ROLES = (
    "web", "web", "app", "api", "db", "db", "mysql", "redis", "cache", "mq", "k8s-node", "k8s-node",
    "nginx-lb", "jenkins", "gitlab", "es", "bastion", "file", "ERP", "CRM", "财务",
)
ENVIRONMENTS = ("", "", "prod", "prod", "test", "dev", "staging")
#: (flavor, vcpus, ram MB): Huawei ECS flavor names, which backup_data.cloudservicetype carries here.
FLAVORS = (
    ("s6.small.1", 1, 1024),
    ("s6.medium.2", 1, 2048),
    ("s6.large.2", 2, 4096),
    ("s6.xlarge.2", 4, 8192),
    ("c6.2xlarge.2", 8, 16384),
    ("c6.4xlarge.2", 16, 32768),
    ("m6.2xlarge.8", 8, 65536),
)
DATA_DISK_SIZES = (50, 100, 100, 200, 500, 1024)
IMAGE_TYPES = (ServerImageType.GOLD, ServerImageType.GOLD, ServerImageType.PRIVATE, ServerImageType.MARKET)
MANUAL_NAMES = (
    "manualbk_{hex}", "manualbk_{hex}", "before-upgrade-{server}", "Pre-patch {server}",
    "migration test {hex}", "备份-{server}", "keep-forever-{server}",
)
MANUAL_DESCRIPTIONS = (
    "Manual backup before the kernel upgrade", "Requested by the application team",
    "Before migrating to the new VPC", "", None,
)
#: (fail_op, Code, Description, fail_reason): fail_code.Code is a Long in the seed.
FAILURES = {
    FailOp.BACKUP: (
        (1040100, "Snapshot creation failed",
         "Failed to create a snapshot of volume {volume}: the volume is being used by another task."),
        (1040211, "Backup timed out",
         "The backup did not finish within 24 hours and was stopped; check the backup storage's bandwidth."),
        (1040305, "Insufficient backup capacity",
         "The backup capacity of the vault is exhausted: expand the vault or delete old backups."),
        (1040407, "Server state invalid",
         "Server {server} is in the ERROR state: only ACTIVE or SHUTOFF servers can be backed up."),
        (1040512, "Storage connection failed",
         "Connection to the backup storage was reset while uploading volume {volume}; retry the backup."),
    ),
    FailOp.RESTORE: (
        (1050102, "Restore precondition failed",
         "Server {server} must be stopped before its disks can be restored from this backup."),
        (1050220, "Target volume too small",
         "Volume {volume} is smaller than the backed-up volume: expand it before restoring."),
    ),
    FailOp.DELETE: (
        (1060104, "Backup in use",
         "The backup could not be deleted: a replication task is still reading it."),
    ),
}
REPLICATION_FAILURE = (
    1070301, "Replication failed",
    "Replication to {region} failed: the destination vault does not exist or has no capacity left.",
)

_COMPLETED = frozenset({
    ItemStatus.AVAILABLE, ItemStatus.WAITING_RESTORE, ItemStatus.RESTORING,
    ItemStatus.WAITING_DELETE, ItemStatus.DELETING, ItemStatus.DELETED,
})
_VOLUME_STATUS = {
    ItemStatus.AVAILABLE: "available",
    ItemStatus.PROTECTING: "creating",
    ItemStatus.WAITING_RESTORE: "available",
    ItemStatus.RESTORING: "restoring",
    ItemStatus.WAITING_DELETE: "available",
    ItemStatus.DELETING: "deleting",
    ItemStatus.DELETED: "deleted",
}


# --- the plan: projects, servers, policies, one slot per backup --------------------------------------


def uuid_from(rng, version=4):
    """A uuid drawn from ``rng``: reproducible, unlike ``uuid.uuid4()``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=version))


def project_ids(projects, seed):
    """The ids of the ``projects`` generated projects: ``DEMO_PROJECT_ID`` first, then 32 hex digits."""
    rng = random.Random(f"{seed}:projects")
    return [DEMO_PROJECT_ID] + [f"{rng.getrandbits(128):032x}" for _ in range(projects - 1)]


def allocate(items, projects, shape=DEMO_SHAPE):
    """How many items each project gets: the first ``first_project_share`` (at least the most)."""
    if projects == 1:
        return [items]
    first_share = max(shape.first_project_share, 1.5 / projects)
    rng = random.Random(f"{projects}:weights")
    weights = [rng.uniform(0.5, 1.5) for _ in range(projects - 1)]
    shares = [first_share] + [(1 - first_share) * w / sum(weights) for w in weights]
    counts = [math.floor(items * share) for share in shares]
    # Largest remainders get the items the floors left over, so that the total is exact.
    by_remainder = sorted(range(projects), key=lambda i: items * shares[i] - counts[i], reverse=True)
    for i in by_remainder[: items - sum(counts)]:
        counts[i] += 1
    return counts


@dataclass
class _Project:
    index: int
    id: str
    region: str
    dec: object  # True, False, or None for "key absent" (the API counts it as false)


@dataclass
class _Policy:
    id: str
    hour: int
    minute: int


@dataclass
class _Volume:
    id: str
    name: str
    size_gb: int
    bootable: bool


@dataclass
class _Server:
    id: str
    name: str
    az: str
    private_ip: str
    eip: str
    flavor: tuple
    imagetype: str
    restore_mode: str
    registers_image: bool
    volumes: list
    policy: _Policy = None


@dataclass
class _Slot:
    """One backup of one server: ``day`` days before the anchor; ``age`` 0 is the server's newest."""

    server: _Server
    day: int
    age: int
    oldest: bool
    manual: bool
    status: str = ItemStatus.AVAILABLE
    fail_op: str = FailOp.NONE
    replication: str = None  # None, "replica" (a replica item follows) or "fail" (a failed record)

    @property
    def newest(self):
        return self.age == 0


@dataclass
class _Run:
    """One execution of a policy on one day: one checkpoint, one start instant."""

    instant: dt.datetime
    simultaneous: bool
    checkpoint_id: str
    replica_checkpoint_id: str = None


def _projects(projects, seed):
    rng = random.Random(f"{seed}:regions")
    ids = project_ids(projects, seed)
    result = []
    for index, project_id in enumerate(ids):
        if index == 0:
            region = FIRST_REGION
        elif index == projects - 1:
            region = RECOVERY_REGION
        else:
            region = rng.choice(OTHER_REGIONS)
        dec = False if index == 0 else rng.choice((False, False, None, True))
        result.append(_Project(index, project_id, region, dec))
    return result


def _servers(rng, project, count, shape):
    taken = {}
    servers = []
    subnet = rng.randint(0, 250)
    for number in range(count):
        role, env = rng.choice(ROLES), rng.choice(ENVIRONMENTS)
        taken[role, env] = taken.get((role, env), 0) + 1
        name = "-".join(part for part in (role, env, f"{taken[role, env]:02d}") if part)
        flavor = rng.choice(FLAVORS)
        volumes = [_Volume(uuid_from(rng), f"{name}-volume-0000", rng.choice((40, 40, 60, 100)), True)]
        for disk in range(1, rng.randint(*shape.volumes_per_server)):
            size = rng.choice(DATA_DISK_SIZES)
            volumes.append(_Volume(uuid_from(rng), f"{name}-volume-{disk:04d}", size, False))
        host = 10 + number
        eip = ""
        if rng.random() < 0.3:
            first = rng.choice((121, 122, 124, 139))
            eip = f"{first}.{rng.randint(9, 250)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"
        servers.append(
            _Server(
                id=uuid_from(rng),
                name=name,
                az=f"{project.region}{rng.choice('abc')}",
                private_ip=f"192.168.{(subnet + host // 250) % 256}.{host % 250 + 2}",
                eip=eip,
                flavor=flavor,
                imagetype=str(rng.choice(IMAGE_TYPES)),
                restore_mode="snapshot" if rng.random() < 0.1 else "backup",
                registers_image=rng.random() < 0.3,
                volumes=volumes,
            )
        )
    return servers


def _assign_policies(rng, servers, shape):
    order = servers[:]
    rng.shuffle(order)
    start = 0
    while start < len(order):
        size = rng.randint(*shape.servers_per_policy)
        # 16:00–20:59 UTC is the night in China (UTC+8), when backup policies usually run.
        policy = _Policy(uuid_from(rng), rng.randint(16, 20), rng.choice((0, 0, 15, 30, 45)))
        for server in order[start : start + size]:
            server.policy = policy
        start += size


def _draw_status(rng, slot, shape):
    """A status (and fail_op) for a backup, from where it lies in its server's history."""
    roll = rng.random()
    if slot.newest:
        for status, p in ((ItemStatus.PROTECTING, 0.03), (ItemStatus.WAITING_PROTECT, 0.02)):
            if roll < p:
                return status, FailOp.NONE
            roll -= p
    elif slot.oldest:
        for status, p in ((ItemStatus.DELETED, 0.05), (ItemStatus.DELETING, 0.015),
                          (ItemStatus.WAITING_DELETE, 0.015)):
            if roll < p:
                return status, FailOp.NONE
            roll -= p
    else:
        for status, p in ((ItemStatus.RESTORING, 0.004), (ItemStatus.WAITING_RESTORE, 0.003)):
            if roll < p:
                return status, FailOp.NONE
            roll -= p
        if roll < 0.005:
            return ItemStatus.AVAILABLE, FailOp.RESTORE
        roll -= 0.005
    if roll < shape.error_fraction:
        failed_delete = slot.oldest and rng.random() < 0.3
        return ItemStatus.ERROR, FailOp.DELETE if failed_delete else FailOp.BACKUP
    return ItemStatus.AVAILABLE, FailOp.NONE


_PREFERRED_SLOT = {
    ItemStatus.WAITING_PROTECT: lambda slot: slot.newest,
    ItemStatus.PROTECTING: lambda slot: slot.newest,
    ItemStatus.WAITING_DELETE: lambda slot: slot.oldest,
    ItemStatus.DELETING: lambda slot: slot.oldest,
    ItemStatus.DELETED: lambda slot: slot.oldest,
}


def _ensure_every_status(rng, slots):
    """Give statuses the draw missed to plain ``available`` backups, where they fit best."""
    present = {slot.status for slot in slots}
    for status in ItemStatus.values:
        if status in present:
            continue
        plain = [slot for slot in slots if slot.status == ItemStatus.AVAILABLE and not slot.fail_op]
        if len(plain) < 2:  # too small a project: keep one available backup
            return
        preferred = _PREFERRED_SLOT.get(status, lambda slot: not slot.newest and not slot.oldest)
        slot = rng.choice([s for s in plain if preferred(s)] or plain)
        slot.status = status
        slot.fail_op = FailOp.BACKUP if status == ItemStatus.ERROR else FailOp.NONE


def _plan(rng, project, count, shape, every_status):
    """The servers and the backup slots of one project; ``count`` items in all, replicas included."""
    with_record = round(count * shape.replication_fraction)
    failed_records = round(with_record * 0.05)
    replicas = (with_record - failed_records) // 2
    sources = count - replicas
    if sources <= 0:
        return []
    days = rng.randint(*shape.history_days)
    server_count = max(math.ceil(sources / days), min(3, sources // 5), 1)
    servers = _servers(rng, project, server_count, shape)
    _assign_policies(rng, servers, shape)
    base, extra = divmod(sources, server_count)
    slots = []
    for number, server in enumerate(servers):
        history = base + (1 if number < extra else 0)
        for age in reversed(range(history)):  # oldest first: the order a chain is built in
            slots.append(_Slot(server, day=age + 1, age=age, oldest=age == history - 1 and history >= 3,
                               manual=rng.random() < shape.manual_fraction))
    for slot in slots:
        slot.status, slot.fail_op = _draw_status(rng, slot, shape)
    if every_status:
        _ensure_every_status(rng, slots)
    eligible = [slot for slot in slots if slot.status == ItemStatus.AVAILABLE and not slot.fail_op]
    rng.shuffle(eligible)
    replicated = eligible[:replicas]
    for slot in replicated:
        slot.replication = "replica"
    for slot in eligible[replicas : replicas + failed_records]:
        slot.replication = "fail"
    # A project too small to replicate that many backups gets manual backups instead, so that the
    # total stays exact.
    for _ in range(replicas - len(replicated)):
        server = rng.choice(servers)
        slots.append(_Slot(server, day=rng.randint(1, max(base, 1)), age=1, oldest=False, manual=True))
    # Each server's backups in time order (a manual one runs before that day's policy), because
    # rendering decides "full or incremental" from the backups rendered before.
    position = {server.id: number for number, server in enumerate(servers)}
    slots.sort(key=lambda slot: (position[slot.server.id], -slot.day, not slot.manual))
    return slots


# --- rendering: a slot becomes a CSBS item dict -----------------------------------------------------


def _between(rng, start, end):
    """A random instant in [start, end]; ``start`` when the range is empty."""
    span = (end - start).total_seconds()
    if span <= 0:
        return start
    return start + dt.timedelta(seconds=rng.uniform(0, span))


def _ts(moment):
    return format_timestamp(moment)


def _failure(rng, fail_op, server):
    code, description, reason = rng.choice(FAILURES[fail_op])
    reason = reason.format(server=server.name, volume=rng.choice(server.volumes).name)
    return {"Code": code, "Description": description}, reason


class _ProjectRenderer:
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
        key = (policy.id, day)
        if key not in self.runs:
            midnight = self.anchor - dt.timedelta(days=day)
            instant = midnight + dt.timedelta(
                hours=policy.hour, minutes=policy.minute, seconds=self.rng.randint(0, 2),
                microseconds=self.rng.randint(0, 999_999),
            )
            simultaneous = self.rng.random() < self.shape.tie_fraction
            self.runs[key] = _Run(instant, simultaneous, uuid_from(self.rng))
        return self.runs[key]

    def render(self, slot, incremental):
        """``(item, replica or None)`` for one slot."""
        rng, server = self.rng, slot.server
        if slot.manual:
            run = None
            midnight = self.anchor - dt.timedelta(days=slot.day)
            created = midnight + dt.timedelta(seconds=rng.uniform(3600, 15 * 3600))  # 09:00–23:00 UTC+8
            checkpoint_id = uuid_from(rng)
            name = rng.choice(MANUAL_NAMES).format(hex=f"{rng.getrandbits(16):04x}", server=server.name)
            description = rng.choice(MANUAL_DESCRIPTIONS)
            policy_id = None
        else:
            run = self.run(server.policy, slot.day)
            created = run.instant
            if not run.simultaneous:
                created += dt.timedelta(microseconds=rng.randint(1_000, 90_000_000))
            checkpoint_id = run.checkpoint_id
            name = f"autobk_{rng.getrandbits(16):04x}"
            description = None
            policy_id = server.policy.id

        status, fail_op = slot.status, slot.fail_op
        completed = status in _COMPLETED or (status == ItemStatus.ERROR and fail_op != FailOp.BACKUP)
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
            updated_at = _between(rng, created, min(done, latest))
        elif status in (ItemStatus.WAITING_RESTORE, ItemStatus.WAITING_DELETE):
            progress, updated_at = 0, _between(rng, recently, latest)
        elif status in (ItemStatus.RESTORING, ItemStatus.DELETING):
            progress, updated_at = rng.randint(1, 99), _between(rng, recently, latest)
        elif status == ItemStatus.DELETED:
            updated_at = _between(rng, done, latest)
        if fail_op:
            fail_code, fail_reason = _failure(rng, fail_op, server)
            if fail_op == FailOp.BACKUP:
                progress = rng.randint(0, 95)
                finished_at = done
            else:  # a restore or a delete failed later, on a complete backup
                updated_at = _between(rng, done, latest)
                if fail_op == FailOp.DELETE:
                    progress = rng.randint(5, 95)

        volume_status = "error" if fail_op == FailOp.BACKUP else _VOLUME_STATUS.get(status, "available")
        if fail_op == FailOp.DELETE:
            volume_status = "error_deleting"
        volume_backups = []
        snapshot_id = uuid_from(rng)
        total_size = 0
        if status != ItemStatus.WAITING_PROTECT:
            for volume in server.volumes:
                size = 0
                if completed:
                    used = volume.size_gb * 1024
                    size = int(used * (rng.uniform(0.005, 0.05) if incremental else rng.uniform(0.2, 0.6)))
                total_size += size
                volume_backups.append(
                    self._volume_backup(volume, name, volume_status, incremental, size, snapshot_id)
                )
        restorable = completed and status not in (
            ItemStatus.WAITING_DELETE, ItemStatus.DELETING, ItemStatus.DELETED, ItemStatus.ERROR
        )
        extend_info = {
            "auto_trigger": not slot.manual,
            "average_speed": rng.randint(5, 60) if incremental else rng.randint(30, 150),
            "copy_from": "",
            "copy_status": "na",
            "fail_code": fail_code,
            "fail_op": str(fail_op),
            "fail_reason": fail_reason,
            "image_type": str(ImageType.BACKUP),
            "incremental": incremental,
            "progress": progress,
            "resource_az": server.az,
            "resource_name": server.name,
            "resource_type": RESOURCE_TYPE,
            "size": total_size,
            "space_saving_ratio": rng.randint(90, 99) if incremental else rng.randint(20, 60),
            "finished_at": _ts(finished_at),
            "supported_restore_mode": server.restore_mode if restorable else "na",
            "os_images_data": [{"image_id": uuid_from(rng)}] if restorable and server.registers_image else [],
            "support_lld": False,
            "volume_backups": volume_backups,
            # Keys the seed does not list, as CSBS sends them (the sample has both).
            "taskid": uuid_from(rng, version=1),
            "hypervisor_type": "QEMU",
        }
        if not completed:
            extend_info["average_speed"] = 0
        if self.project.dec is not None:
            extend_info["dec"] = self.project.dec
            if self.project.dec:
                extend_info["dec_size"] = str(total_size)
        vcpus, ram = server.flavor[1], server.flavor[2]
        item = {
            "id": uuid_from(rng),
            "checkpoint_id": checkpoint_id,
            "name": name,
            "description": description,
            "status": str(status),
            "resource_id": server.id,
            "resource_type": RESOURCE_TYPE,
            "created_at": _ts(created),
            "updated_at": _ts(updated_at),
            "protected_at": _ts(protected_at),
            "backup_data": {
                "__openstack_region_name": server.az,  # the seed: "the AZ of the server"
                "cloudservicetype": server.flavor[0],
                "disk": server.volumes[0].size_gb,
                "imagetype": server.imagetype,
                "ram": ram,
                "vcpus": vcpus,
                "eip": server.eip,
                "private_ip": server.private_ip,
            },
            "extend_info": extend_info,
            "replication_records": [],
        }
        if policy_id is not None:
            item["policy_id"] = policy_id
        replica = None
        if slot.replication is not None:
            replica = self._replicate(item, slot, run, protected_at)
        return item, replica

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

    def _replicate(self, source, slot, run, protected_at):
        """Add the replication record to ``source``; return the replica item (None when it failed)."""
        rng = self.rng
        started = protected_at + dt.timedelta(seconds=rng.uniform(60, 1800))
        if slot.replication == "fail":
            status = ReplicationStatus.FAIL
        elif slot.newest and rng.random() < 0.3:
            status = ReplicationStatus.REPLICATING
        else:
            status = ReplicationStatus.SUCCESS
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
                          "fail_reason": reason.format(region=self.destination_region)}
        record = {
            "id": uuid_from(rng),
            "status": str(status),
            "source_region": self.project.region,
            "source_project_id": self.project.id,
            "source_checkpoint_id": source["checkpoint_id"],
            "source_checkpoint_item_id": source["id"],
            "destination_region": self.destination_region,
            "destination_project_id": self.replica_project.id,
            "destination_checkpoint_id": replica_checkpoint_id,
            "destination_checkpoint_item_id": None if status == ReplicationStatus.FAIL else uuid_from(rng),
            "plan_id": source.get("policy_id"),
            "created_at": _ts(started),
            "extra_info": extra_info,
        }
        source["replication_records"] = [record]
        if status == ReplicationStatus.FAIL:
            return None
        created = started + dt.timedelta(seconds=rng.uniform(1, 5))
        done = created + dt.timedelta(minutes=rng.uniform(1, 20))
        replicating = status == ReplicationStatus.REPLICATING
        extend_info = dict(source["extend_info"])
        extend_info.update(
            image_type=str(ImageType.REPLICATION),
            copy_from=source["id"],
            progress=extra_info["progress"],
            finished_at=None if replicating else _ts(done),
            retention_duration=self.retention_duration,
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
            checkpoint_id=replica_checkpoint_id,
            status=str(ItemStatus.PROTECTING if replicating else ItemStatus.AVAILABLE),
            created_at=_ts(created),
            updated_at=_ts(_between(rng, created, min(done, self.anchor - dt.timedelta(seconds=1)))
                           if replicating else done + dt.timedelta(milliseconds=5)),
            protected_at=None if replicating else _ts(done),
            extend_info=extend_info,
            replication_records=[dict(record, extra_info=dict(extra_info))],
        )
        replica.pop("policy_id", None)
        if record["plan_id"] is not None:  # the policy whose replication produced the replica
            replica["policy_id"] = record["plan_id"]
        return replica


def generate(items, projects, seed, anchor, shape=DEMO_SHAPE):
    """Yield ``items`` ``(project_id, item dict)`` pairs over ``projects`` projects, reproducibly.

    Items come project by project, each project's replicas right after its own backups (they
    belong to the destination project), so a consumer can batch by consecutive project id.
    ``anchor`` (an aware datetime) is "now" for the data: every timestamp lies before it.
    """
    if items < 0 or projects < 1:
        raise ValueError("items must be >= 0 and projects >= 1")
    anchor = anchor.astimezone(dt.timezone.utc)
    all_projects = _projects(projects, seed)
    for project, count in zip(all_projects, allocate(items, projects, shape), strict=True):
        rng = random.Random(f"{seed}:project:{project.index}")
        if shape.replicas_to_recovery_project and project is not all_projects[-1]:
            replica_project = all_projects[-1]
        elif shape.replicas_to_recovery_project:
            replica_project = all_projects[0]
        else:
            replica_project = project
        slots = _plan(rng, project, count, shape, every_status=project.index == 0)
        renderer = _ProjectRenderer(rng, project, replica_project, anchor, shape)
        replicas = []
        chained = set()
        for slot in slots:
            item, replica = renderer.render(slot, incremental=slot.server.id in chained)
            if item["protected_at"] is not None:
                chained.add(slot.server.id)
            yield project.id, item
            if replica is not None:
                replicas.append(replica)
        for replica in replicas:
            yield replica_project.id, replica


def default_anchor(now):
    """Midnight (UTC) of ``now``'s day: the data of one day is the same whenever it is seeded."""
    return now.astimezone(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
