"""Synthetic CSBS checkpoint items for the demo, the benchmark and import files: seeded, reproducible, pure.

``generate(items, projects, seed, anchor, shape)`` yields ``(project_id, item)`` pairs, ``item``
being a dict in the seed's JSON shape (what ``backups.document.parse.parse_item`` reads). Nothing here
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

The package: ``shape`` (the proportions), ``vocabulary`` (names, flavors, failures), ``plan``
(projects, servers, policies, one slot per backup), ``render`` (a slot becomes an item dict),
``replication`` (records and replicas), ``instants``; ``generate`` below walks them in order.
"""
import datetime as dt
import random

from .plan import allocate, make_projects, plan_project, project_ids, uuid_from
from .render import ProjectRenderer
from .shape import BENCHMARK_SHAPE, DEMO_PROJECT_ID, DEMO_SHAPE, SHAPES, DatasetShape
from .vocabulary import RESOURCE_TYPE

__all__ = [
    "BENCHMARK_SHAPE", "DEMO_PROJECT_ID", "DEMO_SHAPE", "RESOURCE_TYPE", "SHAPES", "DatasetShape",
    "allocate", "default_anchor", "generate", "project_ids", "uuid_from",
]


def generate(items, projects, seed, anchor, shape=DEMO_SHAPE):
    """Yield ``items`` ``(project_id, item dict)`` pairs over ``projects`` projects, reproducibly.

    Items come project by project, each project's replicas right after its own backups (they
    belong to the destination project), so a consumer can batch by consecutive project id.
    ``anchor`` (an aware datetime) is "now" for the data: every timestamp lies before it.
    """
    if items < 0 or projects < 1:
        raise ValueError("items must be >= 0 and projects >= 1")
    anchor = anchor.astimezone(dt.timezone.utc)
    all_projects = make_projects(projects, seed)
    for project, count in zip(all_projects, allocate(items, projects, shape), strict=True):
        rng = random.Random(f"{seed}:project:{project.index}")
        if shape.replicas_to_recovery_project and project is not all_projects[-1]:
            replica_project = all_projects[-1]
        elif shape.replicas_to_recovery_project:
            replica_project = all_projects[0]
        else:
            replica_project = project
        slots = plan_project(rng, project, count, shape, every_status=project.index == 0)
        renderer = ProjectRenderer(rng, project, replica_project, anchor, shape)
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
