#!/usr/bin/env python
"""Write a CSBS list response of N realistic items, streamed, for import measurements.

    python scripts/make_import_file.py --items 1000000 --seed 1 -o bench/data/items-1m.json

The items are ``backups.demo``'s, in the benchmark shape (``demo.BENCHMARK_SHAPE``), the same
generator as ``seed_demo`` and the bench's dataset: two volume backups each, the sample's unlisted
keys (``taskid``, ``hypervisor_type``), numbers where CSBS sends numbers, every status, failures
with ``fail_code``, incremental chains, replicas with replication records, ties on ``created_at``
and no ``protected_at`` where a backup never finished. They are one project's backups (the file is
one project's list response); the data's "now" is fixed (``ANCHOR``), so the same ``--seed`` gives
the same bytes on any day.
"""

import argparse
import datetime as dt
import sys
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backups import demo  # noqa: E402  (the one synthetic-data generator; needs no settings)

#: The data's "now", the bench dataset's: fixed, so that a seed gives the same file on any day.
ANCHOR = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)


def items(count, seed):
    """The ``count`` item dicts of the file, in the order they are written."""
    for _, item in demo.generate(count, 1, seed, ANCHOR, shape=demo.BENCHMARK_SHAPE):
        yield item


def write_list(stream, count, seed):
    """Write ``{"checkpoint_items": [...]}`` with ``count`` items, each serialised as it comes."""
    stream.write(b'{"checkpoint_items": [')
    for number, item in enumerate(items(count, seed)):
        if number:
            stream.write(b",\n")
        stream.write(orjson.dumps(item))
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
