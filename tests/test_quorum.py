"""corosync.Quorum against real one-node clusters: the quorum type and state, what trackstart
reports (CURRENT, CHANGES, CHANGES_ONLY) and what trackstop ends, callbacks' exceptions, a
closed handle and bad flags. (The daemon killed under an open handle: test_daemon_loss.py.)

A one-node cluster's quorum changes only through a quorum device: TestTracking's cluster has
one (``QdeviceOptions(votes=1)``: 2 votes expected, so the node is quorate only while the
device casts its vote) and flips quorum by polling with ``cast_vote`` True or False."""

from __future__ import annotations

import select
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from quorum_helpers import QuorumRecorder, pump, ring_of, status

import corosync
from corosync import CsError, DispatchFlags, RingId, TrackFlags
from corosync.quorum import Quorum, QuorumNodelist, QuorumNotify, QuorumType
from corosync.testing import Cluster, Node, QdeviceOptions
from corosync.votequorum import Votequorum

OpenQuorum = Callable[..., Quorum]
CURRENT, CHANGES, CHANGES_ONLY = TrackFlags.CURRENT, TrackFlags.CHANGES, TrackFlags.CHANGES_ONLY


def opener(node: Node) -> Iterator[OpenQuorum]:
    handles: list[Quorum] = []

    def factory(**kwargs: Any) -> Quorum:
        handles.append(node.connect(Quorum, **kwargs))
        return handles[-1]

    yield factory
    for handle in handles:
        handle.close()


@pytest.fixture
def open_quorum(corosync_node: Node) -> Iterator[OpenQuorum]:
    """Opens Quorum handles on the plain one-node cluster; closes them after the test."""
    yield from opener(corosync_node)


def tracked(open_quorum: OpenQuorum, flags: TrackFlags) -> tuple[Quorum, QuorumRecorder]:
    recorder = QuorumRecorder()
    quorum = recorder.attach(open_quorum())
    quorum.trackstart(flags)
    return quorum, recorder


def current_state(node: Node, quorate: bool) -> list[object]:
    """What trackstart(CURRENT) or (CHANGES) reports first on a one-node cluster."""
    ring = ring_of(node)
    return [QuorumNodelist(ring, [1], [], []), QuorumNotify(quorate, ring, [1])]


def test_the_quorum_type_is_set_and_the_node_is_quorate(
    open_quorum: OpenQuorum, corosync_node: Node
) -> None:
    quorum = open_quorum()
    assert quorum.quorum_type is QuorumType.SET  # corosync_votequorum decides
    assert quorum.quorate is True
    assert status(corosync_node).quorate
    assert (repr(quorum), quorum.closed, quorum.retry_timeout) == ("<corosync.Quorum>", False, 3.0)
    assert (quorum.on_notify, quorum.on_nodelist) == (None, None)


def test_trackstart_current_reports_the_nodelist_then_the_quorum_with_the_ring_id(
    open_quorum: OpenQuorum, corosync_node: Node
) -> None:
    quorum, recorder = tracked(open_quorum, CURRENT)
    pump([quorum], lambda: len(recorder.events) >= 2)
    ring = ring_of(corosync_node)
    assert ring.nodeid == 1 and ring.seq > 0
    assert recorder.take() == current_state(corosync_node, True)
    # CURRENT alone does not track, so asking again is no ExistError and reports it again.
    quorum.trackstart(CURRENT)
    pump([quorum], lambda: len(recorder.events) >= 2)
    assert recorder.take() == current_state(corosync_node, True)


def test_trackstart_while_tracking_raises_exist_error_after_reporting_the_state_again(
    open_quorum: OpenQuorum, corosync_node: Node
) -> None:
    quorum, recorder = tracked(open_quorum, CHANGES)  # CHANGES reports the state now too
    pump([quorum], lambda: len(recorder.events) >= 2)
    assert recorder.take() == current_state(corosync_node, True)
    with pytest.raises(corosync.ExistError) as info:
        quorum.trackstart(CHANGES_ONLY)
    assert (info.value.code, info.value.function) == (CsError.EXIST, "quorum_trackstart")
    # corosync sends the state before it looks whether the connection tracks already.
    with pytest.raises(corosync.ExistError):
        quorum.trackstart(CURRENT)
    pump([quorum], lambda: len(recorder.events) >= 2)
    assert recorder.take() == current_state(corosync_node, True)
    quorum.trackstop()
    quorum.trackstart(CHANGES_ONLY)  # tracking again after trackstop


