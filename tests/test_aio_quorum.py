"""corosync.aio with Quorum and Votequorum, on asyncio's event loop and on uvloop: their streams
through a partition and heal of a real three-node cluster (and the expected votes changed);
wait_quorate returning once quorate and timing out while not, on a one-node cluster whose
quorum a quorum device decides; one loop serving a CPG, a CMAP and a Quorum stream at once."""

from __future__ import annotations

import asyncio
import builtins
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aio_helpers import Run, delivered, take, take_until
from quorum_helpers import (
    DEAD,
    MEMBER,
    members_of,
    restates,
    ring_of,
    sorted_notify,
    statuses,
    wait_cut_off,
)

import corosync
from corosync import RingId, TrackFlags, aio
from corosync.aio import QuorumEvent, VotequorumEvent
from corosync.cmap import Change, TrackEvent, TypedValue, ValueType
from corosync.quorum import Quorum, QuorumNodelist, QuorumNotify
from corosync.testing import Cluster, Node, QdeviceOptions
from corosync.votequorum import ExpectedVotes, Votequorum, VotequorumNodelist, VotequorumNotify

Event = QuorumEvent | VotequorumEvent
Stage = dict[str, list[Event]]


@pytest.fixture
def open_on() -> Iterator[Callable[[Node, type[Any]], Any]]:
    """Opens a handle of a class on a node; closes them all after the test."""
    handles: list[Any] = []

    def factory(node: Node, cls: type[Any]) -> Any:
        handles.append(node.connect(cls))
        return handles[-1]

    yield factory
    for handle in handles:
        handle.close()


def normalized(event: QuorumEvent | VotequorumEvent) -> QuorumEvent | VotequorumEvent:
    return sorted_notify(event) if isinstance(event, VotequorumNotify) else event


def first_ring(stage: Stage, name: str = "q1") -> RingId:
    event = stage[name][0]
    assert isinstance(event, QuorumNodelist)
    return event.ring_id


def healed_ring(stage: Stage) -> RingId:
    event = stage["q1"][-1]
    assert isinstance(event, QuorumNodelist)
    return event.ring_id


def is_notify(event: QuorumEvent | VotequorumEvent) -> bool:
    return isinstance(event, QuorumNotify | VotequorumNotify)


def test_the_streams_follow_a_partition_and_heal(
    run: Run, corosync_healthy_cluster: Cluster, open_on: Callable[[Node, type[Any]], Any]
) -> None:
    cluster = corosync_healthy_cluster
    quorum = {n: open_on(cluster.node(n), Quorum) for n in (1, 3)}
    votequorum = {n: open_on(cluster.node(n), Votequorum) for n in (1, 3)}

    async def main() -> tuple[Stage, Stage, Stage, Stage]:
        streams: dict[str, aio.EventStream[Any]] = {}
        for n in (1, 3):
            streams[f"q{n}"], streams[f"v{n}"] = aio.events(quorum[n]), aio.events(votequorum[n])
            quorum[n].trackstart(TrackFlags.CHANGES)
            votequorum[n].trackstart(TrackFlags.CHANGES)
        start = {name: await take(stream, 2) for name, stream in streams.items()}
        cluster.isolate(3)
        cut = {name: await take_until(stream, is_notify) for name, stream in streams.items()}
        wait_cut_off(cluster, 3)
        cluster.heal()
        healed = {
            name: await take_until(stream, lambda e: members_of(e) == [1, 2, 3])
            for name, stream in streams.items()
        }
        # votequorum counts the joined node's votes after the nodelist: its notification of
        # the whole cluster says it has (before it, expected votes of 4 exceed the votes
        # counted so far by more than a quorate cluster allows, and corosync refuses them).
        expected = {name: await take_until(streams[name], is_notify) for name in ("v1", "v3")}
        # Changes from different nodes are ordered as totem passes the token, not as made:
        # the second is made once every node was told of the first.
        votequorum[1].set_expected(4)
        for name in ("v1", "v3"):
            expected[name] += await take_until(streams[name], lambda e: e == ExpectedVotes(4))
        votequorum[3].set_expected(3)
        for name in ("v1", "v3"):
            expected[name] += await take_until(streams[name], lambda e: e == ExpectedVotes(3))
        return start, cut, healed, expected

    try:
        start, cut, healed, expected = run(main())
    finally:
        with cluster.node(2).connect(Votequorum) as restore:
            if restore.info().expected_votes != 3:
                restore.set_expected(3)
    before = first_ring(start)
    assert start == {
        "q1": [QuorumNodelist(before, [1, 2, 3], [], []), QuorumNotify(True, before, [1, 2, 3])],
        "q3": [QuorumNodelist(before, [1, 2, 3], [], []), QuorumNotify(True, before, [1, 2, 3])],
        "v1": [VotequorumNodelist(before, [1, 2, 3]), start["v1"][1]],
        "v3": [VotequorumNodelist(before, [1, 2, 3]), start["v3"][1]],
    }
    for name in ("v1", "v3"):
        assert normalized(start[name][1]) == VotequorumNotify(
            True, before, statuses(dict.fromkeys((1, 2, 3), MEMBER))
        )
    pair, lone = first_ring(cut, "q1"), first_ring(cut, "q3")
    assert [normalized(e) for events in cut.values() for e in events] == [
        QuorumNodelist(pair, [1, 2], [], [3]),
        QuorumNotify(True, pair, [1, 2]),
        VotequorumNodelist(pair, [1, 2]),
        VotequorumNotify(True, pair, statuses({1: MEMBER, 2: MEMBER, 3: DEAD})),
        QuorumNodelist(lone, [3], [], [1, 2]),
        QuorumNotify(False, lone, [3]),
        VotequorumNodelist(lone, [3]),
        VotequorumNotify(False, lone, statuses({1: DEAD, 2: DEAD, 3: MEMBER})),
    ]
    ring = healed_ring(healed)
    assert ring.seq > max(pair.seq, lone.seq)
    joined = {"q1": [3], "q3": [1, 2]}
    was = {"q1": ([1, 2], True), "v1": ([1, 2], True), "q3": ([3], False), "v3": ([3], False)}
    for name, events in healed.items():
        *between, last = events  # the nodelist of the whole cluster; its notify follows
        if name.startswith("q"):
            assert last == QuorumNodelist(ring, [1, 2, 3], joined[name], [])
        else:
            assert last == VotequorumNodelist(ring, [1, 2, 3])
        # Until the merge, only the partition's own ring said again (see test_quorum_cluster).
        assert all(restates(e, *was[name]) for e in between), between
    whole = VotequorumNotify(True, ring, statuses(dict.fromkeys((1, 2, 3), MEMBER)))
    for events in expected.values():  # the notification of the whole cluster, then the votes
        assert [normalized(e) for e in events] == [whole, ExpectedVotes(4), ExpectedVotes(3)]


