"""Worker processes that read and prepare an import's batches, so that a big file uses every core.

Parsing an item, reading it by the ingest rule and rendering its rows is Python work (about
120 µs an item), bound to one core by the GIL. For a big file (``POOL_FROM_BYTES``) the import
cuts the file's array into pieces of JSON text (``reading.read_pieces``: a brace count, no parse)
and hands each to a pool of processes (one per core), then writes their batches in the file's
order; the importing process keeps the reading of the file, the check for repeated ids and the
statements. At most ``2 × workers`` pieces are in flight, so memory stays flat. The workers never
touch the database: ``prepare_items`` runs no query.
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
    import gc

    import django

    django.setup()
    # A worker lives for one import and builds no reference cycles: its items are freed by their
    # reference counts, and the cyclic collector's passes over millions of young dicts cost a
    # tenth of its time.
    gc.disable()


#: A worker's answer for a piece its parse refuses (the cut was not an item boundary, or the file
#: is not JSON there): the importing process reads the file again in-process, to say why.
UNPARSED = "unparsed"


@dataclass
class PreparedPiece:
    """A piece read and prepared by a worker: its batches of at most ``batch_size`` items."""

    batches: list  # (ids, upsert.PreparedItems)
    loose: collections.Counter


def prepare_piece(project_id, text, batch_size):
    """In a worker: a piece's items (JSON text) read by the ingest rule and prepared in batches.

    Returns ``PreparedPiece``, ``Refused`` (its index counted from the piece's first item) or
    ``UNPARSED``.
    """
    from backups.document.parse import ItemInvalid, parse_item

    from .upsert import prepare_items

    try:
        items = reading.loads(text)
    except (orjson.JSONDecodeError, ValueError):
        return UNPARSED
    loose = collections.Counter()
    batches = []
    for start in range(0, len(items), batch_size):
        parsed = []
        for offset, data in enumerate(items[start : start + batch_size], start):
            try:
                item = parse_item(data)
            except ItemInvalid as error:
                shown = {"id": data.get("id")} if isinstance(data, dict) else data
                return Refused(offset, shown, error.field, error.message)
            if item.loose:
                loose.update(item.loose)
            parsed.append(item)
        batches.append(([item.id for item in parsed], prepare_items(project_id, parsed)))
    return PreparedPiece(batches, loose)