def test_trackstop_of_a_handle_that_does_not_track_is_accepted(open_quorum: OpenQuorum) -> None:
    # corosync's quorum service answers CS_OK (votequorum's answers CS_ERR_NOT_EXIST).
    quorum = open_quorum()
    quorum.trackstop()
    quorum.trackstart(CURRENT)
    quorum.trackstop()


class Boom(Exception):
    pass


def test_an_exception_in_a_callback_comes_out_of_dispatch_and_the_later_events_stay(
    open_quorum: OpenQuorum, corosync_node: Node
) -> None:
    seen: list[object] = []

    def on_nodelist(
        ring_id: RingId, members: list[int], joined: list[int], left: list[int]
    ) -> None:
        seen.append(QuorumNodelist(ring_id, members, joined, left))
        raise Boom("from on_nodelist")

    quorum = open_quorum(on_nodelist=on_nodelist, on_notify=lambda *args: seen.append(args))
    quorum.trackstart(CURRENT)
    assert select.select([quorum], [], [], 10)[0]
    with pytest.raises(Boom, match=r"^from on_nodelist$"):
        quorum.dispatch(DispatchFlags.ALL)
    ring = ring_of(corosync_node)
    assert seen == [QuorumNodelist(ring, [1], [], [])]
    pump([quorum], lambda: len(seen) == 2)  # the notification stayed queued
    assert seen[1] == (True, ring, [1])
    quorum.dispatch(DispatchFlags.ALL)  # nothing is delivered twice
    assert len(seen) == 2


def test_a_closed_handle_raises_closed_error_for_every_method(open_quorum: OpenQuorum) -> None:
    quorum = open_quorum(on_notify=print)
    quorum.trackstart(CHANGES)
    quorum.close()
    quorum.close()  # idempotent
    assert quorum.closed and repr(quorum) == "<corosync.Quorum closed>"
    assert quorum.on_notify is None  # close lets go of the callbacks
    calls: dict[str, Callable[[], object]] = {
        "quorate": lambda: quorum.quorate,
        "quorum_type": lambda: quorum.quorum_type,
        "trackstart": lambda: quorum.trackstart(CURRENT),
        "trackstop": lambda: quorum.trackstop(),
        "dispatch": lambda: quorum.dispatch(),
        "fileno": lambda: quorum.fileno(),
        "enter": lambda: quorum.__enter__(),
        "on_notify": lambda: setattr(quorum, "on_notify", print),
        "on_nodelist": lambda: setattr(quorum, "on_nodelist", print),
    }
    for name, call in calls.items():
        with pytest.raises(corosync.ClosedError) as info:
            call()
        assert isinstance(info.value, ValueError), name
        assert info.value.code == CsError.BAD_HANDLE, name


@pytest.mark.parametrize("flags", [0, 8, -1, 2**40])
def test_flags_outside_track_flags_raise_value_error(open_quorum: OpenQuorum, flags: int) -> None:
    quorum = open_quorum()
    with pytest.raises(ValueError) as info:
        quorum.trackstart(flags)  # type: ignore[arg-type]
    assert str(info.value) == f"flags must be a TrackFlags (1 to 7), not {flags}"
    assert not isinstance(info.value, corosync.CorosyncError)  # refused before corosync


@pytest.mark.parametrize("flags", ["1", 1.0, None, True])
def test_flags_of_another_type_raise_type_error(open_quorum: OpenQuorum, flags: object) -> None:
    quorum = open_quorum()
    with pytest.raises(TypeError) as info:
        quorum.trackstart(flags)  # type: ignore[arg-type]
    assert str(info.value) == f"flags must be TrackFlags or an int, not {type(flags).__name__}"


