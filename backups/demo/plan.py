"""The plan of a dataset: projects, servers, policies and one slot per backup, before rendering.

Everything is drawn from a ``random.Random`` the caller seeds, in a fixed order: the same seed
gives the same plan.
"""
import datetime as dt
import math
import random
import uuid
from dataclasses import dataclass

from backups.choices import FailOp, ItemStatus

from .shape import DEMO_PROJECT_ID, DEMO_SHAPE
from .vocabulary import (
    DATA_DISK_SIZES,
    ENVIRONMENTS,
    FIRST_REGION,
    FLAVORS,
    IMAGE_TYPES,
    OTHER_REGIONS,
    RECOVERY_REGION,
    ROLES,
)


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
class Project:
    """A generated project: its index in the dataset, id, region and ``dec`` flag."""

    index: int
    id: str
    region: str
    dec: object  # True, False, or None for "key absent" (the API counts it as false)


@dataclass
class Policy:
    """A daily backup policy: it runs at ``hour``:``minute`` UTC."""

    id: str
    hour: int
    minute: int


@dataclass
class Volume:
    """A disk of a server; the system disk is the first and the only bootable one."""

    id: str
    name: str
    size_gb: int
    bootable: bool


@dataclass
class Server:
    """A server of a project, with its disks and the policy that backs it up."""

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
    policy: Policy = None


@dataclass
class Slot:
    """One backup of one server: ``day`` days before the anchor; ``age`` 0 is the server's newest."""

    server: Server
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
class Run:
    """One execution of a policy on one day: one checkpoint, one start instant."""

    instant: dt.datetime
    simultaneous: bool
    checkpoint_id: str
    replica_checkpoint_id: str = None


def make_projects(projects, seed):
    """The ``projects`` projects: the first in ``FIRST_REGION``, the last in ``RECOVERY_REGION``."""
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
        result.append(Project(index, project_id, region, dec))
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
        volumes = [Volume(uuid_from(rng), f"{name}-volume-0000", rng.choice((40, 40, 60, 100)), True)]
        for disk in range(1, rng.randint(*shape.volumes_per_server)):
            size = rng.choice(DATA_DISK_SIZES)
            volumes.append(Volume(uuid_from(rng), f"{name}-volume-{disk:04d}", size, False))
        host = 10 + number
        eip = ""
        if rng.random() < 0.3:
            first = rng.choice((121, 122, 124, 139))
            eip = f"{first}.{rng.randint(9, 250)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"
        servers.append(
            Server(
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
        policy = Policy(uuid_from(rng), rng.randint(16, 20), rng.choice((0, 0, 15, 30, 45)))
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


def plan_project(rng, project, count, shape, every_status):
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
            slots.append(Slot(server, day=age + 1, age=age, oldest=age == history - 1 and history >= 3,
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
        slots.append(Slot(server, day=rng.randint(1, max(base, 1)), age=1, oldest=False, manual=True))
    # Each server's backups in time order (a manual one runs before that day's policy), because
    # rendering decides "full or incremental" from the backups rendered before.
    position = {server.id: number for number, server in enumerate(servers)}
    slots.sort(key=lambda slot: (position[slot.server.id], -slot.day, not slot.manual))
    return slots

