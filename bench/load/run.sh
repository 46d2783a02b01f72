#!/usr/bin/env bash
# Load test: 16 concurrent clients for 60 s against gunicorn on PostgreSQL with demo data, on loopback only.
#
#   bench/load/run.sh                                   the full run (60 s, 20,000 demo items)
#   DURATION=10 ITEMS=2000 bench/load/run.sh            the short form CI runs (tests/test_load.py)
#
# wrk (Debian's package) drives bench/load/mix.lua: list 30%, filtered list 20%, detail 20%, count 10%,
# next page by marker 20%. The last line is "load: N requests, E errors, p50 …, p99 …, R requests/s";
# the exit code is 0 only with 0 errors (bench/load/summarize.py).
#
# Settings (environment): DURATION (s, 60), CONNECTIONS (16), THREADS (wrk threads, 2), ITEMS (20000),
# GUNICORN_WORKERS (gunicorn.conf.py's default), LOAD_DATABASE_URL (a postgres:// URL to migrate and seed
# instead of a throwaway cluster: its items are replaced by the demo data). Everything listens on
# 127.0.0.1 only and is removed at exit.
set -euo pipefail

cd "$(dirname "$0")/../.." || exit 1
if [ -x .venv/bin/python ]; then PY=$(pwd)/.venv/bin/python; else PY=${PYTHON:-python3}; fi
DURATION=${DURATION:-60}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
ITEMS=${ITEMS:-20000}
PROJECT=demo-project # backups.demo.DEMO_PROJECT_ID: the project with the largest share of the items

command -v wrk >/dev/null || { echo "bench/load/run.sh: wrk not found: apt-get install wrk"; exit 2; }

WORK_DIR=$(mktemp -d /tmp/backups-load.XXXXXX)
PG_DIR=""
PG_BIN=""
SERVER_PID=""

as_pg_owner() {
    # initdb and postgres refuse to run as root; an ordinary user runs them as itself.
    if [ "$(id -u)" = 0 ]; then (cd "$PG_DIR" && runuser -u postgres -- "$@"); else "$@"; fi
}

cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; fi
    if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
        as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
    fi
    [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
    rm -rf "$WORK_DIR"
}
trap cleanup EXIT

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

if [ -n "${LOAD_DATABASE_URL:-}" ]; then
    DATABASE_URL=$LOAD_DATABASE_URL
else
    initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
    [ -n "$initdb" ] || { echo "bench/load/run.sh: no PostgreSQL under /usr/lib/postgresql (or set LOAD_DATABASE_URL)"; exit 2; }
    PG_BIN=$(dirname "$initdb")
    PG_DIR=$(mktemp -d /tmp/backups-load-pg.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_DIR"
    chmod 700 "$PG_DIR"
    pg_port=$(free_port)
    as_pg_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
        >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log"; exit 1; }
    as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -p $pg_port -c unix_socket_directories=$PG_DIR -c max_connections=50" \
        >/dev/null || { cat "$PG_DIR/server.log"; exit 1; }
    DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
fi
export DATABASE_URL DEBUG=0 SECRET_KEY=load-test-only-"$RANDOM$RANDOM$RANDOM"-not-for-production ALLOWED_HOSTS=127.0.0.1
export SECURE_SSL_REDIRECT=0 LOG_LEVEL=WARNING

"$PY" manage.py help seed_demo >/dev/null 2>&1 || { echo "bench/load/run.sh: the seed_demo command is missing"; exit 2; }
started=$(date +%s)
timeout 600 "$PY" manage.py migrate --noinput >"$WORK_DIR/migrate.log" 2>&1 || { cat "$WORK_DIR/migrate.log"; exit 1; }
timeout 900 "$PY" manage.py seed_demo --clear --no-users --items "$ITEMS" >"$WORK_DIR/seed.log" 2>&1 ||
    { cat "$WORK_DIR/seed.log"; exit 1; }
TOKEN=$(timeout 120 "$PY" manage.py shell -v 0 -c "
from django.contrib.auth import get_user_model
from backups.models import ApiToken
user, _ = get_user_model().objects.get_or_create(username='load-client')
print(ApiToken.issue(user=user, project_id='$PROJECT')[1])" | tail -n 1)
echo "load: database ready ($ITEMS demo items) in $(($(date +%s) - started))s"

PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
GUNICORN_BIND="127.0.0.1:$PORT" GUNICORN_ACCESS_LOG="$WORK_DIR/access.log" \
    "$PY" -m gunicorn -c gunicorn.conf.py project.wsgi >"$WORK_DIR/gunicorn.log" 2>&1 &
SERVER_PID=$!

# Ids of real items for details and markers: the first page of the default order, read through the API.
for _ in $(seq 1 100); do
    if "$PY" - "$BASE" "$PROJECT" "$TOKEN" >"$WORK_DIR/ids.txt" 2>/dev/null <<'EOF'
import json, sys, urllib.request
base, project, token = sys.argv[1:4]
request = urllib.request.Request(f"{base}/v1/{project}/checkpoint_items?limit=1000", headers={"X-Auth-Token": token})
for item in json.load(urllib.request.urlopen(request, timeout=10))["checkpoint_items"]:
    print(item["id"])
EOF
    then break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK_DIR/gunicorn.log"; exit 1; }
    sleep 0.3
done
[ -s "$WORK_DIR/ids.txt" ] || { echo "load: could not read item ids from $BASE"; cat "$WORK_DIR/gunicorn.log"; exit 1; }
: >"$WORK_DIR/access.log" # count only the load's requests
echo "load: gunicorn on $BASE ($(grep -c . "$WORK_DIR/ids.txt") ids); wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s"

timeout $((DURATION + 60)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency \
    -s bench/load/mix.lua "$BASE" -- "$TOKEN" "$PROJECT" "$WORK_DIR/ids.txt" | tee "$WORK_DIR/wrk.txt"
sleep 1 # the access log's last lines
"$PY" bench/load/summarize.py "$WORK_DIR/wrk.txt" "$WORK_DIR/access.log"
