"""corosync.aio's calls with CPG on a real one-node cluster, on asyncio's event loop and on
uvloop: the loop's reader only while needed, aio.mcast under flow control (the loop keeps
running) and when corosync refuses, wait_members and connect. (The streams: test_aio.py.)

Every test runs once per loop kind (``[asyncio]``, ``[uvloop]``); the loop's exception handler
must never be called. Nothing here asserts on time but generous bounds on liveness."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from aio_helpers import (
    PID,
    Boom,
    CpgEvent,
    Heartbeat,
    Run,
    delivered,
    describe,
    events_after_a_mcast,
    is_message,
    members_of,
    mine,
    my_join,
    next_of,
    numbered,
    registered,
    take,
    take_until,
)
from conftest import CpgFactory, MemberFactory
from test_retry import daemon_stopped, state, wait_until

import corosync
from corosync import aio
from corosync.cpg import Address, Deliver, Guarantee
from corosync.testing import Node


class TestRegistration:
    def test_the_fd_has_a_reader_only_while_a_stream_is_open(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()
        fd = cpg.fileno()

        async def main() -> dict[str, bool]:
            states = {"before": registered(fd)}
            first, second = aio.events(cpg), aio.events(cpg)
            cpg.join(group)
            await anext(first)
            waiting = asyncio.create_task(next_of(second))
            await asyncio.sleep(0.01)
            states["two streams, one waiting"] = registered(fd)
            await first.aclose()
            states["one stream waiting"] = registered(fd)
            await aio.mcast(cpg, b"x")
            await waiting  # the join's confchg
            await second.aclose()
            states["all closed"] = registered(fd)
            async with aio.events(cpg) as third:
                await aio.mcast(cpg, b"y")
                await take(third, 2)
            states["after async with"] = registered(fd)
            return states

        assert run(main()) == {
            "before": False,
            "two streams, one waiting": True,
            "one stream waiting": True,
            "all closed": False,
            "after async with": False,
        }

    def test_a_stream_dropped_at_a_break_unregisters(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()
        fd = cpg.fileno()

        async def main() -> tuple[CpgEvent | None, bool]:
            cpg.join(group)
            first = None
            async for event in aio.events(cpg):
                first = event
                break
            return first, registered(fd)

        event, reading = run(main())
        assert event is not None and describe(event) == my_join(group)
        assert not reading, "a stream dropped after `break` left a reader on the fd"

    def test_a_waiting_stream_does_not_poll(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()

        async def main() -> float:
            stream = aio.events(cpg)
            cpg.join(group)
            await anext(stream)
            waiting = asyncio.create_task(next_of(stream))
            cpu = time.process_time()
            await asyncio.sleep(1.0)
            used = time.process_time() - cpu
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            return used

        # Generous: a loop that polls the handle burns the whole second.
        used = run(main())
        assert used < 0.3, f"{used:.2f} s of CPU in 1 s of waiting for nothing"


class TestMcast:
    def test_a_flood_under_a_full_send_window_arrives_whole_and_the_loop_keeps_running(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        # With a window of 8, nearly every aio.mcast finds it full and must wait on the loop
        # for the handle's own messages to be dispatched back. A generous retry_timeout: a
        # send that slept in corosync instead would stop the heartbeat, not fail at once.
        cpg = open_cpg(send_window_messages=8, retry_timeout=30.0)

        async def main() -> tuple[int, list[CpgEvent], Heartbeat, set[threading.Thread]]:
            stream = aio.events(cpg)
            cpg.join(group)
            await anext(stream)
            receiver = asyncio.create_task(take_until(stream, is_message(b"end")))
            for message in numbered(8):
                cpg.mcast(message)
            assert cpg.flow_control_enabled, "eight sends did not fill a window of 8"
            threads = set(threading.enumerate())
            sent = 8
            async with Heartbeat(0.01) as heartbeat:
                # At least 2000 messages, and on until the heartbeat ticked 20 times: a loop
                # that mcast blocks would never get there.
                while sent < 2000 or len(heartbeat.ticks) < 20:
                    assert sent < 200_000, "the heartbeat stopped ticking while sending"
                    await aio.mcast(cpg, b"m%d" % sent)
                    sent += 1
                await aio.mcast(cpg, b"end")
                events = await receiver
            return sent, events, heartbeat, set(threading.enumerate()) - threads

        sent, events, heartbeat, new_threads = run(main())
        assert delivered(events) == [*numbered(sent), b"end"]
        assert all(isinstance(e, Deliver) and e.pid == PID for e in events)
        assert heartbeat.longest_gap() < 2.5, f"the loop stalled {heartbeat.longest_gap():.2f} s"
        assert not new_threads, f"aio started threads: {new_threads}"

    def test_concurrent_senders_on_one_handle_keep_their_order(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg(send_window_messages=8)
        senders, each = 3, 300

        async def send(sender: int) -> None:
            for i in range(each):
                await aio.mcast(cpg, b"%d:%d" % (sender, i))

        async def main() -> list[bytes]:
            stream = aio.events(cpg)
            cpg.join(group)
            receiver = asyncio.create_task(take_until_count(stream, senders * each))
            await asyncio.gather(*(send(s) for s in range(senders)))
            return delivered(await receiver)

        messages = run(main())
        assert len(messages) == senders * each
        for sender in range(senders):
            mine_ = [m for m in messages if m.startswith(b"%d:" % sender)]
            assert mine_ == [b"%d:%d" % (sender, i) for i in range(each)]

    def test_buffers_guarantee_and_group_are_passed_on(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()
        other = group + "-other"

        async def main() -> list[CpgEvent]:
            stream = aio.events(cpg)
            cpg.join(group)
            cpg.join(other)
            await aio.wait_members(cpg, other, 1)
            await aio.mcast(
                cpg,
                b"ab",
                bytearray(b"cd"),
                memoryview(b"ef"),
                group=other,
                guarantee=Guarantee.SAFE,
            )
            await aio.mcast(cpg, group=group)  # an empty message
            with pytest.raises(corosync.NotExistError):
                await aio.mcast(cpg, b"x", group=group + "-not-joined")
            events = await take_until(stream, is_message(b""))
            if not any(is_message(b"abcdef")(e) for e in events):
                events += await take_until(stream, is_message(b"abcdef"))
            return events

        events = [e for e in run(main()) if isinstance(e, Deliver)]
        assert sorted(events, key=lambda e: e.message) == [
            Deliver(group, 1, PID, b""),
            Deliver(other, 1, PID, b"abcdef"),
        ]


async def take_until_count(stream: AsyncIterator[CpgEvent], count: int) -> list[CpgEvent]:
    """The events of `stream` up to the `count`-th Deliver."""
    events: list[CpgEvent] = []
    async for event in stream:
        events.append(event)
        if len(delivered(events)) == count:
            return events
    raise AssertionError(f"the stream ended after {len(delivered(events))} messages")


class TestWaitMembers:
    def test_wait_members_returns_once_the_count_is_reached(
        self, run: Run, start_member: MemberFactory, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()

        async def main() -> tuple[list[Address], list[Address], int, bool]:
            cpg.join(group)
            alone = await aio.wait_members(cpg, group, 1)
            waiting = asyncio.create_task(aio.wait_members(cpg, group, 2))
            await asyncio.sleep(0.2)
            assert not waiting.done(), f"wait_members(2) returned {waiting.result()}"
            member = start_member(group)
            both = await waiting
            return alone, both, member.pid, registered(cpg.fileno())

        alone, both, other, reading = run(main())
        assert members_of(alone) == [(1, PID)]
        assert members_of(both) == sorted([(1, PID), (1, other)])
        assert not reading, "the fd still has a reader after wait_members returned"

    def test_wait_members_by_node_ids(self, run: Run, open_cpg: CpgFactory, group: str) -> None:
        cpg = open_cpg()

        async def main() -> tuple[list[Address], list[Address]]:
            cpg.join(group)
            by_nodeids = await aio.wait_members(cpg, group, nodeids=[1])
            by_both = await aio.wait_members(cpg, group, 1, nodeids={1}, timeout=30)
            return by_nodeids, by_both

        for members in run(main()):
            assert members_of(members) == [(1, PID)]

    @pytest.mark.parametrize(
        "wanted",
        [{"count": 2}, {"nodeids": [1, 2]}, {"count": 1, "nodeids": [2]}],
        ids=["count", "nodeids", "both"],
    )
    def test_wait_members_times_out_with_timeout_error(
        self, run: Run, open_cpg: CpgFactory, group: str, wanted: dict[str, Any]
    ) -> None:
        cpg = open_cpg()

        async def main() -> tuple[bool, list[CpgEvent]]:
            cpg.join(group)
            with pytest.raises(TimeoutError):
                await aio.wait_members(cpg, group, timeout=0.5, **wanted)
            reading = registered(cpg.fileno())
            # The handle is still usable, and the events dispatched meanwhile kept.
            return reading, await events_after_a_mcast(cpg, 2)

        reading, events = run(main())
        assert not reading, "the fd still has a reader after wait_members timed out"
        assert [describe(e) for e in events] == [my_join(group), *mine(group, [b"after"])]


class TestConnect:
    def test_connect_opens_a_handle_and_closes_it(
        self, run: Run, corosync_node: Node, group: str
    ) -> None:
        async def main() -> tuple[corosync.CPG, list[CpgEvent]]:
            with corosync_node.entered():
                async with aio.connect(corosync.CPG, retry_timeout=2.5) as cpg:
                    assert isinstance(cpg, corosync.CPG)
                    assert not cpg.closed
                    assert cpg.retry_timeout == 2.5
                    assert cpg.local_nodeid == 1
                    async with aio.events(cpg) as stream:
                        cpg.join(group)
                        await aio.mcast(cpg, b"hello")
                        events = await take(stream, 2)
            return cpg, events

        cpg, events = run(main())
        assert cpg.closed
        assert [describe(e) for e in events] == [my_join(group), *mine(group, [b"hello"])]

    def test_connect_closes_the_handle_when_the_body_raises(
        self, run: Run, corosync_node: Node
    ) -> None:
        opened: list[corosync.CPG] = []

        async def main() -> None:
            with corosync_node.entered(), pytest.raises(Boom):
                async with aio.connect(corosync.CPG) as cpg:
                    opened.append(cpg)
                    raise Boom

        run(main())
        [cpg] = opened
        assert cpg.closed

    def test_connect_raises_what_the_constructor_raises(
        self, run: Run, corosync_node: Node
    ) -> None:
        async def main() -> None:
            with corosync_node.entered(), pytest.raises(TypeError, match="retry_timeout"):
                async with cast(Any, aio.connect)(corosync.CPG, retry_timoeut=1.0):
                    pass

        run(main())

    def test_connect_does_not_block_the_loop_while_the_daemon_is_slow_to_answer(
        self, run: Run, corosync_node: Node
    ) -> None:
        # A stopped daemon answers no connection until it continues: the heartbeat must tick
        # ten times meanwhile. A connect that blocked the loop would stop it until a timer
        # thread continued the daemon (3 s); only ticks before that count.
        pid = corosync_node.pid
        assert pid is not None
        continued: list[float] = []
        lock = threading.Lock()

        def resume() -> None:
            with lock:
                if not continued:
                    os.kill(pid, signal.SIGCONT)
                    continued.append(time.monotonic())

        async def connect() -> int:
            with corosync_node.entered():
                async with aio.connect(corosync.CPG) as cpg:
                    return cpg.local_nodeid

        async def main() -> tuple[int, int]:
            async with Heartbeat(0.01) as heartbeat:
                os.kill(pid, signal.SIGSTOP)
                safety = threading.Timer(3.0, resume)
                safety.start()
                try:
                    wait_until(lambda: state(pid) == "T", "the daemon to stop")
                    stopped = time.monotonic()
                    connecting = asyncio.create_task(connect())
                    while not continued and not connecting.done():
                        if sum(stopped < t for t in heartbeat.ticks) >= 10:
                            break
                        await asyncio.sleep(0.01)
                    resume()
                    nodeid = await connecting
                finally:
                    safety.cancel()
                    resume()
            ticked = sum(stopped < t < continued[0] for t in heartbeat.ticks)
            return nodeid, ticked

        nodeid, ticked = run(main())
        assert nodeid == 1
        assert ticked >= 10, f"the heartbeat ticked {ticked} times while aio.connect waited"


# Last in the module: the stopped daemon may re-form the ring afterwards (a ring change that
# the tests above must not see).
def test_mcast_raises_try_again_once_corosync_refused_for_retry_timeout(
    run: Run, corosync_node: Node, open_cpg: CpgFactory, group: str
) -> None:
    # A stopped daemon reads no requests: its request ring fills after a few 64 KiB messages
    # and corosync answers TRY_AGAIN to every further send until it continues. A stream that
    # is never read keeps the handle dispatched all along (dispatching frees nothing here).
    cpg = open_cpg(retry_timeout=0.5)
    payload = b"r" * 65536

    async def main() -> tuple[int, corosync.TryAgainError, Heartbeat, list[CpgEvent]]:
        stream = aio.events(cpg)
        cpg.join(group)
        await anext(stream)
        sent = 0
        async with Heartbeat(0.01) as heartbeat:
            with daemon_stopped(corosync_node), pytest.raises(corosync.TryAgainError) as refused:
                while sent < 1000:
                    await aio.mcast(cpg, b"%d:" % sent, payload)
                    sent += 1
        # What corosync took before it refused is delivered once it continues.
        await aio.mcast(cpg, b"after")
        events = await take_until(stream, is_message(b"after"))
        return sent, refused.value, heartbeat, events

    sent, error, heartbeat, events = run(main())
    assert 0 < sent < 1000
    assert error.code == corosync.CsError.TRY_AGAIN
    # The refusal lasted retry_timeout (0.5 s): the loop went on meanwhile.
    assert len(heartbeat.ticks) >= 5, f"the heartbeat ticked {len(heartbeat.ticks)} times"
    assert heartbeat.longest_gap() < 2.5, f"the loop stalled {heartbeat.longest_gap():.2f} s"
    assert delivered(events) == [*[b"%d:" % i + payload for i in range(sent)], b"after"]
