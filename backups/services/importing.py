"""Import of CSBS responses: each file streamed, validated item by item, written all-or-nothing.

The rules (``import_checkpoint_items``):

* A file holds one CSBS response body: the list ``{"checkpoint_items": [item, …]}`` or the detail
  ``{"checkpoint_item": item}``. The root must be a JSON object whose first key is one of those two;
  anything else (an array, an empty object, another API's body) is refused, saying what was found.
* Items are read by ``services.reading`` (orjson over large chunks, ijson's C parser where that
  cannot) and written in batches of ``BATCH_SIZE`` through ``services.upsert_items``'s two halves:
  a reader thread parses and prepares the next batch while the database writes this one. A few
  batches are in memory at a time, never the file.
* Each item is read by the ingest rule (``backups.document.parse``): refused only when it cannot
  be listed at all; a value its column cannot hold is kept as given, and ``FileResult.loose``
  counts them per JSON path and JSON type for the summary (``extend_info.dec: 3 values kept as
  given (string)``).
* A big file loading into empty tables (PostgreSQL) defers their index maintenance to one build
  of each index at the end, in the same transaction, and writes its rows frozen, their pages
  all-visible (``services.deferred_indexes``).
* After the file, the planner's statistics of the tables it changed are refreshed when it wrote a
  meaningful share of them (``services.statistics``), in the same transaction.
* Upsert by ``id``: importing a file twice creates nothing the second time, it updates.
* A file is all-or-nothing (one transaction). It is refused, and nothing of it written, at the
  first invalid item (``parse.ItemInvalid``), an id repeated within the file, an id owned by
  another project (``services.ItemConflict``), or bytes that are not complete JSON in UTF-8
  (truncated, not JSON, invalid UTF-8). The message names the file, the item's index in the array
  (from 0) and id, and the JSON path of the field.
* Files are imported in the order given; the first refused file stops the run, and the files
  before it stay imported.
* Repeated ids are found with a set of 64-bit BLAKE2b digests rather than of the ids (about 80 MB
  for a million ids, the only memory that grows with the file). A digest seen twice is confirmed
  against the batch and the database; only two ids sharing a digest, the second one already
  stored in the project, would be taken for a repeat (odds about 1 in 37 million for a file of a
  million ids).
"""

import collections
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import ijson
from django.conf import settings
from django.db import DatabaseError, reset_queries, transaction
from tqdm import tqdm

from backups.document.parse import ItemInvalid, parse_item
from backups.models import CheckpointItem

from . import reading, workers
from .deferred_indexes import defer_indexes
from .import_messages import FileResult, ImportRefused, Refusals, check_project_id
from .prefetch import Prefetch
from .statistics import WrittenRows
from .upsert import ItemConflict, OriginConflict, PreparedItems, prepare_items, write_items, written_rows

