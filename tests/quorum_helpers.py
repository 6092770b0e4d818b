"""Recording Quorum and Votequorum callbacks, pumping handles until something happened, and a
Python quorum device polled from a thread of its own, as corosync-qdevice polls (test helpers)."""

from __future__ import annotations

import select
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import cpg_events
from cpg_events import Dispatchable

import corosync
from corosync import DispatchFlags, RingId, TrackFlags
from corosync.cmap import CmapMap
from corosync.quorum import Quorum, QuorumNodelist, QuorumNotify
from corosync.testing import Cluster, Node, QdeviceOptions, QuorumStatus
from corosync.votequorum import (
    ExpectedVotes,
    NodeState,
    NodeStatus,
    Votequorum,
    VotequorumNodelist,
    VotequorumNotify,
)

QuorumEvent = QuorumNotify | QuorumNodelist
VotequorumEvent = VotequorumNotify | VotequorumNodelist | ExpectedVotes

MEMBER, DEAD = NodeState.MEMBER, NodeState.DEAD


@dataclass
class QuorumRecorder:
    """Collects the callbacks of the Quorum handles it is attached to, as the events corosync.aio
    would yield for them."""

    events: list[QuorumEvent] = field(default_factory=list)

    def attach(self, quorum: Quorum) -> Quorum:
        quorum.on_notify = self.on_notify
        quorum.on_nodelist = self.on_nodelist
        return quorum

    def on_notify(self, quorate: bool, ring_id: RingId, members: list[int]) -> None:
        self.events.append(QuorumNotify(quorate, ring_id, members))

    def on_nodelist(
        self, ring_id: RingId, members: list[int], joined: list[int], left: list[int]
    ) -> None:
        self.events.append(QuorumNodelist(ring_id, members, joined, left))

    def notifies(self) -> list[QuorumNotify]:
        return [e for e in self.events if isinstance(e, QuorumNotify)]

    def take(self) -> list[QuorumEvent]:
        """The events so far, forgotten."""
        taken, self.events = self.events, []
        return taken


@dataclass
class VotequorumRecorder:
    """Collects the callbacks of the Votequorum handles it is attached to; a notification's
    nodes are kept sorted by node id (corosync's own order puts the local node last)."""

    events: list[VotequorumEvent] = field(default_factory=list)

    def attach(self, votequorum: Votequorum) -> Votequorum:
        votequorum.on_notify = self.on_notify
        votequorum.on_nodelist = self.on_nodelist
        votequorum.on_expectedvotes = self.on_expectedvotes
        return votequorum

    def on_notify(self, quorate: bool, ring_id: RingId, nodes: list[NodeStatus]) -> None:
        self.events.append(VotequorumNotify(quorate, ring_id, sorted_nodes(nodes)))

    def on_nodelist(self, ring_id: RingId, nodes: list[int]) -> None:
        self.events.append(VotequorumNodelist(ring_id, nodes))

    def on_expectedvotes(self, expected_votes: int) -> None:
        self.events.append(ExpectedVotes(expected_votes))

    def notifies(self) -> list[VotequorumNotify]:
        return [e for e in self.events if isinstance(e, VotequorumNotify)]

    def take(self) -> list[VotequorumEvent]:
        taken, self.events = self.events, []
        return taken


def members_of(event: QuorumEvent | VotequorumEvent) -> list[int] | None:
    """The members a ring or quorum event names (a Votequorum notification: its MEMBER
    nodes); None for ExpectedVotes."""
    match event:
        case QuorumNodelist(members=members) | QuorumNotify(members=members):
            return members
        case VotequorumNodelist(nodes=nodes):
            return nodes
        case VotequorumNotify(nodes=nodes):
            return sorted(n.nodeid for n in nodes if n.state == MEMBER)
    return None


def restates(event: QuorumEvent | VotequorumEvent, members: list[int], quorate: bool) -> bool:
    """Whether `event` only says again what was known: a ring re-formed with the same `members`
    (totem re-forms one while links come back, before the partitions merge), nobody joined or
    left, and quorum stayed `quorate`."""
    if members_of(event) != members:
        return False
    match event:
        case QuorumNodelist(joined=joined, left=left):
            return joined == left == []
        case QuorumNotify(quorate=q) | VotequorumNotify(quorate=q):
            return q == quorate
    return isinstance(event, VotequorumNodelist)


def sorted_nodes(nodes: Iterable[NodeStatus]) -> list[NodeStatus]:
    return sorted(nodes, key=lambda n: n.nodeid)


def statuses(states: Mapping[int, NodeState | int]) -> list[NodeStatus]:
    """``{1: MEMBER, 3: DEAD}`` as the sorted NodeStatus list of a notification."""
    return [NodeStatus(nodeid, state) for nodeid, state in sorted(states.items())]


def sorted_notify(event: VotequorumNotify) -> VotequorumNotify:
    """A notification (from corosync.aio, in corosync's order) with its nodes sorted."""
    return replace(event, nodes=sorted_nodes(event.nodes))


