"""Waiting for a test cluster to reach a state: :class:`Waits`, the part of
:class:`~corosync.testing.Cluster` that polls its nodes.

The public waits (:meth:`Waits.wait_for`, :meth:`Waits.wait_members`,
:meth:`Waits.wait_quorate`) and what ``start``, ``restart``, ``reset`` and ``add_node`` wait
for: every node's quorum and membership (a short-lived :class:`corosync.Quorum` handle per
look, :meth:`Node._view`) and, with several links, knet's view of each link (the stats map,
:meth:`Node._connected_links`). Every wait has a deadline, and its :class:`ClusterError`
describes every node.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from . import options
from ._base import ClusterBase
from .node import ClusterError, Node, _View

__all__ = ["POLL_INTERVAL", "Waits"]

_T = TypeVar("_T")

#: Seconds between two polls of :meth:`Waits.wait_for`.
POLL_INTERVAL = 0.1


class Waits(ClusterBase):
    """Waiting for a state of the cluster (a part of :class:`Cluster`)."""

    def wait_for(
        self, predicate: Callable[[], _T], timeout: float = 30.0, what: str = "a condition"
    ) -> _T:
        """Poll ``predicate`` until it returns something true, and return that.

        Raises :class:`ClusterError` after ``timeout`` seconds, describing ``what`` was
        awaited and the state and log tail of every node. Exceptions from the predicate
        propagate.
        """
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise ClusterError(
                    f"timed out after {timeout:g} s waiting for {what}\n{self.describe()}"
                )
            time.sleep(POLL_INTERVAL)

    def wait_members(
        self, nodeid: int, expected_nodeids: Iterable[int], timeout: float = 30.0
    ) -> None:
        """Wait until node ``nodeid``'s membership is exactly ``expected_nodeids``."""
        node = self.node(nodeid)
        expected = frozenset(expected_nodeids)
        self.wait_for(
            lambda: node.members() == expected,
            timeout,
            f"node {nodeid} to see members {sorted(expected)}",
        )

    def wait_quorate(self, nodeid: int, quorate: bool = True, timeout: float = 30.0) -> None:
        """Wait until node ``nodeid`` is quorate (or, with ``quorate=False``, inquorate)."""
        node = self.node(nodeid)

        def check() -> bool:
            view = node._view()
            return view is not None and view.quorate == quorate

        self.wait_for(
            check, timeout, f"node {nodeid} to be {'quorate' if quorate else 'inquorate'}"
        )

    def _all_formed(
        self, everyone: frozenset[int], quorate: bool | None, *, fail_on_death: bool = False
    ) -> bool:
        for node in self._nodes:
            if fail_on_death and not node.alive:
                raise ClusterError(
                    f"the corosync daemon of node {node.nodeid} exited\n{self.describe()}"
                )
            if not _formed(node._view(), everyone, quorate):
                return False
        return True

    def _links_connected(self, nodeids: Iterable[int]) -> bool:
        """Whether knet on each of ``nodeids`` sees its links to the others connected, but
        the links :meth:`cut_link` cut. With one link there is nothing to add to a formed
        membership, which already needs it."""
        if self.links == 1:
            return True
        group = frozenset(nodeids)
        for i in group:
            connected = self.node(i)._connected_links()
            if connected is None:
                return False
            for j in group - {i}:
                if any((j, link) not in connected for link in self._network.shared_links(i, j)):
                    return False
        return True

    def _and_links(self) -> str:
        return f", with their {self.links} links connected" if self.links > 1 else ""

    def _wait_back(self, node: Node, timeout: float) -> None:
        """Wait until ``node`` and the nodes it can reach agree on their membership."""
        everyone = [n.nodeid for n in self._nodes]
        reachable = self._network.reachable(node.nodeid, everyone)
        peers = frozenset(i for i in reachable if self.node(i).alive)
        quorate = options.expect_quorate(peers, self._votes, self.quorum, self.qdevice)

        def back() -> bool:
            if not node.alive:
                raise ClusterError(
                    f"the corosync daemon of node {node.nodeid} exited\n{self.describe()}"
                )
            # The restarted node first: until it answers, asking the others is pointless.
            for nodeid in sorted(peers, key=lambda i: i != node.nodeid):
                if not _formed(self.node(nodeid)._view(), peers, quorate):
                    return False
            return self._links_connected(peers)

        self.wait_for(
            back,
            timeout,
            f"node {node.nodeid} to serve clients, with nodes {sorted(peers)}"
            f" {_state(quorate)}members{self._and_links()}",
        )


def _formed(view: _View | None, members: frozenset[int], quorate: bool | None) -> bool:
    """Whether a node's view shows exactly ``members``, and ``quorate`` unless None."""
    if view is None or view.members != members:
        return False
    return quorate is None or view.quorate == quorate


def _state(quorate: bool | None) -> str:
    return "" if quorate is None else "quorate " if quorate else "inquorate "
