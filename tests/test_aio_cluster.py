"""corosync.aio across this module's own three-node cluster, on asyncio's event loop and on
uvloop: one loop serving a handle on every node, concurrent async senders delivered in one
total order everywhere, a killed node reported as a ConfChg (and a TotemConfChg) to the
others' streams while its own stream ends in LibraryError, and aio.connect opening on the node
whose namespace the caller is in."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from aio_helpers import CpgEvent, Run, delivered, members_of, registered

import corosync
from corosync import aio
from corosync.cpg import Address, ConfChg, Deliver, Reason, TotemConfChg
from corosync.testing import Cluster

PID = os.getpid()
NODES = (1, 2, 3)

OpenOn = Callable[..., corosync.CPG]


@pytest.fixture
def group() -> str:
    return f"aio-cluster-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def open_on(corosync_healthy_cluster: Cluster) -> Iterator[OpenOn]:
    """Opens a CPG handle on node i (a whole cluster, every test); closes them after it."""
    handles: list[corosync.CPG] = []

    def factory(nodeid: int, **kwargs: Any) -> corosync.CPG:
        handle = corosync_healthy_cluster.node(nodeid).connect(corosync.CPG, **kwargs)
        handles.append(handle)
        return handle

    yield factory
    for handle in handles:
        handle.close()


async def deliveries(stream: AsyncIterator[CpgEvent], count: int) -> list[Deliver]:
    """The next `count` Deliver events of `stream` (other events skipped)."""
    got: list[Deliver] = []
    async for event in stream:
        if isinstance(event, Deliver):
            got.append(event)
            if len(got) == count:
                return got
    raise AssertionError(f"the stream ended after {len(got)} messages")


async def until_seen(
    stream: AsyncIterator[CpgEvent], *wanted: Callable[[CpgEvent], bool]
) -> list[CpgEvent]:
    """The events of `stream` until each of `wanted` held for one of them."""
    got: list[CpgEvent] = []
    pending = list(wanted)
    async for event in stream:
        got.append(event)
        pending = [w for w in pending if not w(event)]
        if not pending:
            return got
    raise AssertionError(f"the stream ended after {got!r}")


def test_one_loop_serves_every_node_and_all_see_one_total_order(
    run: Run, open_on: OpenOn, group: str
) -> None:
    cpgs = {n: open_on(n, send_window_messages=16) for n in NODES}
    each = 300

    async def send(nodeid: int) -> None:
        for i in range(each):
            await aio.mcast(cpgs[nodeid], b"%d:%d:" % (nodeid, i), os.urandom(i % 32))

    async def main() -> dict[int, list[Deliver]]:
        streams = {n: aio.events(cpgs[n]) for n in NODES}
        for cpg in cpgs.values():
            cpg.join(group)
        members = await asyncio.gather(
            *(aio.wait_members(cpg, group, nodeids=NODES, timeout=30) for cpg in cpgs.values())
        )
        for found in members:
            assert members_of(found) == [(n, PID) for n in NODES]
        receivers = [asyncio.create_task(deliveries(streams[n], each * len(NODES))) for n in NODES]
        await asyncio.gather(*(send(n) for n in NODES))
        return dict(zip(NODES, await asyncio.gather(*receivers), strict=True))

    received = run(main())
    first = received[1]
    assert len(first) == each * len(NODES)
    for nodeid in (2, 3):
        assert received[nodeid] == first, f"node {nodeid} disagrees on the order of delivery"
    for sender in NODES:
        theirs = [d for d in first if d.nodeid == sender]
        assert all(d.pid == PID and d.group == group for d in theirs)
        numbers = [int(d.message.split(b":")[1]) for d in theirs]
        assert numbers == list(range(each)), f"node {sender}'s messages out of order"


def test_connect_opens_on_the_node_whose_namespace_the_caller_is_in(
    run: Run, corosync_healthy_cluster: Cluster
) -> None:
    # One loop, connecting on one node after another: each handle must reach the daemon of
    # the namespace its caller is in (a connect made in a worker thread that was created in
    # another node's namespace would reach that node).
    async def main() -> list[int]:
        nodeids = []
        for nodeid in (2, 3, 1, 2):
            with corosync_healthy_cluster.node(nodeid).entered():
                async with aio.connect(corosync.CPG) as cpg:
                    nodeids.append(cpg.local_nodeid)
        return nodeids

    assert run(main()) == [2, 3, 1, 2]


def test_messages_between_nodes_reach_an_async_reader(
    run: Run, open_on: OpenOn, group: str
) -> None:
    receiver, sender = open_on(1), open_on(2)

    async def main() -> list[CpgEvent]:
        stream = aio.events(receiver)
        receiver.join(group)
        sender.join(group)
        await aio.wait_members(receiver, group, nodeids=[1, 2], timeout=30)
        for i in range(20):
            sender.mcast(b"from node 2: %d" % i)
        return [e async for e in _until_count(stream, 20)]

    events = run(main())
    assert delivered(events) == [b"from node 2: %d" % i for i in range(20)]
    assert all(d.nodeid == 2 for d in events if isinstance(d, Deliver))


async def _until_count(stream: AsyncIterator[CpgEvent], count: int) -> AsyncIterator[CpgEvent]:
    """The events of `stream` up to its `count`-th Deliver."""
    seen = 0
    async for event in stream:
        yield event
        if isinstance(event, Deliver):
            seen += 1
            if seen == count:
                return


# Last: the node it kills is restarted by the next test's corosync_healthy_cluster.
def test_a_killed_node_arrives_as_confchg_and_ends_its_own_stream_with_library_error(
    run: Run, corosync_healthy_cluster: Cluster, open_on: OpenOn, group: str
) -> None:
    cpgs = {n: open_on(n) for n in NODES}
    doomed = cpgs[3]
    doomed_fd = doomed.fileno()

    def left_node_3(event: CpgEvent) -> bool:
        return isinstance(event, ConfChg) and event.left != []

    def ring_without_3(event: CpgEvent) -> bool:
        return isinstance(event, TotemConfChg) and event.members == [1, 2]

    async def drain(stream: AsyncIterator[CpgEvent]) -> BaseException | None:
        """Reads `stream` to its end; what ended it."""
        try:
            async for _ in stream:
                pass
        except Exception as e:
            return e
        return None

    async def main() -> tuple[dict[int, list[CpgEvent]], BaseException | None, bool]:
        streams = {n: aio.events(cpgs[n]) for n in NODES}
        for cpg in cpgs.values():
            cpg.join(group)
        await asyncio.gather(
            *(aio.wait_members(cpg, group, 3, timeout=30) for cpg in cpgs.values())
        )
        draining = asyncio.create_task(drain(streams[3]))
        waiting = asyncio.create_task(aio.wait_members(doomed, group, 4))
        await asyncio.sleep(0.1)
        assert not draining.done() and not waiting.done()
        corosync_healthy_cluster.kill(3)
        ending = await draining
        with pytest.raises(corosync.LibraryError):
            await waiting
        with pytest.raises(corosync.LibraryError):
            await aio.mcast(doomed, b"lost")
        seen = {n: await until_seen(streams[n], left_node_3, ring_without_3) for n in (1, 2)}
        return seen, ending, registered(doomed_fd)

    seen, ending, reading = run(main())
    assert isinstance(ending, corosync.LibraryError), f"node 3's stream ended with {ending!r}"
    assert ending.code == corosync.CsError.LIBRARY
    assert not reading, "the fd of the handle whose daemon died still has a reader"
    for nodeid in (1, 2):
        [change] = [e for e in seen[nodeid] if left_node_3(e)]
        assert isinstance(change, ConfChg)
        assert change.group == group
        assert change.left == [Address(3, PID, Reason.NODEDOWN)]
        assert change.joined == []
        assert members_of(change.members) == [(1, PID), (2, PID)]
    doomed.close()
    assert doomed.closed