# --- a one-node cluster whose quorum a device decides -------------------------------------


@pytest.fixture(scope="module")
def device_node() -> Iterator[Node]:
    with Cluster(1, qdevice=QdeviceOptions(votes=1, timeout_ms=120_000)) as cluster:
        yield cluster.node(1)


@pytest.fixture
def vote(device_node: Node) -> Iterator[Callable[[bool], None]]:
    """vote(cast) polls the registered device, casting its vote or not (the node is quorate
    only with it); the device is unregistered after the test."""
    device = device_node.connect(Votequorum)
    device.qdevice_register("aiodevice")
    ring = ring_of(device_node)
    yield lambda cast: device.qdevice_poll("aiodevice", cast, ring)
    device.qdevice_unregister("aiodevice")
    device.close()
    device_node.cluster.wait_quorate(1, False, timeout=10)


@pytest.mark.parametrize("kind", [Quorum, Votequorum])
def test_wait_quorate_returns_once_quorate_and_times_out_while_not(
    run: Run,
    device_node: Node,
    vote: Callable[[bool], None],
    open_on: Callable[[Node, type[Any]], Any],
    kind: type[Quorum | Votequorum],
) -> None:
    handle: Quorum | Votequorum = open_on(device_node, kind)
    handle.trackstart(TrackFlags.CHANGES_ONLY)  # woken by the change, not by the 1 s look

    async def main() -> tuple[BaseException, bool]:
        with pytest.raises(builtins.TimeoutError) as timed_out:
            await aio.wait_quorate(handle, timeout=0.5)
        waiting = asyncio.create_task(aio.wait_quorate(handle, timeout=30))
        await asyncio.sleep(0.2)
        still_waiting = not waiting.done()
        vote(True)
        await waiting
        await aio.wait_quorate(handle, timeout=1)  # quorate: returns at once
        return timed_out.value, still_waiting

    timed_out, still_waiting = run(main())
    assert type(timed_out) is builtins.TimeoutError  # not corosync.TimeoutError
    assert still_waiting, "wait_quorate returned while the node was inquorate"
    assert status_quorate(device_node)


def status_quorate(node: Node) -> bool:
    got = node.quorum_status()
    return got is not None and got.quorate


def test_one_loop_serves_a_cpg_a_cmap_and_a_quorum_stream_at_once(
    run: Run,
    device_node: Node,
    vote: Callable[[bool], None],
    open_on: Callable[[Node, type[Any]], Any],
) -> None:
    cpg: corosync.CPG = open_on(device_node, corosync.CPG)
    cmap: corosync.CMAP = open_on(device_node, corosync.CMAP)
    quorum: Quorum = open_on(device_node, Quorum)
    group, key = f"aio-quorum-{uuid.uuid4().hex[:12]}", f"test.{uuid.uuid4().hex[:12]}.k"
    ring = ring_of(device_node)

    async def produce() -> None:
        for i in range(3):
            await aio.mcast(cpg, b"m%d" % i)
            cmap.set(key, i, ValueType.UINT32)
            vote(i % 2 == 0)  # quorate, inquorate, quorate
            await asyncio.sleep(0)

    async def main() -> tuple[list[Any], list[Change], list[QuorumEvent]]:
        cpg_stream, cmap_stream = aio.events(cpg), aio.events(cmap, key)
        quorum_stream = aio.events(quorum)
        quorum.trackstart(TrackFlags.CHANGES_ONLY)
        cpg.join(group)
        producer = asyncio.create_task(produce())
        got = await asyncio.gather(
            take(cpg_stream, 4), take(cmap_stream, 3), take(quorum_stream, 3)
        )
        await producer
        return got

    try:
        cpg_events, changes, quorum_events = run(main())
    finally:
        cmap.delete(key)
    assert delivered(cpg_events) == [b"m0", b"m1", b"m2"]
    u32 = [TypedValue(ValueType.UINT32, i) for i in range(3)]
    assert changes == [
        Change(TrackEvent.ADD, key, u32[0], None),
        Change(TrackEvent.MODIFY, key, u32[1], u32[0]),
        Change(TrackEvent.MODIFY, key, u32[2], u32[1]),
    ]
    assert quorum_events == [QuorumNotify(q, ring, [1]) for q in (True, False, True)]