def pump(
    handles: Sequence[Dispatchable],
    until: Callable[[], bool],
    *,
    timeout: float = 20.0,
    what: str = "the expected events",
) -> None:
    """cpg_events.pump, with the longer default a ring change through the cluster needs."""
    cpg_events.pump(handles, until, timeout=timeout, what=what)


def eventually(predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Wait until ``predicate()`` holds (what corosync applies through the cluster, after the
    call that asked for it returned)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def wait_cut_off(cluster: Cluster, nodeid: int, timeout: float = 15.0) -> None:
    """After ``cluster.isolate(nodeid)``: wait until knet, on both sides, has marked the links
    between the node and the others down. That comes about half a second after the new rings:
    a heal before it makes a messy merge, where totem may split the surviving nodes too (node
    1 then reports node 2 left and joined again)."""
    pairs = [(nodeid, n.nodeid) for n in cluster.nodes if n.nodeid != nodeid]
    pairs += [(b, a) for a, b in pairs]

    def connected(node: int, peer: int) -> int:
        with cluster.node(node).connect(corosync.CMAP, CmapMap.STATS) as stats:
            value = stats[f"stats.knet.node{peer}.link0.connected"]
        assert isinstance(value, int)
        return value

    eventually(
        lambda: not any(connected(a, b) for a, b in pairs),
        f"knet to mark the links of node {nodeid} down",
        timeout,
    )


def status(node: Node) -> QuorumStatus:
    """``corosync-quorumtool -s`` of a node that answers."""
    got = node.quorum_status()
    assert got is not None, f"node {node.nodeid} does not answer corosync-quorumtool"
    return got


def device_decides_quorum() -> Cluster:
    """A one-node cluster whose quorum device has 1 vote beside the node's (quorum 2): the
    node is quorate only while a registered device casts its vote. A poll keeps the vote
    for 120 s: a whole test."""
    return Cluster(1, qdevice=QdeviceOptions(votes=1, timeout_ms=120_000))


def ring_of(node: Node) -> RingId:
    """The node's current ring id, as corosync-quorumtool prints it."""
    return RingId(*status(node).ring_id)


class Qdevice:
    """A quorum device on a node, as corosync-qdevice runs one: a Votequorum handle that
    registers `name` and, once :meth:`cast` was called, polls from a thread of its own every
    `interval` seconds and at once on each new ring, with the ring id of the last on_nodelist
    (corosync refuses any other). What a poll raised is kept in `errors`."""

    def __init__(self, node: Node, name: str, *, interval: float = 0.25) -> None:
        self.name = name
        self.interval = interval
        self.ring: RingId | None = None
        self.rings: list[RingId] = []
        self.errors: list[corosync.CorosyncError] = []
        self._cast_vote: bool | None = None  # None: not polling
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.handle = node.connect(Votequorum, on_nodelist=self._on_nodelist)
        self.handle.trackstart(TrackFlags.CURRENT | TrackFlags.CHANGES)
        self._thread = threading.Thread(target=self._run, name=f"qdevice {name}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while self.ring is None:
            assert time.monotonic() < deadline, "no nodelist notification after trackstart"
            time.sleep(0.01)

    def _on_nodelist(self, ring_id: RingId, nodes: list[int]) -> None:
        self.ring = ring_id
        self.rings.append(ring_id)

    def register(self) -> None:
        self.handle.qdevice_register(self.name)

    def cast(self, cast_vote: bool | None = True) -> None:
        """Poll from now on, casting the vote or not; None stops polling."""
        with self._lock:
            self._cast_vote = cast_vote
            if cast_vote is not None:
                self._poll(cast_vote)

    def rename(self, new_name: str) -> None:
        with self._lock:
            self.handle.qdevice_update(self.name, new_name)
            self.name = new_name

    def _poll(self, cast_vote: bool) -> None:
        assert self.ring is not None
        try:
            self.handle.qdevice_poll(self.name, cast_vote, self.ring)
        except corosync.CorosyncError as e:
            self.errors.append(e)

    def _run(self) -> None:
        polled_at, polled_ring = 0.0, None
        while not self._stop.is_set():
            try:
                if select.select([self.handle], [], [], 0.05)[0]:
                    self.handle.dispatch(DispatchFlags.ALL)
            except corosync.CorosyncError as e:  # the daemon is gone: nothing left to do
                self.errors.append(e)
                return
            with self._lock:
                due = time.monotonic() - polled_at >= self.interval or self.ring != polled_ring
                if self._cast_vote is not None and due:
                    self._poll(self._cast_vote)
                    polled_at, polled_ring = time.monotonic(), self.ring

    def close(self) -> None:
        """Stop polling, unregister (if registered) and close the handle."""
        self._stop.set()
        self._thread.join()
        if not self.handle.closed:
            try:
                self.handle.qdevice_unregister(self.name)
            except (corosync.NotExistError, corosync.LibraryError):
                pass
            self.handle.close()
