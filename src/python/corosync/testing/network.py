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
a node's ports down, a cut link takes one port down. A degraded link (:mod:`.impair`) takes
the port off its bridge and puts a relay program between them: the port's place on the
bridge goes to a second veth pair, ``cst<K>j<i>`` (its bridge side) and ``cst<K>i<i>`` (the
relay's side), with ``l<L>`` appended on links 1 and up.
"""

from __future__ import annotations

import logging
import select
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from . import impair, netns
from ._resources import PROGRAM_TERM_GRACE, Resources, terminate
from .impair import Impairment
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


@dataclass(frozen=True)
class _Degraded:
    impairment: Impairment
    relay: subprocess.Popen[bytes]


#: How long the relay program of a degraded link gets to bind its sockets.
_RELAY_START_SECONDS = 10.0


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
        #: (node id, link) of each degraded link, with its impairment and relay.
        self._degraded: dict[tuple[int, int], _Degraded] = {}

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

    def _relay_veth(self, nodeid: int, link: int) -> tuple[str, str]:
        """(relay side, bridge side) of the veth pair that stands in for a degraded link's
        port on its bridge."""
        suffix = "" if link == 0 else f"l{link}"
        return f"cst{self.index}i{nodeid}{suffix}", f"cst{self.index}j{nodeid}{suffix}"

    def _bridge_port(self, nodeid: int, link: int) -> str:
        """What stands for the node's link on its bridge: the port, or the relay's pair."""
        if (nodeid, link) in self._degraded:
            return self._relay_veth(nodeid, link)[1]
        return self._port(nodeid, link)

    def _group(self, nodeid: int) -> int:
        if self.partitioned is None:
            return 0
        return next(g for g, group in enumerate(self.partitioned) if nodeid in group)

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
        """Commands putting a port (or its relay's stand-in) on its group's bridge, the port
        up unless its link is cut."""
        port = self._port(nodeid, link)
        state = "down" if (nodeid, link) in self.cut else "up"
        on_bridge = self._bridge_port(nodeid, link)
        commands = [f"link set {on_bridge} master {self.bridge(link, group)}"]
        if on_bridge != port:
            commands.append(f"link set {on_bridge} up")
        return [*commands, f"link set {port} {state}"]

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

    def degrade(self, nodeid: int, link: int, impairment: Impairment) -> None:
        """Put a relay with ``impairment`` between node ``nodeid``'s port on ``link`` and its
        bridge (replacing any earlier one on that link)."""
        assert self.switch is not None
        self._restore(nodeid, link)
        port = self._port(nodeid, link)
        inner, outer = self._relay_veth(nodeid, link)
        _ip_batch(
            self.switch,
            [
                f"link add {inner} type veth peer name {outer}",
                f"link set {inner} up",
                f"link set {outer} up",
            ],
        )
        # The relay needs nothing but the standard library: run as a file, it does not
        # import this package (nor its compiled module).
        argv = [sys.executable, "-I", impair.__file__, port, inner, *impairment.arguments()]
        relay = subprocess.Popen(netns.exec_argv(self.switch, argv), stdout=subprocess.PIPE)
        self._resources.programs.append(relay)
        self._resources.save()
        self._degraded[(nodeid, link)] = _Degraded(impairment, relay)
        assert relay.stdout is not None
        ready = select.select([relay.stdout], [], [], _RELAY_START_SECONDS)[0]
        if not ready or relay.stdout.readline() != b"ready\n":
            self._restore(nodeid, link)
            raise ClusterError(f"the relay degrading node {nodeid}'s link {link} did not start")
        # The relay is bound: the port leaves the bridge and its stand-in takes its place.
        bridge = self.bridge(link, self._group(nodeid))
        _ip_batch(self.switch, [f"link set {port} nomaster", f"link set {outer} master {bridge}"])

    def _restore(self, nodeid: int, link: int) -> None:
        """Undo :meth:`degrade` of one link: the relay stopped, its pair deleted (the port
        is put back on a bridge by the caller, :meth:`heal`)."""
        degraded = self._degraded.pop((nodeid, link), None)
        if degraded is None:
            return
        terminate([degraded.relay], PROGRAM_TERM_GRACE)
        if degraded.relay.stdout is not None:
            degraded.relay.stdout.close()
        if degraded.relay in self._resources.programs:
            self._resources.programs.remove(degraded.relay)
            self._resources.save()
        assert self.switch is not None
        _ip("link", "delete", self._relay_veth(nodeid, link)[0], netns_name=self.switch)

    @property
    def degraded(self) -> dict[tuple[int, int], Impairment]:
        """(node id, link) of each degraded link, with its impairment."""
        return {key: d.impairment for key, d in self._degraded.items()}

    def heal(self, nodeids: Iterable[int]) -> None:
        """Every port back on its link's main bridge and up, every degraded link restored."""
        if self.switch is None:
            return
        for nodeid, link in list(self._degraded):
            self._restore(nodeid, link)
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
        for (i, link), d in sorted(self._degraded.items()):
            lines.append(f"degraded: node {i} link {link}: {d.impairment}")
        return lines
