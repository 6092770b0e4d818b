"""Quorum and Votequorum across a real three-node cluster, with a Quorum and a Votequorum handle
on every node: quorate at start; a node cut off loses quorum and is told so while the other two
keep it and see it leave; healing brings all three back on one new ring; a killed node is
DEAD to votequorum; set_expected and set_votes change what corosync-quorumtool prints and are
reported on every node. The clusters with other votes and quorum options are in
test_quorum_options_cluster.py."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import pytest
from quorum_helpers import (
    DEAD,
    MEMBER,
    QuorumEvent,
    QuorumRecorder,
    VotequorumEvent,
    VotequorumRecorder,
    members_of,
    pump,
    restates,
    ring_of,
    status,
    statuses,
    wait_cut_off,
)

import corosync
from corosync import RingId, TrackFlags
from corosync.quorum import Quorum, QuorumNodelist, QuorumNotify
from corosync.testing import Cluster
from corosync.votequorum import (
    ExpectedVotes,
    InfoFlag,
    NodeState,
    Votequorum,
    VotequorumNodelist,
    VotequorumNotify,
)

NODES = (1, 2, 3)


@dataclass
class Handles:
    """A tracked Quorum and Votequorum handle on every node, with their recorders."""

    quorum: dict[int, Quorum] = field(default_factory=dict)
    votequorum: dict[int, Votequorum] = field(default_factory=dict)
    q: dict[int, QuorumRecorder] = field(default_factory=dict)
    v: dict[int, VotequorumRecorder] = field(default_factory=dict)

    def pump(self, until: dict[int, object], what: str, nodes: tuple[int, ...] = NODES) -> None:
        """Dispatch until every node in `nodes` has recorded the event until[node] (a Quorum
        or Votequorum event) among its events."""

        def there() -> bool:
            return all(until[n] in [*self.q[n].events, *self.v[n].events] for n in nodes)

        pump(self.handles(nodes), there, what=what)

    def pump_notifications(self, what: str) -> None:
        """Dispatch until every handle has recorded a quorum notification."""
        pump(self.handles(), lambda: all(r.notifies() for r in self.recorders()), what=what)

    def handles(self, nodes: tuple[int, ...] = NODES) -> list[Quorum | Votequorum]:
        return [*(self.quorum[n] for n in nodes), *(self.votequorum[n] for n in nodes)]

    def recorders(self) -> list[QuorumRecorder | VotequorumRecorder]:
        return [*self.q.values(), *self.v.values()]


@pytest.fixture
def handles(corosync_healthy_cluster: Cluster) -> Iterator[Handles]:
    """Handles on the whole, quorate cluster, tracking changes, the state at start taken."""
    opened = Handles()
    for nodeid in NODES:
        node = corosync_healthy_cluster.node(nodeid)
        opened.q[nodeid], opened.v[nodeid] = QuorumRecorder(), VotequorumRecorder()
        opened.quorum[nodeid] = opened.q[nodeid].attach(node.connect(Quorum))
        opened.votequorum[nodeid] = opened.v[nodeid].attach(node.connect(Votequorum))
        opened.quorum[nodeid].trackstart(TrackFlags.CHANGES)
        opened.votequorum[nodeid].trackstart(TrackFlags.CHANGES)
    pump(opened.handles(), lambda: all(len(r.events) == 2 for r in opened.recorders()))
    yield opened
    for handle in opened.handles():
        handle.close()


def told_of(events: Sequence[QuorumEvent | VotequorumEvent], members: list[int]) -> bool:
    """Whether the last of `events` is a quorum notification naming exactly `members`."""
    last = events[-1:]
    return bool(last) and is_notify(last[0]) and members_of(last[0]) == members


def is_notify(event: object) -> bool:
    return isinstance(event, QuorumNotify | VotequorumNotify)


def everyone(state: NodeState, but: Mapping[int, NodeState] | None = None) -> dict[int, NodeState]:
    """Every node's state in a notification: `state`, but for the nodes in `but`."""
    return dict.fromkeys(NODES, state) | dict(but or {})


