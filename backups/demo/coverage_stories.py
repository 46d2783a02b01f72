"""Demo histories that fill every category of the coverage report (``backups.coverage``).

A real cloud replicates by policy, so each server either has its backups replicated or not;
``replicate_by_server`` moves the plan's replication marks (the same number of replicas and of
failed records, so the item count is unchanged) onto whole servers, oldest backups first: the
last server only partly, so its newest backups are not replicated while earlier ones were.

``tell_stories`` rewrites the newest backups of a few servers of the demo project, keeping the
number of slots, so that the report answers "which servers have no good backup in the last 7
days, and why?" with one server of each kind (``STORIES``):

* ``failing``: failing for 9 days — no good backup in 7 days, and failing 9 times in a row;
* ``stopped``: its policy stopped 12 days ago — no backup at all since;
* ``never``: its last 3 backups failed and every older one was deleted — no good backup left;
* ``flaky``: its last 3 backups failed but the one before is 4 days old — failing, still covered;
* ``replication``: replicated, but the newest good backup's replication failed.

Pure functions of the plan and the project's ``random.Random``, like the rest of ``backups.demo``.
"""

from ..choices import FailOp, ItemStatus

STORIES = ("failing", "stopped", "never", "flaky", "replication")
#: Newest first, each story's statuses; ``None``: keep what was drawn. "stopped" shifts instead.
_NEWEST = {
    "failing": [ItemStatus.ERROR] * 9 + [ItemStatus.AVAILABLE],
    "flaky": [ItemStatus.ERROR] * 3 + [ItemStatus.AVAILABLE],
    "never": [ItemStatus.ERROR] * 3,
}
STOPPED_DAYS = 11


def _by_server(slots):
    """``{server id: [slot, …]}``, each server's slots newest first."""
    histories = {}
    for slot in sorted(slots, key=lambda s: (s.day, s.manual)):
        histories.setdefault(slot.server.id, []).append(slot)
    return histories


def _set(slot, status):
    slot.status = status
    slot.fail_op = FailOp.BACKUP if status == ItemStatus.ERROR else FailOp.NONE
    slot.replication = None


def _eligible(slot):
    return slot.status == ItemStatus.AVAILABLE and not slot.fail_op


def replicate_by_server(rng, servers, slots, first=()):
    """Move the replication marks onto whole servers (``first`` servers first), oldest first."""
    failures = sum(slot.replication == "fail" for slot in slots)
    marks = sum(slot.replication == "replica" for slot in slots) + failures
    for slot in slots:
        slot.replication = None
    histories = _by_server(slots)
    order = [s for s in first] + [s for s in rng.sample(servers, len(servers)) if s not in first]
    replicated = []
    for server in order:
        if not marks:
            break
        for slot in reversed(histories.get(server.id, [])):  # oldest first
            if marks and _eligible(slot):
                slot.replication = "replica"
                marks -= 1
        replicated.append(server)
    # Failed records: the newest good backup of the first replicated server (a gap), then older ones.
    candidates = [slot for server in replicated for slot in histories[server.id] if slot.replication]
    for slot in candidates[:failures]:
        slot.replication = "fail"
    return replicated


def tell_stories(rng, servers, slots):
    """Rewrite a few servers' histories (see the module docstring); return ``{story: server}``."""
    histories = _by_server(slots)
    long_enough = [s for s in servers if len(histories.get(s.id, ())) >= 12]
    if len(long_enough) < len(STORIES) + 2:  # too small a project: no stories
        return {}
    chosen = dict(zip(STORIES, rng.sample(long_enough, len(STORIES)), strict=True))
    for story, statuses in _NEWEST.items():
        history = histories[chosen[story].id]
        for slot, status in zip(history, statuses, strict=False):
            _set(slot, status)
        if story == "never":
            for slot in history[len(statuses):]:
                _set(slot, ItemStatus.DELETED)
    for slot in histories[chosen["stopped"].id]:
        slot.day += STOPPED_DAYS
    for slot in histories[chosen["replication"].id][:2]:
        _set(slot, ItemStatus.AVAILABLE)
    return chosen
