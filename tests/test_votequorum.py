"""corosync.Votequorum against real one- and two-node clusters: info() against
corosync-quorumtool, what corosync refuses of set_expected, set_votes and info (and with which
code), what the binding refuses before calling corosync, the callbacks' exact contents and
exceptions and a closed handle. (The daemon killed under an open handle:
test_daemon_loss.py.)

corosync 3.1's answers (votequorum.c, checked here): info() of a node it does not know is
CS_ERR_NOT_EXIST, set_votes() of one CS_ERR_NAME_NOT_FOUND; set_expected(n) is
CS_ERR_INVALID_PARAM when n is below the votes present, or when the node is quorate and the
quorum n asks for, (n + 2) // 2, is more than them; set_votes() is CS_ERR_INVALID_PARAM when
the quorum it leaves is more than the votes present (or, its 32-bit sum wrapping around, less
than half of them). The quorum-device calls are in test_votequorum_qdevice.py."""

from __future__ import annotations

import re
import select
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from quorum_helpers import MEMBER, VotequorumRecorder, pump, ring_of, status

import corosync
from corosync import CsError, RingId, TrackFlags
from corosync.testing import Cluster, Node
from corosync.votequorum import (
    ExpectedVotes,
    InfoFlag,
    NodeInfo,
    NodeState,
    NodeStatus,
    Votequorum,
    VotequorumNodelist,
    VotequorumNotify,
)

OpenVotequorum = Callable[..., Votequorum]
UINT32_MAX = 2**32 - 1


def opener(node: Node) -> Iterator[OpenVotequorum]:
    handles: list[Votequorum] = []

    def factory(**kwargs: Any) -> Votequorum:
        handles.append(node.connect(Votequorum, **kwargs))
        return handles[-1]

    yield factory
    for handle in handles:
        handle.close()


@pytest.fixture
def open_vq(corosync_node: Node) -> Iterator[OpenVotequorum]:
    """Opens Votequorum handles on the one-node cluster; closes them after the test."""
    yield from opener(corosync_node)


@pytest.fixture
def fresh(corosync_node: Node) -> Iterator[Node]:
    """The one-node cluster's node, for a test that changes its votes or expected votes: its
    daemon is restarted after the test (corosync never lowers them back by itself)."""
    yield corosync_node
    corosync_node.cluster.restart(1)


def test_info_matches_corosync_quorumtool(open_vq: OpenVotequorum, corosync_node: Node) -> None:
    vq = open_vq()
    got, shown = vq.info(), status(corosync_node)
    assert got == NodeInfo(
        nodeid=shown.nodeid,
        state=NodeState.MEMBER,
        votes=shown.votes[1],
        expected_votes=shown.expected_votes,
        highest_expected=shown.highest_expected,
        total_votes=shown.total_votes,
        quorum=shown.quorum,
        flags=InfoFlag.QUORATE,
        qdevice_votes=0,
        qdevice_name="",
    )
    assert shown.flags == {"Quorate"} and shown.qdevice is None
    assert (got.nodeid, got.votes, got.expected_votes, got.total_votes, got.quorum) == (
        1,
        1,
        1,
        1,
        1,
    )
    assert type(got.state) is NodeState and type(got.flags) is InfoFlag
    assert vq.info(0) == vq.info(1) == got  # 0 is this node
    assert (repr(vq), vq.closed, vq.retry_timeout) == ("<corosync.Votequorum>", False, 3.0)


@pytest.mark.parametrize("nodeid", [2, 99, UINT32_MAX])
def test_info_of_a_node_corosync_does_not_know_raises_not_exist_error(
    open_vq: OpenVotequorum, nodeid: int
) -> None:
    with pytest.raises(corosync.NotExistError) as info:
        open_vq().info(nodeid)
    assert (info.value.code, info.value.function) == (CsError.NOT_EXIST, "votequorum_getinfo")
    assert isinstance(info.value, KeyError)


def test_the_callbacks_report_the_ring_the_node_and_its_state(
    open_vq: OpenVotequorum, corosync_node: Node
) -> None:
    recorder = VotequorumRecorder()
    vq = recorder.attach(open_vq())
    vq.trackstart(TrackFlags.CURRENT)
    pump([vq], lambda: len(recorder.events) >= 2)
    ring = ring_of(corosync_node)
    assert recorder.events == [
        VotequorumNodelist(ring, [1]),
        VotequorumNotify(True, ring, [NodeStatus(1, NodeState.MEMBER)]),
    ]


class Boom(Exception):
    pass


def test_an_exception_in_a_callback_comes_out_of_dispatch_and_the_later_events_stay(
    open_vq: OpenVotequorum, corosync_node: Node
) -> None:
    seen: list[object] = []

    def on_nodelist(ring_id: RingId, nodes: list[int]) -> None:
        seen.append(VotequorumNodelist(ring_id, nodes))
        raise Boom("from on_nodelist")

    vq = open_vq(on_nodelist=on_nodelist, on_notify=lambda *args: seen.append(args))
    vq.trackstart(TrackFlags.CURRENT)
    assert select.select([vq], [], [], 10)[0]
    with pytest.raises(Boom, match=r"^from on_nodelist$"):
        vq.dispatch()
    ring = ring_of(corosync_node)
    assert seen == [VotequorumNodelist(ring, [1])]
    pump([vq], lambda: len(seen) == 2)
    # The notification still carries the ring of the nodelist whose callback raised.
    assert seen[1] == (True, ring, [NodeStatus(1, NodeState.MEMBER)])


