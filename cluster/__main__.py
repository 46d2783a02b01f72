"""``python -m cluster up|down|status`` (the ``scripts/cluster`` command): see ``cluster.topology``."""

import argparse
import sys

from .topology import Topology


def main(argv=None):
    parser = argparse.ArgumentParser(prog="scripts/cluster", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser(
        "up", help="start primary, replica, PgBouncer, two app servers, nginx; load demo data"
    )
    up.add_argument("--items", type=int, default=2000, help="demo items to seed (default 2000)")
    commands.add_parser("down", help="stop everything and remove var/cluster")
    commands.add_parser("status", help="what runs, the replica's state, /readyz through nginx")
    args = parser.parse_args(argv)
    topology = Topology()
    if args.command == "up":
        topology.up(items=args.items)
        state = topology.state
        print(f"base_url={topology.base_url}")
        print(f"token={state['token']}")
        print(f"project={state['project']}")
        print(f"metrics_token={state['metrics_token']}")
        print("login=admin/admin (and support/support)")
        return 0
    if args.command == "down":
        topology.down()
        return 0
    if not topology.state:
        print("cluster: not up")
        return 3
    rows = topology.status()
    for name, ok, detail in rows:
        print(f"{name:10} {'up  ' if ok else 'DOWN'} {detail}")
    print(f"base_url={topology.base_url}")
    return 0 if all(ok for _, ok, _ in rows) else 3


if __name__ == "__main__":
    sys.exit(main())