def test_every_node_is_quorate_at_start_on_one_ring(
    corosync_cluster: Cluster, handles: Handles
) -> None:
    ring = ring_of(corosync_cluster.node(1))
    for nodeid in NODES:
        shown = status(corosync_cluster.node(nodeid))
        assert RingId(*shown.ring_id) == ring
        assert handles.quorum[nodeid].quorate is True
        info = handles.votequorum[nodeid].info()
        assert info.flags == InfoFlag.QUORATE and shown.flags == {"Quorate"}
        counts = (info.votes, info.expected_votes, info.total_votes, info.quorum)
        assert counts == (1, 3, 3, 2) == (shown.votes[nodeid], *shown_counts(shown))
        assert handles.q[nodeid].take() == [
            QuorumNodelist(ring, [1, 2, 3], [], []),
            QuorumNotify(True, ring, [1, 2, 3]),
        ]
        assert handles.v[nodeid].take() == [
            VotequorumNodelist(ring, [1, 2, 3]),
            VotequorumNotify(True, ring, statuses(everyone(MEMBER))),
        ]


def shown_counts(shown: corosync.testing.QuorumStatus) -> tuple[int, int, int]:
    return (shown.expected_votes, shown.total_votes, shown.quorum)


def test_a_node_cut_off_loses_quorum_and_healing_brings_all_back_on_one_new_ring(
    corosync_cluster: Cluster, handles: Handles
) -> None:
    before = ring_of(corosync_cluster.node(1))
    for recorder in handles.recorders():
        recorder.take()
    corosync_cluster.isolate(3)
    # Node 3 ends alone and inquorate, nodes 1 and 2 quorate: one notification each.
    handles.pump_notifications("the quorum notifications after the cut")
    lone, pair = handles.q[3].events[0].ring_id, handles.q[1].events[0].ring_id
    assert lone.nodeid == 3 and lone != pair and min(lone.seq, pair.seq) > before.seq
    assert handles.q[3].events[:2] == [
        QuorumNodelist(lone, [3], [], [1, 2]),
        QuorumNotify(False, lone, [3]),
    ]
    assert handles.v[3].events[:2] == [
        VotequorumNodelist(lone, [3]),
        VotequorumNotify(False, lone, statuses(everyone(DEAD, {3: MEMBER}))),
    ]
    for nodeid in (1, 2):
        assert handles.q[nodeid].events[:2] == [
            QuorumNodelist(pair, [1, 2], [], [3]),
            QuorumNotify(True, pair, [1, 2]),
        ]
        assert handles.v[nodeid].events[:2] == [
            VotequorumNodelist(pair, [1, 2]),
            VotequorumNotify(True, pair, statuses(everyone(MEMBER, {3: DEAD}))),
        ]
        assert handles.quorum[nodeid].quorate is True
        assert status(corosync_cluster.node(nodeid)).quorate
    assert handles.quorum[3].quorate is False
    assert InfoFlag.QUORATE not in handles.votequorum[3].info().flags
    assert not status(corosync_cluster.node(3)).quorate
    for recorder in handles.recorders():
        del recorder.events[:2]  # what is left can only say the same again (see below)

    wait_cut_off(corosync_cluster, 3)
    corosync_cluster.heal()
    whole = [1, 2, 3]
    pump(
        handles.handles(),
        lambda: all(told_of(r.events, whole) for r in handles.recorders()),
        what="every node to be told of the whole cluster again",
    )
    ring = handles.q[1].events[-1].ring_id  # the last notification's
    assert ring.seq > max(pair.seq, lone.seq)
    assert ring_of(corosync_cluster.node(1)) == ring
    was = {1: ([1, 2], True), 2: ([1, 2], True), 3: ([3], False)}
    joined = {1: [3], 2: [3], 3: [1, 2]}
    for nodeid in NODES:
        *between, last_list, last_notify = handles.q[nodeid].events
        assert [last_list, last_notify] == [
            QuorumNodelist(ring, whole, joined[nodeid], []),
            QuorumNotify(True, ring, whole),
        ]
        *v_between, v_list, v_notify = handles.v[nodeid].events
        assert [v_list, v_notify] == [
            VotequorumNodelist(ring, whole),
            VotequorumNotify(True, ring, statuses(everyone(MEMBER))),
        ]
        # Before the merge, the partitions may re-form their rings as the links come back:
        # nothing but the partition's own membership said again.
        for event in [*between, *v_between]:
            assert restates(event, *was[nodeid]), event
        assert handles.quorum[nodeid].quorate is True