LIST_KEY = "checkpoint_items"
DETAIL_KEY = "checkpoint_item"
BATCH_SIZE = 1000
UTF8_BOM = b"\xef\xbb\xbf"
EXPECTED = f'a CSBS response: {{"{LIST_KEY}": [...]}} or {{"{DETAIL_KEY}": {{...}}}}'
_JSON_KINDS = {
    "start_map": "an object",
    "start_array": "an array",
    "string": "a string",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


def import_file(path, project_id, *, batch_size=BATCH_SIZE, progress=False):
    """Import one file into ``project_id`` in one transaction; return a ``FileResult``.

    Raises ``ImportRefused`` (nothing of the file written) with a message naming the file.
    """
    check_project_id(project_id)
    name = str(path)
    started = time.perf_counter()
    try:
        with (
            open(path, "rb") as raw,
            tqdm(
                total=Path(path).stat().st_size,
                unit="B",
                unit_scale=True,
                desc=Path(path).name,
                disable=not progress,
                leave=False,
            ) as bar,
        ):
            stream = _CountingReader(raw, lambda position: bar.update(position - bar.n))
            run = _FileImport(name, project_id, batch_size, Path(path).stat().st_size)
            with transaction.atomic():
                run.deferred = defer_indexes(Path(path).stat().st_size)
                created, updated = run.run(stream)
    except OSError as error:
        raise ImportRefused(f"{name}: cannot be read ({error.strerror or error})") from None
    return FileResult(name, created, updated, time.perf_counter() - started, dict(run.loose))


class _CountingReader:
    """A binary file that reports its position after each read (the progress bar's measure)."""

    def __init__(self, raw, on_read):
        self.raw = raw
        self.on_read = on_read

    def read(self, size=-1):
        data = self.raw.read(size)
        self.on_read(self.raw.tell())
        return data

    def seek(self, offset):
        return self.raw.seek(offset)


@dataclass
class _Batch:
    entries: list  # (index, id, suspect) — suspect: its id's digest was seen before
    prepared: PreparedItems


class _FileImport(Refusals):
    """One file's import: the reader thread parses and prepares batches, this thread writes them."""

    def __init__(self, name, project_id, batch_size, file_bytes=0):
        self.name = name
        self.file_bytes = file_bytes
        self.project_id = project_id
        self.batch_size = batch_size
        self.created = self.updated = 0
        self.loose = collections.Counter()
        self.written = WrittenRows()
        self.deferred = None  # deferred_indexes.DeferredIndexes while loading into empty tables

    def run(self, stream):
        count = workers.workers_for(self.file_bytes)
        if count:
            try:
                with transaction.atomic():  # a savepoint: a file read again in-process starts clean
                    self._write_all(self._batches_in_workers(stream, count))
            except _ReadAgain:
                self._reset()
                stream.seek(0)
            else:
                return self._finish()
        self._write_all(self._batches(stream))
        return self._finish()

    def _write_all(self, generator):
        if self.deferred is not None:  # in the subtransaction that writes the rows: they go in frozen
            self.deferred.empty()
        batches = Prefetch(generator, depth=2)
        try:
            for batch in batches:
                self._write(batch)
        finally:
            batches.close()

    def _finish(self):
        if self.deferred is not None:
            try:
                self.deferred.restore()
            except DatabaseError as error:
                raise self._refused(f"its indexes could not be rebuilt ({error})") from None
        self.written.refresh()
        return self.created, self.updated

    def _reset(self):
        self.created = self.updated = 0
        self.loose.clear()
        self.written = WrittenRows()

    # --- the reader thread: bytes → validated, rendered rows (no query) ---------------------------

    def _batches(self, stream):
        """Read, check and prepare the file's batches in order, in this process."""
        self.seen = set()
        chunk = []
        index = -1  # of the last item read
        try:
            for index, data in enumerate(self._items(stream)):
                chunk.append(data)
                if len(chunk) == self.batch_size:
                    yield self._prepare(index - len(chunk) + 1, chunk)
                    chunk = []
        except reading.JSONError as error:  # ijson.JSONError or ValueError
            if chunk:  # an item refused before the broken place is the one to name
                self._prepare(index - len(chunk) + 1, chunk)
            if isinstance(error, ijson.JSONError):
                raise self._refused_json(error, index) from None
            # ValueError: a number Python cannot read, the list key given twice
            place = f" after item {index}" if index >= 0 else ""
            raise self._refused(f"is not a valid CSBS response{place}: {error}") from None
        if chunk:
            yield self._prepare(index - len(chunk) + 1, chunk)

    def _batches_in_workers(self, stream, count):
        """The same batches, read and prepared by ``count`` worker processes from pieces of the
        file's text (``reading.read_pieces``), in order, at most ``2 × count`` pieces in flight.

        Anything unusual — a piece a worker cannot parse, an error of the JSON — raises
        ``_ReadAgain``: the caller then reads the file in-process, whose messages say why.
        """
        self.seen = set()
        pending = collections.deque()
        done = 0  # items of the pieces already taken, for the items' indexes
        executor = workers.pool(count)
        try:
            try:
                for text in reading.read_pieces(stream, self._start(stream), LIST_KEY):
                    job = executor.submit(workers.prepare_piece, self.project_id, text, self.batch_size)
                    pending.append(job)
                    while len(pending) > 2 * count:
                        done = yield from self._take_piece(pending.popleft().result(), done)
            except (reading.NotCut, *reading.JSONError) as error:
                raise _ReadAgain(error) from None
            while pending:
                done = yield from self._take_piece(pending.popleft().result(), done)
        finally:
            executor.shutdown(wait=True, cancel_futures=True)

    def _take_piece(self, result, done):
        """A worker's piece as batches (``workers.PreparedPiece``), its refusal raised, or read again."""
        if isinstance(result, workers.Refused):
            raise self._refused_item(done + result.index, result.data, result.field, result.message)
        if not isinstance(result, workers.PreparedPiece):  # workers.UNPARSED
            raise _ReadAgain("a piece the worker could not parse")
        self.loose.update(result.loose)
        for ids, prepared in result.batches:
            yield self._batch(done, ids, prepared)
            done += len(ids)
        return done

    def _prepare(self, first, items):
        """Read a batch by the ingest rule and prepare its rows, in this process."""
        parsed = []
        for offset, data in enumerate(items):
            try:
                item = parse_item(data)
            except ItemInvalid as error:
                raise self._refused_item(first + offset, data, error.field, error.message) from None
            if item.loose:
                self.loose.update(item.loose)
            parsed.append(item)
        return self._batch(first, [item.id for item in parsed], prepare_items(self.project_id, parsed))

    def _batch(self, first, ids, prepared):
        entries = []
        for offset, item_id in enumerate(ids):
            digest = _digest(item_id)
            entries.append((first + offset, item_id, digest in self.seen))
            self.seen.add(digest)
        return _Batch(entries, prepared)

    def _start(self, stream):
        """Check the response's root (``_response_key``); leave ``stream`` at it; return the key."""
        head = stream.read(len(UTF8_BOM))
        if not head:
            raise self._refused(f"is empty: expected {EXPECTED}")
        start = len(UTF8_BOM) if head == UTF8_BOM else 0
        stream.seek(start)
        key = self._response_key(stream)
        stream.seek(start)
        return key

    def _items(self, stream):
        return reading.read_items(stream, self._start(stream), LIST_KEY)

    def _response_key(self, stream):
        """Read the first events only: the root's first key and the kind of its value."""
        events = ijson.parse(stream, use_float=True)
        _, root, _ = next(events)
        if root != "start_map":
            raise self._refused(f"is {_JSON_KINDS[root]}: expected {EXPECTED}")
        _, event, key = next(events)
        if event == "end_map":
            raise self._refused(f"is an empty object: expected {EXPECTED}")
        value = next(events)[1]
        wanted = {LIST_KEY: "start_array", DETAIL_KEY: "start_map"}.get(key)
        if wanted is None:
            raise self._refused(f"starts with the key {key!r}: expected {EXPECTED}")
        if value != wanted:
            raise self._refused(f"{key} is {_JSON_KINDS[value]}: it must be {_JSON_KINDS[wanted]}")
        return key

    # --- this thread: the statements, in the file's transaction ---------------------------------

    def _write(self, batch):
        ids = set()
        for index, item_id, suspect in batch.entries:
            if suspect and (item_id in ids or self._stored(item_id)):
                raise self._refused_item(
                    index, {"id": item_id}, "id", "appears earlier in this file: each id may appear once"
                )
            ids.add(item_id)
        try:
            created, updated = write_items(batch.prepared, fresh=self.deferred is not None)
        except ItemConflict as conflict:
            index = next(i for i, item_id, _ in batch.entries if item_id == conflict.item_id)
            rule = (
                conflict.rule if isinstance(conflict, OriginConflict)
                else f"already belongs to another project ({conflict.owner}): an id is unique across projects"
            )
            raise self._refused_item(index, {"id": conflict.item_id}, "id", rule) from None
        except DatabaseError as error:
            first, last = batch.entries[0][0], batch.entries[-1][0]
            raise self._refused(f"items {first} to {last}: the database refused them ({error})") from None
        self.created += created
        self.updated += updated
        self.written.add(written_rows(batch.prepared))
        if settings.DEBUG:  # DEBUG keeps the last 9,000 statements, a batch's INSERT is megabytes
            reset_queries()

    def _stored(self, item_id):
        """Written earlier in this file (a digest is only a hint: two ids may share one)."""
        return CheckpointItem.objects.filter(pk=item_id, project_id=self.project_id).exists()


class _ReadAgain(Exception):
    """The workers' reading met something unusual: the file is read again in this process."""


def _digest(item_id):
    digest = hashlib.blake2b(item_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")
