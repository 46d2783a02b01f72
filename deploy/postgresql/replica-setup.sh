#!/usr/bin/env bash
# Make this host a streaming replica of the primary (run as root on the replica, once).
#   PRIMARY=10.0.0.21 SLOT=replica1 deploy/postgresql/replica-setup.sh
# pg_basebackup copies the primary over the replication protocol, creates the physical replication
# slot (-C -S: the primary keeps the WAL this replica has not received) and writes standby.signal and
# primary_conninfo (-R), so the server starts as a hot standby that streams from the primary.
# The same steps as backups/testing/pgreplication.py's replica_of, which scripts/cluster runs on loopback.
set -euo pipefail
: "${PRIMARY:?set PRIMARY to the primary's address}"
SLOT=${SLOT:-replica1}
VERSION=${VERSION:-15}
DATA=/var/lib/postgresql/$VERSION/main

systemctl stop "postgresql@$VERSION-main"
rm -rf "$DATA"
runuser -u postgres -- pg_basebackup -h "$PRIMARY" -U replicator -D "$DATA" \
    -X stream -C -S "$SLOT" -R -c fast -P
cat >/etc/postgresql/$VERSION/main/conf.d/backups-replica.conf <<CONF
hot_standby = on
hot_standby_feedback = on          # long replica reads are not cancelled by the primary's vacuum
wal_receiver_status_interval = 1s  # the primary's view of the lag stays fresh
timezone = 'UTC'
CONF
systemctl start "postgresql@$VERSION-main"
runuser -u postgres -- psql -Atc "SELECT status FROM pg_stat_wal_receiver"   # streaming