def test_tracking_twice_and_stopping_without_tracking_are_refused(open_vq: OpenVotequorum) -> None:
    vq = open_vq()
    with pytest.raises(corosync.NotExistError) as stop:
        vq.trackstop()
    assert (stop.value.code, stop.value.function) == (CsError.NOT_EXIST, "votequorum_trackstop")
    vq.trackstart(TrackFlags.CHANGES_ONLY)
    with pytest.raises(corosync.ExistError) as again:
        vq.trackstart(TrackFlags.CHANGES_ONLY)
    assert (again.value.code, again.value.function) == (CsError.EXIST, "votequorum_trackstart")
    vq.trackstop()
    for flags in (0, 8):
        with pytest.raises(
            ValueError, match=f"^flags must be a TrackFlags \\(1 to 7\\), not {flags}$"
        ):
            vq.trackstart(flags)  # type: ignore[arg-type]


def expect_refused(
    call: Callable[[], object], error: type[corosync.CorosyncError], code: CsError
) -> str:
    """Runs a call corosync must refuse with `code`; the C function named by the error."""
    with pytest.raises(error) as info:
        call()
    assert info.value.code == code
    return info.value.function


def test_set_expected_and_set_votes_refuse_what_corosync_refuses(
    fresh: Node, open_vq: OpenVotequorum
) -> None:
    recorder = VotequorumRecorder()
    vq = recorder.attach(open_vq())
    vq.trackstart(TrackFlags.CHANGES_ONLY)
    # corosync applies a change once the cluster has seen it; its notification says so.
    vq.set_votes(3, 1)  # 3 votes: expected votes follow them up to 3, quorum 2
    pump([vq], lambda: ExpectedVotes(3) in recorder.events)
    refused: list[tuple[str, Callable[[], object], str]] = [
        ("0 expected votes", lambda: vq.set_expected(0), "votequorum_setexpected"),
        ("below the 3 votes present", lambda: vq.set_expected(2), "votequorum_setexpected"),
        ("quorum 4 of 3 votes present", lambda: vq.set_expected(6), "votequorum_setexpected"),
        ("no votes left to be quorate", lambda: vq.set_votes(0, 1), "votequorum_setvotes"),
        ("quorum 2 of 1 vote present", lambda: vq.set_votes(1, 1), "votequorum_setvotes"),
        ("a sum that wraps", lambda: vq.set_votes(UINT32_MAX, 1), "votequorum_setvotes"),
    ]
    for why, call, function in refused:
        got = expect_refused(call, corosync.InvalidParamError, CsError.INVALID_PARAM)
        assert got == function, why
    assert (
        expect_refused(
            lambda: vq.set_votes(1, 99), corosync.NameNotFoundError, CsError.NAME_NOT_FOUND
        )
        == "votequorum_setvotes"
    )
    info = vq.info()
    assert (info.votes, info.expected_votes, info.total_votes, info.quorum) == (3, 3, 3, 2)
    vq.set_expected(5)  # quorum (5 + 2) // 2 = 3 of 3 present: still quorate
    pump([vq], lambda: ExpectedVotes(5) in recorder.events)
    shown = status(fresh)
    assert (shown.expected_votes, shown.highest_expected, shown.quorum) == (5, 5, 3)
    assert shown.quorate and shown.votes == {1: 3}
    vq.set_expected(4)
    # One notification per accepted change, none for the refused ones; corosync sends them in
    # the order of the changes, so the last one's arrival means no other is coming.
    pump([vq], lambda: ExpectedVotes(4) in recorder.events)
    assert recorder.events == [ExpectedVotes(3), ExpectedVotes(5), ExpectedVotes(4)]
    assert InfoFlag.QUORATE in vq.info().flags


def test_set_votes_without_a_node_id_sets_this_nodes_votes(
    fresh: Node, open_vq: OpenVotequorum
) -> None:
    # set_votes(votes, nodeid=0): "nodeid 0 is this node". corosync's own votequorum_setvotes
    # takes node id 0 for the quorum device (VOTEQUORUM_QDEVICE_NODEID).
    vq = open_vq()
    vq.set_votes(2)
    got = vq.info()
    assert (got.votes, got.qdevice_votes) == (2, 0)
    assert status(fresh).votes == {1: 2}


@pytest.mark.parametrize("votes", [UINT32_MAX - 1, UINT32_MAX])
def test_expected_votes_whose_quorum_wraps_around_are_refused(
    fresh: Node, open_vq: OpenVotequorum, votes: int
) -> None:
    # corosync computes the quorum as (expected + 2) / 2 in 32 bits: for these two the sum
    # wraps, the quorum comes out as the votes present, and corosync 3.1 accepts them (and
    # corosync-quorumtool then prints "Expected votes: -1").
    vq = open_vq()
    with pytest.raises(corosync.InvalidParamError):
        vq.set_expected(votes)
    assert vq.info().expected_votes == 1
    assert status(fresh).expected_votes == 1


