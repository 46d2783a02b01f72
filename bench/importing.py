"""The import benchmark: ``import_checkpoint_items`` on a generated file, beside PostgreSQL's own floors.

    .venv/bin/python bench/run.py --import-only                   # 1,000,000 items
    .venv/bin/python bench/run.py --import-only --import-items 100000

Each runs in a fresh database of the bench cluster:

* **ours** — ``manage.py import_checkpoint_items FILE`` (production settings), wall time from start
  to exit, the process's RSS sampled every half second (memory must stay flat);
* **the floor** — the time PostgreSQL itself needs to ``COPY`` the same file's items, one ``jsonb``
  value per item, into a plain table (no index, nothing derived): what no importer of these items
  into this server can beat. The file is first rewritten one item per line (not timed); the COPY
  is sent by psycopg2 from that file, as our import sends its rows. The table is created in the
  COPY's own transaction and the rows written ``FREEZE``, the cheapest way PostgreSQL has (no
  WAL under ``wal_level=minimal``, no hint bits to set later), as our first load writes its rows
  (``backups.services.deferred_indexes``);
* **the database part** — ``bench/database_part.py``: the rows our import wrote, exported after it
  (not timed) and sent again by ``COPY`` into a fresh database's empty tables, indexes deferred
  and rebuilt and statistics refreshed by the import's own code, in one transaction: the import
  without its Python. Ours over this ratio is what our Python costs; this over the floor is what
  the schema (three tables, their indexes, the derived columns) costs the server.

PostgreSQL's CPU is that of the postmaster's children that ended during the measure (the backend
and the parallel workers of the index builds), read once they are reaped.

The load averages of the machine before and after each figure are recorded with it: on a shared
machine they say how much of the two cores the run had.
"""

import json
import os
import subprocess
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
PYTHON = str(REPO_DIR / ".venv" / "bin" / "python")
DATABASE = "bench_import"
#: Where the database part (``bench/database_part.py``) runs, and the rows it loads (made per run).
DATABASE_PART = "bench_import_database_part"
ROWS_DIR = BENCH_DIR / "data" / "import-rows"


def import_file(items, log):
    """The import file of ``items`` items (``scripts/make_import_file.py --seed 1``), made once."""
    path = BENCH_DIR / "data" / f"import-{items}.json"
    if not path.exists():
        log(f"writing the import file {path.name} (once)")
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [PYTHON, str(REPO_DIR / "scripts" / "make_import_file.py"), "--items", str(items), "--seed", "1",
             "-o", f"{path}.tmp"],
            check=True, cwd=REPO_DIR,
        )
        os.replace(f"{path}.tmp", path)
    return path


def floor_file(path, log):
    """``path``'s items one per line in COPY's text format (one jsonb column), made once."""
    import orjson

    from backups.services import reading

    lines = path.with_suffix(".copy")
    if not lines.exists():
        log(f"writing {lines.name}: the items one per line, for the floor (once)")
        with open(path, "rb") as source, open(f"{lines}.tmp", "wb", buffering=1 << 20) as out:
            for item in reading.read_items(source, "checkpoint_items", "checkpoint_items"):
                text = orjson.dumps(item)
                out.write(text.replace(b"\\", b"\\\\") + b"\n")  # orjson escapes control characters
        os.replace(f"{lines}.tmp", lines)
    return lines


def _rss_kb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _cpu_seconds(pid, children=False):
    """User + system CPU seconds of a live process, from /proc; ``children``: of its children that
    exited and were reaped by it instead."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    first = 13 if children else 11  # cutime, cstime; or utime, stime
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")


def _wait_reaped(pids, timeout=10):
    """Wait until the server processes ``pids`` are gone, reaped by the postmaster: only then does its
    children's CPU (``_cpu_seconds(postmaster, children=True)``) hold theirs. An ended process stays
    in /proc, a zombie, until its parent reaps it."""
    deadline = time.monotonic() + timeout
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)


def _parent(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    return None


def _backends(database):
    """PIDs of the server processes serving ``database`` (their titles name it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres: ") and f" {database} " in title:
                pids.append(int(entry.name))
    return pids


def _fresh_database(base_url, name=DATABASE):
    import psycopg2

    admin = psycopg2.connect(f"{base_url}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")
    return admin


def _migrate(url, env):
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], check=True, cwd=REPO_DIR,
        env={**env, "DATABASE_URL": url},
    )