def test_set_expected_and_set_votes_show_in_quorumtool_and_are_reported_everywhere(
    corosync_cluster: Cluster, handles: Handles
) -> None:
    for recorder in handles.recorders():
        recorder.take()
    try:
        handles.votequorum[1].set_votes(2, nodeid=3)  # 4 votes: expected votes follow
        handles.pump(dict.fromkeys(NODES, ExpectedVotes(4)), "expected votes 4")
        for nodeid in NODES:
            shown = status(corosync_cluster.node(nodeid))
            assert shown.votes == {1: 1, 2: 1, 3: 2}
            assert shown_counts(shown) == (4, 4, 3) and shown.quorate
            assert handles.votequorum[nodeid].info(3).votes == 2
        handles.votequorum[2].set_expected(5)  # quorum (5 + 2) // 2 = 3 of 4
        handles.pump(dict.fromkeys(NODES, ExpectedVotes(5)), "expected votes 5")
        for nodeid in NODES:
            shown = status(corosync_cluster.node(nodeid))
            assert (shown.expected_votes, shown.highest_expected, shown.quorum) == (5, 5, 3)
        handles.votequorum[3].set_votes(1, nodeid=3)  # lower: no notification
        handles.votequorum[3].set_expected(3)
        handles.pump(dict.fromkeys(NODES, ExpectedVotes(3)), "expected votes 3")
        for nodeid in NODES:
            assert handles.v[nodeid].take() == [
                ExpectedVotes(4),
                ExpectedVotes(5),
                ExpectedVotes(3),
            ]
            shown = status(corosync_cluster.node(nodeid))
            assert shown.votes == {1: 1, 2: 1, 3: 1} and shown_counts(shown) == (3, 3, 2)
        for quorum_recorder in handles.q.values():  # quorum never changed
            assert quorum_recorder.take() == []
    finally:
        if any(
            status(n).expected_votes != 3 or set(status(n).votes.values()) != {1}
            for n in corosync_cluster.nodes
        ):
            for node in corosync_cluster.nodes:  # corosync lowers nothing by itself
                corosync_cluster.kill(node.nodeid)
            corosync_cluster.reset()


# Last: the node it kills is restarted by the next module's use of the cluster (reset).
def test_a_killed_node_is_dead_to_votequorum_and_left_to_quorum(
    corosync_cluster: Cluster, handles: Handles
) -> None:
    corosync_cluster.kill(3)
    pump(
        [handles.quorum[n] for n in (1, 2)] + [handles.votequorum[n] for n in (1, 2)],
        lambda: all(
            len(handles.q[n].events) >= 4 and len(handles.v[n].events) >= 4 for n in (1, 2)
        ),
        what="the notifications of the loss",
    )
    ring = ring_of(corosync_cluster.node(1))
    for nodeid in (1, 2):
        assert handles.q[nodeid].events[2:] == [
            QuorumNodelist(ring, [1, 2], [], [3]),
            QuorumNotify(True, ring, [1, 2]),
        ]
        assert handles.v[nodeid].events[2:] == [
            VotequorumNodelist(ring, [1, 2]),
            VotequorumNotify(True, ring, statuses(everyone(MEMBER, {3: DEAD}))),
        ]
        dead = handles.votequorum[nodeid].info(3)
        assert (dead.nodeid, dead.state, dead.votes) == (3, DEAD, 1)
        shown = status(corosync_cluster.node(nodeid))
        assert shown.members == {1, 2} and shown_counts(shown) == (3, 2, 2)
    for call in (lambda: handles.quorum[3].quorate, lambda: handles.votequorum[3].info()):
        with pytest.raises(corosync.LibraryError):
            call()
