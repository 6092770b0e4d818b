"""What every part of :class:`~corosync.testing.Cluster` shares: its state, its nodes, and how
it describes itself in error messages.

``Cluster`` is assembled from one class per job, each in a module of its own:
:mod:`.cluster` (creating, starting, restarting and closing), :mod:`.waiting` (waiting for a
state), :mod:`.faults` (partitions and cut links) and :mod:`.reconfig` (changing the
configuration of a running cluster). They all derive from :class:`ClusterBase`, which holds
the attributes ``Cluster.__init__`` sets and the read-only views of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, cast

from . import options
from ._resources import Resources
from .network import Network
from .node import ClusterError, Node
from .options import QdeviceOptions, QuorumOptions

if TYPE_CHECKING:
    from .cluster import Cluster

__all__ = ["KEEP_ENV", "MAX_NODES", "ClusterBase"]

#: Nodes get 10.213.K.1 ... 10.213.K.N; this keeps N well inside the /24.
MAX_NODES = 200
#: Set to 1 to keep each cluster's temp dir (configs, logs) after close, for post-mortems.
KEEP_ENV = "COROSYNC_TESTING_KEEP"


class ClusterBase:
    """The state of a test cluster and the read-only views of it (see :class:`Cluster`)."""

    # Set by Cluster.__init__, which documents the public ones.
    name: str
    index: int
    tmpdir: str
    token_ms: int
    _prefix: str
    _resources: Resources
    _network: Network
    _nodes: list[Node]
    _closed: bool
    _started: bool
    # The votequorum settings: every node's votes, and the ones given explicitly (written
    # as quorum_votes).
    _votes: dict[int, int]
    _explicit_votes: dict[int, int]
    _quorum: QuorumOptions
    _qdevice: QdeviceOptions | None
    # What Cluster.reconfigure() added to the rendered corosync.conf, applied in order, and
    # how many reloads it made (the config_generation marker, see .reconfig).
    _edits: list[Callable[[str], str]]
    _generation: int

    @property
    def nodes(self) -> list[Node]:
        """All nodes, in node id order (``nodes[0]`` is node 1)."""
        return list(self._nodes)

    def node(self, nodeid: int) -> Node:
        """The node with corosync node id ``nodeid`` (1..N); IndexError otherwise."""
        if (
            isinstance(nodeid, bool)
            or not isinstance(nodeid, int)
            or not 1 <= nodeid <= len(self._nodes)
        ):
            count = len(self._nodes)
            raise IndexError(f"no node {nodeid!r} in a cluster of {count} (ids 1..{count})")
        return self._nodes[nodeid - 1]

    @property
    def links(self) -> int:
        """Number of knet links between the nodes (``ring0_addr`` ... of every node)."""
        return self._network.links

    @property
    def quorum(self) -> QuorumOptions:
        """The votequorum options in the nodes' ``corosync.conf`` (all corosync's defaults
        when none were given)."""
        return self._quorum

    @property
    def qdevice(self) -> QdeviceOptions | None:
        """The quorum device section in the nodes' ``corosync.conf``, or None."""
        return self._qdevice

    @property
    def votes(self) -> dict[int, int]:
        """Every node's configured votes, by node id (a copy)."""
        return dict(self._votes)

    def expect_quorate(self, nodeids: Iterable[int]) -> bool | None:
        """Whether nodes ``nodeids``, all alive and seeing exactly each other, are quorate by
        the configured votes and quorum settings; None when the settings make it depend on
        history (``two_node``, ``wait_for_all``, ``last_man_standing``, ``auto_tie_breaker``,
        expected-votes tracking or a quorum device, for anything but the whole cluster).

        What :meth:`start`, :meth:`restart` and :meth:`reset` wait for. Changes made at run
        time (``set_expected``, ``set_votes``, a qdevice voting) are not known to it.
        """
        members = frozenset(nodeids)
        for nodeid in members:
            self.node(nodeid)  # IndexError for a stranger
        return options.expect_quorate(members, self._votes, self.quorum, self.qdevice)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise ClusterError(f"{self!r} is closed")

    def _require_started(self, what: str) -> None:
        self._check_open()
        if not self._started:
            raise ClusterError(f"{what} needs a started cluster")

    def _make_node(self, nodeid: int) -> Node:
        addresses = [self._network.address(nodeid, link) for link in range(self._network.links)]
        workdir = os.path.join(self.tmpdir, f"n{nodeid}")
        # Cluster is the only subclass that is ever instantiated.
        cluster = cast("Cluster", self)
        return Node(
            cluster, self._resources, nodeid, f"{self._prefix}-n{nodeid}", addresses, workdir
        )

    def describe(self) -> str:
        """Each node's state and log tail: what error messages of the harness include."""
        keep = "" if os.environ.get(KEEP_ENV) == "1" else f" (removed on close unless {KEEP_ENV}=1)"
        lines = [f"{self!r}: temp dir {self.tmpdir}{keep}"]
        lines += self._network.describe()
        for node in self._nodes:
            proc = node._proc
            if proc is None:
                state = "never started"
            elif node.alive:
                state = f"running, pid {proc.pid}"
            else:
                state = f"exited with status {proc.returncode}"
            where = ", ".join([node.netns, *node.addresses])
            lines.append(f"== node {node.nodeid} ({where}): {state}")
            lines.append(node.log_tail())
        return "\n".join(lines)
