"""Test helpers for clusters with several knet links: a node's view of the others' links
through ``CFG.node_status``, taken steadily beside ``corosync-cfgtool -n``, and waiting until
that view shows given links up or down."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cfg_helpers import DEADLINE, ShownLink, ShownNode, parse_nodes

from corosync import CFG
from corosync.cfg import LinkStatus, NodeStatus
from corosync.testing import Cluster

__all__ = ["LinkState", "knet_view", "shown", "steady_view", "wait_links"]

#: (peer node id, link number) -> connected, as node_status shows it on one node.
LinkState = Mapping[tuple[int, int], bool]


def knet_view(cluster: Cluster, nodeid: int, peers: Iterable[int]) -> dict[int, NodeStatus]:
    """``node_status`` of each of ``peers`` on node ``nodeid``, by node id."""
    with cluster.node(nodeid).connect(CFG) as cfg:
        return {peer: cfg.node_status(peer) for peer in peers}


def steady_view(
    cluster: Cluster, nodeid: int, peers: Iterable[int]
) -> tuple[dict[int, NodeStatus], dict[int, ShownNode]]:
    """``node_status`` of ``peers`` on node ``nodeid`` and ``corosync-cfgtool -n`` there,
    parsed, taken while knet's view did not change (path MTU discovery raises the MTUs in
    the first seconds of a link)."""
    peers = sorted(peers)
    node = cluster.node(nodeid)

    def view() -> tuple[dict[int, NodeStatus], dict[int, ShownNode]] | None:
        before = knet_view(cluster, nodeid, peers)
        output = node.run(["corosync-cfgtool", "-n"], check=True).stdout
        after = knet_view(cluster, nodeid, peers)
        return (after, parse_nodes(output)) if before == after else None

    taken = cluster.wait_for(view, DEADLINE, f"a steady view of the links on node {nodeid}")
    assert taken is not None
    return taken


def shown(link: LinkStatus) -> ShownLink:
    """A LinkStatus as ``corosync-cfgtool -n`` prints it."""
    flags = [name for name in ("enabled", "connected", "dynconnected") if getattr(link, name)]
    return ShownLink(link.link, link.src, link.dst, frozenset(flags), link.mtu)


def wait_links(cluster: Cluster, nodeid: int, expected: LinkState) -> dict[int, NodeStatus]:
    """Wait until node ``nodeid`` shows each (peer, link) of ``expected`` connected or not,
    as given; return that view (knet notices within a few token timeouts)."""
    peers = sorted({peer for peer, _ in expected})

    def matches() -> dict[int, NodeStatus] | None:
        view = knet_view(cluster, nodeid, peers)
        state = {(peer, link.link): link.connected for peer in peers for link in view[peer].links}
        return view if all(state.get(key) == value for key, value in expected.items()) else None

    wanted = ", ".join(
        f"node {peer} link {link} {'up' if up else 'down'}"
        for (peer, link), up in sorted(expected.items())
    )
    view = cluster.wait_for(matches, DEADLINE, f"node {nodeid} to see {wanted}")
    assert view is not None
    return view
