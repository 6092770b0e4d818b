"""The network of a test cluster: namespaces, veth links, bridges, and faults on them.

With one node there is only the node's namespace and its ``lo``. With N >= 2 nodes a "switch"
namespace holds bridge ``br0``; node i's veth pair joins ``cst<K>n<i>`` (node side, address
``10.213.K.i/24``) to ``cst<K>s<i>`` (switch side, a port of the bridge). Pairs are created
directly inside the two namespaces, so nothing ever appears in the host's namespace, and no
namespace has a default route: cluster traffic cannot leave the machine.

Faults act on switch ports only, the nodes never notice a configuration change: a partition
moves ports to one bridge per group, isolation takes a port down.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from . import netns
from ._resources import Resources
from .node import ClusterError, Node

__all__ = ["Network"]

_log = logging.getLogger(__name__)


def _ip(*args: str, netns_name: str | None = None) -> None:
    try:
        netns.ip(*args, netns=netns_name)
    except netns.CommandError as e:
        raise ClusterError(str(e)) from e


def _ip_batch(netns_name: str, commands: Iterable[str]) -> None:
    # One `ip -batch` applies all link changes of a fault at (almost) the same moment.
    script = "".join(f"{c}\n" for c in commands)
    try:
        netns.run(["ip", "-n", netns_name, "-batch", "-"], input=script)
    except netns.CommandError as e:
        raise ClusterError(str(e)) from e


class Network:
    """The namespaces and links of one cluster, and the faults currently applied to them."""

    def __init__(self, index: int, switch: str | None, resources: Resources) -> None:
        #: The cluster's subnet index K: veth names are unique because K is locked.
        self.index = index
        #: Name of the switch namespace, None for a one-node cluster.
        self.switch = switch
        self._resources = resources
        self._bridges: set[str] = set()
        #: The groups of the current partition, or None.
        self.partitioned: list[list[int]] | None = None
        #: Node ids whose switch port is down.
        self.isolated: set[int] = set()

    def veth(self, nodeid: int) -> tuple[str, str]:
        """(node side, switch side) names of node ``nodeid``'s veth pair (15 chars at most)."""
        return f"cst{self.index}n{nodeid}", f"cst{self.index}s{nodeid}"

    def add_netns(self, name: str) -> None:
        """Create a namespace with ``lo`` up, recorded for cleanup *before* it exists."""
        # If this process dies right after `ip netns add`, the next holder of the subnet
        # lock finds the name in the record and deletes the namespace.
        self._resources.netns.append(name)
        self._resources.save()
        _log.debug("creating network namespace %s", name)
        _ip("netns", "add", name)
        _ip("link", "set", "lo", "up", netns_name=name)

    def build(self, nodes: Sequence[Node]) -> None:
        """Create the switch (if any), each node's namespace and its link to the switch."""
        if self.switch is not None:
            self.add_netns(self.switch)
            self._ensure_bridge("br0")
        for node in nodes:
            self.add_netns(node.netns)
            if self.switch is None:
                continue  # one node: lo only
            inner, outer = self.veth(node.nodeid)
            _log.debug("linking %s (%s) to switch port %s", inner, node.address, outer)
            _ip(
                *f"link add {inner} netns {node.netns} type veth peer name {outer}".split(),
                *("netns", self.switch),
            )
            _ip_batch(
                node.netns, [f"addr add {node.address}/24 dev {inner}", f"link set {inner} up"]
            )
            _ip_batch(self.switch, [f"link set {outer} master br0", f"link set {outer} up"])

    def _ensure_bridge(self, bridge: str) -> None:
        assert self.switch is not None
        if bridge in self._bridges:
            return
        # STP off (the default) makes new ports forward at once, without a learning delay.
        _ip_batch(
            self.switch, [f"link add {bridge} type bridge stp_state 0", f"link set {bridge} up"]
        )
        self._bridges.add(bridge)

    def partition(self, groups: Sequence[Sequence[int]]) -> None:
        """Put each group's switch ports on a bridge of its own (groups already validated)."""
        assert self.switch is not None
        commands = []
        for g, group in enumerate(groups):
            bridge = f"br{g}"
            self._ensure_bridge(bridge)
            for nodeid in group:
                outer = self.veth(nodeid)[1]
                commands += [f"link set {outer} master {bridge}", f"link set {outer} up"]
        _ip_batch(self.switch, commands)
        self.isolated.clear()
        self.partitioned = [list(g) for g in groups] if len(groups) > 1 else None

    def isolate(self, nodeid: int) -> None:
        """Take node ``nodeid``'s switch port down."""
        assert self.switch is not None
        _ip("link", "set", self.veth(nodeid)[1], "down", netns_name=self.switch)
        self.isolated.add(nodeid)

    def heal(self, nodeids: Iterable[int]) -> None:
        """Every port back on ``br0`` and up."""
        if self.switch is None:
            return
        commands = []
        for nodeid in nodeids:
            outer = self.veth(nodeid)[1]
            commands += [f"link set {outer} master br0", f"link set {outer} up"]
        _ip_batch(self.switch, commands)
        self.partitioned = None
        self.isolated.clear()

    def reachable(self, nodeid: int, nodeids: Iterable[int]) -> frozenset[int]:
        """The nodes among ``nodeids`` that node ``nodeid`` can talk to under the current
        faults, itself included."""
        if nodeid in self.isolated:
            return frozenset([nodeid])
        candidates = set(nodeids)
        if self.partitioned is not None:
            candidates &= next(set(g) for g in self.partitioned if nodeid in g)
        return frozenset(candidates - self.isolated)

    def describe(self) -> list[str]:
        """Lines naming the faults in force, for error messages."""
        lines = []
        if self.partitioned is not None:
            lines.append(f"partitioned: {self.partitioned}")
        if self.isolated:
            lines.append(f"isolated: {sorted(self.isolated)}")
        return lines
