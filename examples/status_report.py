"""What an operator checks first on a corosync node, from the typed API instead of parsing
corosync-quorumtool, corosync-cfgtool and corosync-cpgtool::

    python3 examples/status_report.py

Prints quorum and votes, every node's votes, this node's links to every other node, and the
CPG groups with their members. Exit status 0 when quorate, 2 when not (as
corosync-quorumtool -s), 1 when corosync is not reachable.
"""

from __future__ import annotations

import sys
from collections import defaultdict

import corosync
from corosync.votequorum import InfoFlag


def configured_nodes() -> list[int]:
    """The node ids of corosync.conf's nodelist, as the daemon has them."""
    with corosync.CMAP() as cmap:
        keys = cmap.keys("nodelist.node.")
        return sorted(int(cmap[key]) for key in keys if key.endswith(".nodeid"))


def report() -> int:
    with corosync.Votequorum() as vq, corosync.CFG() as cfg, corosync.CPG() as cpg:
        me = vq.info()
        quorate = InfoFlag.QUORATE in me.flags
        print(f"node {me.nodeid}: {'quorate' if quorate else 'NOT quorate'}, votes "
              f"{me.total_votes}/{me.expected_votes} (quorum {me.quorum})")  # fmt: skip
        for nodeid in configured_nodes():
            local = " (this node)" if nodeid == me.nodeid else ""
            try:
                votes = f"{vq.info(nodeid).votes} vote(s)"
                status = cfg.node_status(nodeid)
            except (corosync.NotExistError, corosync.FailedOperationError):
                print(f"  node {nodeid}{local}: not seen by this node")
                continue
            links = ", ".join(
                f"link {link.link} {'up' if link.connected else 'down'}" for link in status.links
            )
            print(f"  node {nodeid}{local}: {votes}; {links}")
        members: dict[str, list[str]] = defaultdict(list)
        for member in cpg.groups():
            name = member.group if isinstance(member.group, str) else repr(member.group)
            members[name].append(f"{member.nodeid}/{member.pid}")
        for group, who in sorted(members.items()):
            print(f"group {group}: {' '.join(sorted(who))}")
        return 0 if quorate else 2


def main() -> int:
    try:
        return report()
    except corosync.LibraryError as e:
        print(f"corosync is not reachable: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
