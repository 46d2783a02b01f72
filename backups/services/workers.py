"""Worker processes that read and prepare an import's batches, so that a big file uses every core.

Reading an item by the ingest rule and rendering its rows is Python work (about 100 µs an item),
bound to one core by the GIL. For a big file (``POOL_FROM_BYTES``) the import hands each batch —
its items as JSON text, as ``reading`` found them — to a pool of processes (one per core) and
writes their results in the file's order; the importing process keeps the reading of the file,
the check for repeated ids and the statements. At most ``2 × workers`` batches are in flight, so
memory stays flat. The workers never touch the database: ``prepare_items`` runs no query.
"""
import collections
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import orjson

from . import reading

# Nothing here imports the models at module level: a spawned worker unpickles ``_start`` (which
# sets Django up) before anything may touch the app registry.

#: Files smaller than this are read in the importing process: starting the pool costs a second.
POOL_FROM_BYTES = 32 << 20


@dataclass
class Prepared:
    """A batch read and prepared by a worker."""

    first: int  # the index of its first item in the file
    ids: list
    prepared: object  # upsert.PreparedItems
    loose: collections.Counter


@dataclass
class Refused:
    """The first item of a batch that the ingest rule refuses."""

    index: int
    data: object  # ``{"id": …}`` of the item, or the item itself when it is not an object
    field: str
    message: str


def workers_for(file_bytes):
    """How many worker processes a file of ``file_bytes`` gets (0: none, read in-process)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores if file_bytes >= POOL_FROM_BYTES and cores > 1 else 0


def pool(workers):
    """The processes, started fresh (``spawn``: the importing process has threads and a connection)."""
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start
    )


def _start():
    import django

    django.setup()


def payload(items):
    """A batch's items for a worker: their JSON text (orjson), or the items when they hold a number
    orjson cannot write (beyond 64 bits): pickled instead."""
    try:
        return orjson.dumps(items)
    except (orjson.JSONEncodeError, TypeError):
        return items


def prepare(project_id, payload, first_index):
    """In a worker: read a batch by the ingest rule and prepare its rows; ``Prepared`` or ``Refused``."""
    from backups.document.schema import ItemInvalid, parse_item

    from .upsert import prepare_items

    items = reading.loads(payload) if isinstance(payload, bytes) else payload
    parsed = []
    loose = collections.Counter()
    for offset, data in enumerate(items):
        try:
            item = parse_item(data)
        except ItemInvalid as error:
            shown = {"id": data.get("id")} if isinstance(data, dict) else data
            return Refused(first_index + offset, shown, error.field, error.message)
        if item.loose:
            loose.update(item.loose)
        parsed.append(item)
    return Prepared(first_index, [item.id for item in parsed], prepare_items(project_id, parsed), loose)
