"""Network faults of a test cluster: :class:`Faults`, the part of
:class:`~corosync.testing.Cluster` that partitions the network, isolates a node, cuts or
degrades one link of one node, and heals it all.

Faults act on the switch side only (see :mod:`.network`): the nodes' own interfaces and
addresses never change, as when a cable or a switch port fails. None of these methods waits
for corosync to notice; follow them with ``wait_members``, ``wait_quorate`` or ``wait_for``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ._base import ClusterBase
from .impair import Impairment
from .node import ClusterError

__all__ = ["Faults"]

_log = logging.getLogger(__name__)


class Faults(ClusterBase):
    """Partitions, isolation and cut links (a part of :class:`Cluster`)."""

    def _require_network(self, what: str) -> None:
        self._check_open()
        if self._network.switch is None:
            raise ClusterError(f"{what} needs a cluster of at least 2 nodes")
        if not self._started:
            raise ClusterError(f"{what} needs a started cluster")

    def partition(self, *groups: Sequence[int]) -> None:
        """Split the network: nodes in the same group can talk, nodes in different groups
        cannot. Every node must appear in exactly one group, e.g. ``partition([1], [2, 3])``.

        Each group gets its own bridge in the switch namespace, one per link: no link
        crosses groups. Replaces any earlier partition or isolation (links cut with
        :meth:`cut_link` stay cut); :meth:`heal` undoes it. Does not wait for corosync to
        notice.
        """
        self._require_network("partition()")
        listed = [i for group in groups for i in group]
        everyone = list(range(1, len(self._nodes) + 1))
        if sorted(listed) != everyone or any(len(g) == 0 for g in groups):
            got = [list(g) for g in groups]
            raise ValueError(
                f"partition() needs non-empty groups naming each node of {everyone} exactly"
                f" once, got {got}"
            )
        _log.info("%s: partitioning the network into %s", self.name, [list(g) for g in groups])
        self._network.partition(groups)

    def isolate(self, nodeid: int) -> None:
        """Cut node ``nodeid`` off the network (its switch ports go down, on every link);
        :meth:`heal` brings it back."""
        self._require_network("isolate()")
        _log.info("%s: isolating node %d", self.name, nodeid)
        self._network.isolate(self.node(nodeid).nodeid)

    def cut_link(self, nodeid: int, link: int) -> None:
        """Cut knet link ``link`` (0 to ``links - 1``) of node ``nodeid`` only: its switch port
        on that link goes down, every other link stays up, so with ``links >= 2`` corosync
        keeps the node as a member over its other links (knet marks that link disconnected
        within a few ``token_ms``). Several cuts add up; cutting all links of a node isolates
        it. :meth:`heal` restores the link. Does not wait for corosync to notice.

        Cutting the link corosync sends over (knet's passive mode: the lowest-numbered one
        connected) makes knet fail over to the next. Seen with corosync 3.1.7: in the first
        seconds after the links came up, knet noticed the cut only after the token was
        lost, and corosync re-formed the membership with the same members (a new ring id);
        later cuts failed over without a membership change.

        IndexError for a node id not in the cluster, ValueError for a link it does not have.
        """
        self._require_network("cut_link()")
        node = self.node(nodeid)
        if isinstance(link, bool) or not isinstance(link, int):
            raise TypeError(f"link must be an int, got {type(link).__name__}")
        if not 0 <= link < self.links:
            raise ValueError(
                f"no link {link} in a cluster of {self.links} link(s) (links 0..{self.links - 1})"
            )
        _log.info("%s: cutting link %d of node %d", self.name, link, nodeid)
        self._network.cut_link(node.nodeid, link)

    def degrade(
        self,
        nodeid: int,
        *,
        link: int | None = None,
        loss: float = 0.0,
        delay: float = 0.0,
        jitter: float = 0.0,
        reorder: float = 0.0,
    ) -> None:
        """Make node ``nodeid``'s link ``link`` (every link when None) lossy and slow for
        what the node sends, as ``tc netem`` on its interface would: each frame is lost
        with probability
        ``loss``, the others wait ``delay`` seconds give or take a uniform ``jitter``, and
        with probability ``reorder`` a frame goes at once, overtaking those waiting. A relay
        program stands between the node's switch port and the bridge (:mod:`.impair` says
        why netem is not used). Replaces an earlier degradation of the same link; adds up
        with partitions, isolation and cut links; :meth:`heal` removes it.

        ValueError for a probability outside 0..1, a delay outside 0..60 s or a jitter
        larger than the delay, and for a link the cluster does not have.
        """
        self._require_network("degrade()")
        node = self.node(nodeid)
        impairment = Impairment(loss=loss, delay=delay, jitter=jitter, reorder=reorder)
        if link is not None and (isinstance(link, bool) or not isinstance(link, int)):
            raise TypeError(f"link must be an int or None, got {type(link).__name__}")
        if link is not None and not 0 <= link < self.links:
            raise ValueError(
                f"no link {link} in a cluster of {self.links} link(s) (links 0..{self.links - 1})"
            )
        links = range(self.links) if link is None else [link]
        for each in links:
            _log.info("%s: degrading link %d of node %d: %s", self.name, each, nodeid, impairment)
            self._network.degrade(node.nodeid, each, impairment)

    def heal(self) -> None:
        """Undo :meth:`partition`, :meth:`isolate`, :meth:`cut_link` and :meth:`degrade`:
        every node back on one bridge per link, all links up and whole. Does not wait for
        the membership to re-form, nor for knet to see the links connected again. A no-op
        for one node."""
        self._check_open()
        if self._started:
            _log.info("%s: healing the network", self.name)
            self._network.heal(n.nodeid for n in self._nodes)