def test_every_combination_of_track_flags_is_taken_as_an_int_too(open_quorum: OpenQuorum) -> None:
    for value in (CURRENT | CHANGES | CHANGES_ONLY, 2, 4):
        quorum = open_quorum()
        quorum.trackstart(value)  # type: ignore[arg-type]
        quorum.trackstop()


def test_the_constructor_checks_its_arguments(corosync_node: Node) -> None:
    with pytest.raises(TypeError, match=r"^on_notify must be callable or None, not int$"):
        corosync_node.connect(Quorum, on_notify=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^retry_timeout must be a finite number"):
        corosync_node.connect(Quorum, retry_timeout=-1)


# --- quorum that changes: a one-node cluster with a quorum device --------------------------


@pytest.fixture(scope="class")
def device_node() -> Iterator[Node]:
    # timeout_ms: a poll keeps the vote for the whole test; no ring changes, no sync waits.
    with Cluster(1, qdevice=QdeviceOptions(votes=1, timeout_ms=120_000)) as cluster:
        yield cluster.node(1)


@pytest.fixture
def vote(device_node: Node) -> Iterator[Callable[[bool], None]]:
    """vote(True) makes the device cast its vote and waits until the node is quorate;
    vote(False) takes it back and waits until it is not. Unregistered after the test."""
    device = device_node.connect(Votequorum)
    device.qdevice_register("pydevice")
    ring = ring_of(device_node)

    def cast(cast_vote: bool) -> None:
        device.qdevice_poll("pydevice", cast_vote, ring)
        device_node.cluster.wait_quorate(1, cast_vote, timeout=10)

    yield cast
    device.qdevice_unregister("pydevice")
    device.close()
    device_node.cluster.wait_quorate(1, False, timeout=10)


class TestTracking:
    """Quorum flips while a handle tracks: what each kind of tracking reports."""

    def test_changes_reports_the_state_now_then_every_change(
        self, device_node: Node, vote: Callable[[bool], None]
    ) -> None:
        with device_node.connect(Quorum) as quorum:
            recorder = QuorumRecorder()
            recorder.attach(quorum).trackstart(CHANGES)
            assert quorum.quorate is False
            vote(True)
            assert quorum.quorate is True
            pump([quorum], lambda: len(recorder.events) >= 3)
            vote(False)
            pump([quorum], lambda: len(recorder.events) >= 4)
            ring = ring_of(device_node)
            assert recorder.events == [
                *current_state(device_node, False),
                QuorumNotify(True, ring, [1]),  # a new quorum on the same ring: no nodelist
                QuorumNotify(False, ring, [1]),
            ]

    def test_changes_only_reports_the_changes_alone(
        self, device_node: Node, vote: Callable[[bool], None]
    ) -> None:
        with device_node.connect(Quorum) as quorum:
            recorder = QuorumRecorder()
            recorder.attach(quorum).trackstart(CHANGES_ONLY)
            vote(True)
            vote(False)
            pump([quorum], lambda: len(recorder.events) >= 2)
            # Had the state at start been reported, it would have come first.
            ring = ring_of(device_node)
            assert recorder.events == [
                QuorumNotify(True, ring, [1]),
                QuorumNotify(False, ring, [1]),
            ]

    def test_current_reports_once_and_trackstop_ends_the_reports(
        self, device_node: Node, vote: Callable[[bool], None]
    ) -> None:
        with device_node.connect(Quorum) as quorum:
            recorder = QuorumRecorder()
            recorder.attach(quorum).trackstart(CURRENT)
            vote(True)  # not reported: CURRENT does not track
            quorum.trackstart(CHANGES_ONLY)
            vote(False)  # reported, after anything reported before on this connection
            pump([quorum], lambda: len(recorder.events) >= 3)
            quorum.trackstop()
            vote(True)  # not reported: tracking stopped
            quorum.trackstart(CHANGES_ONLY)
            vote(False)
            pump([quorum], lambda: len(recorder.events) >= 4)
            ring = ring_of(device_node)
            assert recorder.events == [
                *current_state(device_node, False),
                QuorumNotify(False, ring, [1]),
                QuorumNotify(False, ring, [1]),
            ]