def export_rows(url):
    """The rows the import wrote, one COPY text file per table in ``ROWS_DIR`` (not timed)."""
    import psycopg2

    from bench import database_part

    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            database_part.export(cursor, ROWS_DIR)
    finally:
        connection.close()


def time_database_part(base_url, file_bytes, env, postmaster):
    """``bench/database_part.py`` in a fresh database: its figures, and the server's CPU."""
    admin = _fresh_database(base_url, DATABASE_PART)
    try:
        url = f"{base_url}/{DATABASE_PART}"
        _migrate(url, env)
        server_before = _cpu_seconds(postmaster, children=True)
        done = subprocess.run(
            [PYTHON, str(BENCH_DIR / "database_part.py"), str(ROWS_DIR), str(file_bytes)],
            cwd=REPO_DIR, env={**env, "DATABASE_URL": url}, capture_output=True, text=True, check=True,
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        _wait_reaped([figures["backend"]])
        figures["server_cpu_seconds"] = _cpu_seconds(postmaster, children=True) - server_before
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE_PART}")
        return figures
    finally:
        admin.close()


def time_import(url, path, env, postmaster):
    """Run the import command; return its seconds, output and RSS samples, its CPU and the server's.

    The server's CPU is that of the postmaster's children that ended during the import, read from
    the postmaster once the import's backend is gone: the backend and the parallel workers of its
    index builds (which a sample of the live backends misses), and any autovacuum worker that ran.
    """
    started = time.monotonic()
    before = os.times()
    server_before = _cpu_seconds(postmaster, children=True)
    process = subprocess.Popen(
        [PYTHON, "manage.py", "import_checkpoint_items", str(path), "--project", "bench-import"],
        cwd=REPO_DIR, env={**env, "DATABASE_URL": url}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    samples = []
    backends = set()
    while process.poll() is None:
        rss = _rss_kb(process.pid)
        if rss:
            samples.append((time.monotonic() - started, rss))
        backends.update(_backends(DATABASE))
        time.sleep(0.5)
    seconds = time.monotonic() - started
    _wait_reaped(backends)
    server_cpu = _cpu_seconds(postmaster, children=True) - server_before
    # The command's CPU, its worker processes included (it reaps them, so they count in its usage).
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    output = process.stdout.read().decode(errors="replace")
    return process.returncode, seconds, output, samples, cpu, server_cpu


def time_floor(url, lines):
    """``COPY`` the items (one jsonb each) into a plain table; return the seconds and server CPU."""
    import psycopg2

    connection = psycopg2.connect(url)
    backend = connection.get_backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS import_floor")
    connection.commit()
    started, cpu = time.monotonic(), _cpu_seconds(backend)
    with connection.cursor() as cursor, open(lines, "rb") as source:
        cursor.execute("CREATE TABLE import_floor (item jsonb)")
        cursor.copy_expert("COPY import_floor (item) FROM STDIN WITH (FREEZE)", source, size=1 << 20)
    connection.commit()
    seconds, cpu = time.monotonic() - started, _cpu_seconds(backend) - cpu
    connection.close()
    return seconds, cpu


def run(base_url, items, log, env=None):
    """The import of ``items`` items and its floor, into a fresh database; a dict of the figures."""
    env = dict(os.environ if env is None else env)
    path = import_file(items, log)
    lines = floor_file(path, log)
    admin = _fresh_database(base_url)
    postmaster = _parent(admin.get_backend_pid())  # the server's children: its backends, their workers
    url = f"{base_url}/{DATABASE}"
    _migrate(url, env)
    load_before = os.getloadavg()
    log(f"importing {items:,} items ({path.stat().st_size / 1e9:.2f} GB); load {load_before[0]:.2f}")
    code, seconds, output, samples, cpu, server_cpu = time_import(url, path, env, postmaster)
    load_after = os.getloadavg()
    result = {
        "items": items, "file": str(path), "load_before": load_before, "load_after": load_after,
        "command": f"manage.py import_checkpoint_items {path.name} --project bench-import",
    }
    if code != 0:
        admin.close()
        return {**result, "error": output[-2000:], "seconds": seconds}
    rss = [kb for _, kb in samples]
    later = [kb for t, kb in samples if t >= seconds * 0.2] or rss
    log(f"  {items / seconds:,.0f} items/s; timing the floor (COPY of the same items into a plain table)")
    floor_load = os.getloadavg()
    floor_seconds, floor_cpu = time_floor(url, lines)
    log("  timing the database part (the import's rows loaded and indexed without its Python)")
    export_rows(url)
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
    admin.close()
    database_part = time_database_part(base_url, path.stat().st_size, env, postmaster)
    return {
        **result,
        "seconds": seconds,
        "items_per_s": items / seconds,
        "output": output.strip()[-800:],
        "rss_max_mb": max(rss) / 1024 if rss else None,
        "rss_at_20pct_mb": later[0] / 1024 if later else None,
        "rss_end_mb": rss[-1] / 1024 if rss else None,
        "cpu_seconds": cpu,
        "server_cpu_seconds": server_cpu,
        "floor_seconds": floor_seconds,
        "floor_server_cpu_seconds": floor_cpu,
        "floor_items_per_s": items / floor_seconds,
        "floor_load": floor_load,
        "ratio_to_floor": seconds / floor_seconds,
        "database_part": database_part,
    }


def render(imported):
    """The import's lines of the report."""
    if "items_per_s" not in imported:
        return [f"Import: not measured ({imported.get('skipped') or imported.get('error', '')[:300]})"]
    load = "/".join(f"{value:.2f}" for value in imported["load_before"])
    return [
        f"Import ({imported['command']};",
        f"  load before {load}):",
        f"  ours:  {imported['items']:,} items in {imported['seconds']:.1f} s = "
        f"{imported['items_per_s']:,.0f} items/s; RSS {imported['rss_at_20pct_mb']:.0f} MB at 20% of the "
        f"time, max "
        f"{imported['rss_max_mb']:.0f} MB, end {imported['rss_end_mb']:.0f} MB",
        f"  floor: COPY of the same items (one jsonb each) into a plain table: "
        f"{imported['floor_seconds']:.1f} s = {imported['floor_items_per_s']:,.0f} items/s "
        f"(load {imported['floor_load'][0]:.2f})",
        f"  ratio: ours / floor = {imported['ratio_to_floor']:.2f}x",
        *_database_part_lines(imported),
        *_cpu_lines(imported),
    ]


def _database_part_lines(imported):
    """What the database alone spends on the import's rows: the bound that Python work cannot lift."""
    part = imported.get("database_part")
    if not part:
        return []
    items = imported["items"]
    return [
        f"  database part: the import's own rows sent by COPY and indexed, no Python per item "
        f"(bench/database_part.py): {part['seconds']:.1f} s = {items / part['seconds']:,.0f} items/s "
        f"(load {part['load_seconds']:.1f} s, indexes and statistics {part['rebuild_seconds']:.1f} s, "
        f"commit {part['commit_seconds']:.1f} s; {part['server_cpu_seconds'] / items * 1e6:.0f} µs CPU per "
        f"item in PostgreSQL)",
        f"  ratio: ours / database part = {imported['seconds'] / part['seconds']:.2f}x; "
        f"database part / floor = {part['seconds'] / imported['floor_seconds']:.2f}x",
    ]


def _cpu_lines(imported):
    """CPU per item, which a shared machine's load does not inflate the way it does wall time."""
    if imported.get("cpu_seconds") is None:
        return []
    items = imported["items"]
    ours, server = imported["cpu_seconds"] / items * 1e6, imported["server_cpu_seconds"] / items * 1e6
    floor = imported["floor_server_cpu_seconds"] / items * 1e6
    return [
        f"  CPU per item: {ours:.0f} µs in the import's processes (workers included) + {server:.0f} µs in "
        f"PostgreSQL = {ours + server:.0f} µs; the floor's COPY: {floor:.0f} µs in PostgreSQL",
        f"  on two free cores that is at most {2e6 / (ours + server):,.0f} items/s for ours "
        f"(if both stay busy), {1e6 / floor:,.0f} items/s for the floor (one backend)",
    ]
