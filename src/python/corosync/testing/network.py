"""The network of a test cluster: namespaces, veth links, bridges, and faults on them.

With one node there is only the node's namespace and its ``lo``: link L's address is
``127.0.0.<L+1>``. With N >= 2 nodes a "switch" namespace holds one bridge per knet link
(``br0`` for link 0, ``br0l<L>`` for link L); node i's veth pair on link 0 joins
``cst<K>n<i>`` (node side, address ``10.213.K.i/24``) to ``cst<K>s<i>`` (switch side, a port
of ``br0``), and on link L >= 1 ``cst<K>n<i>l<L>`` (address ``10.<213+L>.K.i/24``) to
``cst<K>s<i>l<L>``. Pairs are created directly inside the two namespaces, so nothing ever
appears in the host's namespace, and no namespace has a default route: cluster traffic
cannot leave the machine.

Each link has a subnet of its own: with two interfaces in one /24 the kernel would route
both links' traffic through whichever interface it found first. The lease of index K
(:class:`~corosync.testing._resources.SubnetLease`) reserves K in every link's subnet.

Faults act on switch ports only, the nodes never notice a configuration change: a partition
moves every link's ports to one bridge per group (links kept apart), isolation takes all of
a node's ports down, a cut link takes one port down.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from . import netns
from ._resources import Resources
from .node import ClusterError, Node

__all__ = ["LINK0_OCTET", "MAX_LINKS", "Network"]

_log = logging.getLogger(__name__)

#: Link L of cluster K is the subnet ``10.<LINK0_OCTET + L>.K.0/24``.
LINK0_OCTET = 213
#: knet's limit (KNET_MAX_LINK): corosync reads ``ring0_addr`` to ``ring7_addr``.
MAX_LINKS = 8


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

    def __init__(
        self, index: int, switch: str | None, resources: Resources, links: int = 1
    ) -> None:
        #: The cluster's subnet index K: veth names are unique because K is locked.
        self.index = index
        #: Name of the switch namespace, None for a one-node cluster.
        self.switch = switch
        #: Number of knet links: veth pairs per node, bridges of the switch.
        self.links = links
        self._resources = resources
        self._bridges: set[str] = set()
        #: The groups of the current partition, or None.
        self.partitioned: list[list[int]] | None = None
        #: Node ids whose switch ports are all down.
        self.isolated: set[int] = set()
        #: (node id, link) of each switch port taken down by :meth:`cut_link`.
        self.cut: set[tuple[int, int]] = set()

    def address(self, nodeid: int, link: int = 0) -> str:
        """Node ``nodeid``'s address on link ``link``."""
        if self.switch is None:
            return f"127.0.0.{1 + link}"  # all of 127/8 is on lo
        return f"10.{LINK0_OCTET + link}.{self.index}.{nodeid}"

    def veth(self, nodeid: int) -> tuple[str, str]:
        """(node side, switch side) names of node ``nodeid``'s veth pair on link 0 (15
        chars at most)."""
        return f"cst{self.index}n{nodeid}", f"cst{self.index}s{nodeid}"

    def link_veth(self, nodeid: int, link: int) -> tuple[str, str]:
        """The same on link ``link``: link 0's names, with ``l<link>`` appended for links 1
        and up, so that a one-link cluster keeps the names it had before links existed."""
        inner, outer = self.veth(nodeid)
        return (inner, outer) if link == 0 else (f"{inner}l{link}", f"{outer}l{link}")

    def _port(self, nodeid: int, link: int) -> str:
        return self.link_veth(nodeid, link)[1]

    @staticmethod
    def bridge(link: int, group: int = 0) -> str:
        """The switch's bridge of ``group`` (0 when not partitioned) on link ``link``."""
        # Links never share a bridge: ARP would then answer across subnets, and a cut link
        # could be bypassed through another link's interface.
        return f"br{group}" if link == 0 else f"br{group}l{link}"

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
        """Create the switch (if any), each node's namespace and its links to the switch."""
        if self.switch is not None:
            self.add_netns(self.switch)
            for link in range(self.links):
                self._ensure_bridge(self.bridge(link))
        for node in nodes:
            self.attach(node)

    def attach(self, node: Node) -> None:
        """Create ``node``'s namespace and plug its links into the switch's main bridges
        (:meth:`build` for each node; later for a node added to a running cluster)."""
        self.add_netns(node.netns)
        if self.switch is None:
            # One node: lo only, which already has link 0's 127.0.0.1.
            commands = [f"addr add {a}/8 dev lo" for a in node.addresses[1:]]
            if commands:
                _ip_batch(node.netns, commands)
            return
        for link, address in enumerate(node.addresses):
            inner, outer = self.link_veth(node.nodeid, link)
            _log.debug("linking %s (%s) to switch port %s", inner, address, outer)
            _ip(
                *f"link add {inner} netns {node.netns} type veth peer name {outer}".split(),
                *("netns", self.switch),
            )
            _ip_batch(node.netns, [f"addr add {address}/24 dev {inner}", f"link set {inner} up"])
            _ip_batch(
                self.switch,
                [f"link set {outer} master {self.bridge(link)}", f"link set {outer} up"],
            )

    def _ensure_bridge(self, bridge: str) -> None:
        assert self.switch is not None
        if bridge in self._bridges:
            return
        # STP off (the default) makes new ports forward at once, without a learning delay.
        _ip_batch(
            self.switch, [f"link add {bridge} type bridge stp_state 0", f"link set {bridge} up"]
        )
        self._bridges.add(bridge)

    def _connect(self, nodeid: int, link: int, group: int = 0) -> list[str]:
        """Commands putting a port on its group's bridge, up unless its link is cut."""
        port = self._port(nodeid, link)
        state = "down" if (nodeid, link) in self.cut else "up"
        return [f"link set {port} master {self.bridge(link, group)}", f"link set {port} {state}"]

    def partition(self, groups: Sequence[Sequence[int]]) -> None:
        """Put each group's switch ports on bridges of its own, one per link (groups already
        validated). Ends any isolation; cut links stay cut."""
        assert self.switch is not None
        commands = []
        for g, group in enumerate(groups):
            for link in range(self.links):
                self._ensure_bridge(self.bridge(link, g))
                for nodeid in group:
                    commands += self._connect(nodeid, link, g)
        _ip_batch(self.switch, commands)
        self.isolated.clear()
        self.partitioned = [list(g) for g in groups] if len(groups) > 1 else None

    def isolate(self, nodeid: int) -> None:
        """Take all of node ``nodeid``'s switch ports down, on every link."""
        assert self.switch is not None
        ports = [self._port(nodeid, link) for link in range(self.links)]
        _ip_batch(self.switch, [f"link set {port} down" for port in ports])
        self.isolated.add(nodeid)

    def cut_link(self, nodeid: int, link: int) -> None:
        """Take node ``nodeid``'s switch port on link ``link`` down, and only that one."""
        assert self.switch is not None
        _ip("link", "set", self._port(nodeid, link), "down", netns_name=self.switch)
        self.cut.add((nodeid, link))

    def heal(self, nodeids: Iterable[int]) -> None:
        """Every port back on its link's main bridge and up."""
        if self.switch is None:
            return
        self.cut.clear()
        commands = []
        for nodeid in nodeids:
            for link in range(self.links):
                commands += self._connect(nodeid, link)
        _ip_batch(self.switch, commands)
        self.partitioned = None
        self.isolated.clear()

    def reachable(self, nodeid: int, nodeids: Iterable[int]) -> frozenset[int]:
        """The nodes among ``nodeids`` that node ``nodeid`` can talk to directly under the
        current faults (over at least one link that neither has cut), itself included."""
        if nodeid in self.isolated:
            return frozenset([nodeid])
        candidates = set(nodeids) - self.isolated
        if self.partitioned is not None:
            candidates &= next(set(g) for g in self.partitioned if nodeid in g)
        return frozenset(i for i in candidates if i == nodeid or self.shared_links(nodeid, i))

    def shared_links(self, a: int, b: int) -> set[int]:
        """The links that neither node ``a`` nor node ``b`` has cut (partitions and
        isolation aside)."""
        return {
            link
            for link in range(self.links)
            if (a, link) not in self.cut and (b, link) not in self.cut
        }

    def describe(self) -> list[str]:
        """Lines naming the faults in force, for error messages."""
        lines = []
        if self.partitioned is not None:
            lines.append(f"partitioned: {self.partitioned}")
        if self.isolated:
            lines.append(f"isolated: {sorted(self.isolated)}")
        if self.cut:
            cut = ", ".join(f"node {i} link {link}" for i, link in sorted(self.cut))
            lines.append(f"cut links: {cut}")
        return lines