CONVERSIONS: list[tuple[str, Callable[[Votequorum], object], str, int]] = [
    ("info-negative", lambda vq: vq.info(-1), "nodeid", -1),
    ("info-2**32", lambda vq: vq.info(2**32), "nodeid", 2**32),
    ("set_expected-negative", lambda vq: vq.set_expected(-1), "votes", -1),
    ("set_expected-2**32", lambda vq: vq.set_expected(2**32), "votes", 2**32),
    ("set_votes-negative", lambda vq: vq.set_votes(-2), "votes", -2),
    ("set_votes-2**40", lambda vq: vq.set_votes(2**40), "votes", 2**40),
    ("set_votes-nodeid-negative", lambda vq: vq.set_votes(1, -1), "nodeid", -1),
    ("set_votes-nodeid-2**32", lambda vq: vq.set_votes(1, nodeid=2**32), "nodeid", 2**32),
]


@pytest.mark.parametrize(
    ("call", "parameter", "value"), [c[1:] for c in CONVERSIONS], ids=[c[0] for c in CONVERSIONS]
)
def test_numbers_outside_32_bits_raise_overflow_error_naming_the_parameter(
    open_vq: OpenVotequorum, call: Callable[[Votequorum], object], parameter: str, value: int
) -> None:
    vq = open_vq()
    with pytest.raises(OverflowError) as info:
        call(vq)
    message = str(info.value)
    assert "\n" not in message, message
    assert re.search(rf"\b{parameter}\b", message), message
    assert str(value) in message and str(UINT32_MAX) in message, message
    assert vq.info().votes == 1  # nothing reached corosync


def test_arguments_of_the_wrong_type_get_one_line(open_vq: OpenVotequorum) -> None:
    vq = open_vq()
    wrong: dict[str, Callable[[], object]] = {
        "info() argument 'nodeid' must be int, not str": lambda: vq.info("1"),  # type: ignore[arg-type]
        "set_expected() argument 'votes' must be int, not float": lambda: vq.set_expected(3.0),  # type: ignore[arg-type]
        "set_votes() argument 'nodeid' must be int, not NoneType": lambda: vq.set_votes(1, None),  # type: ignore[arg-type]
        "set_votes() missing required argument 'votes'": lambda: vq.set_votes(),  # type: ignore[call-arg]
    }
    for message, call in wrong.items():
        with pytest.raises(TypeError) as info:
            call()
        assert str(info.value) == message


def test_a_closed_handle_raises_closed_error_for_every_method(open_vq: OpenVotequorum) -> None:
    vq = open_vq(on_notify=print, on_nodelist=print, on_expectedvotes=print)
    vq.close()
    vq.close()
    assert vq.closed and repr(vq) == "<corosync.Votequorum closed>"
    assert (vq.on_notify, vq.on_nodelist, vq.on_expectedvotes) == (None, None, None)
    ring = RingId(1, 1)
    calls: dict[str, Callable[[], object]] = {
        "info": lambda: vq.info(),
        "set_expected": lambda: vq.set_expected(1),
        "set_votes": lambda: vq.set_votes(1, 1),
        "trackstart": lambda: vq.trackstart(),
        "trackstop": lambda: vq.trackstop(),
        "qdevice_register": lambda: vq.qdevice_register("d"),
        "qdevice_unregister": lambda: vq.qdevice_unregister("d"),
        "qdevice_update": lambda: vq.qdevice_update("d", "e"),
        "qdevice_poll": lambda: vq.qdevice_poll("d", True, ring),
        "qdevice_master_wins": lambda: vq.qdevice_master_wins("d", True),
        "dispatch": lambda: vq.dispatch(),
        "fileno": lambda: vq.fileno(),
        "enter": lambda: vq.__enter__(),
        "on_expectedvotes": lambda: setattr(vq, "on_expectedvotes", print),
    }
    for name, call in calls.items():
        with pytest.raises(corosync.ClosedError) as info:
            call()
        assert info.value.code == CsError.BAD_HANDLE, name


# --- another node: a two-node cluster -----------------------------------------------------


@pytest.fixture(scope="class")
def pair() -> Iterator[Cluster]:
    with Cluster(2) as cluster:
        yield cluster


class TestAnotherNode:
    def test_info_of_another_node_is_what_it_says_of_itself(self, pair: Cluster) -> None:
        with pair.node(1).connect(Votequorum) as one, pair.node(2).connect(Votequorum) as two:
            theirs = one.info(2)
            assert theirs == two.info()
            assert (theirs.nodeid, theirs.state, theirs.votes, theirs.expected_votes) == (
                2,
                MEMBER,
                1,
                2,
            )
            assert (theirs.total_votes, theirs.quorum, theirs.flags) == (2, 2, InfoFlag.QUORATE)
            assert one.info() == two.info(1)
            with pytest.raises(corosync.NotExistError):
                one.info(3)  # not in the cluster
