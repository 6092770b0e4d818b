"""corosync.aio with CPG on a real one-node cluster, on asyncio's event loop and on uvloop:
events in corosync's order, several streams, nothing lost between streams, callbacks and their
exceptions, close and cancellation (aio's calls: test_aio_calls.py).

Every test runs once per loop kind (``[asyncio]``, ``[uvloop]``); a uvloop that cannot be
imported fails its variants. The loop's exception handler must never be called (aio hands
every error to the code that awaits). Nothing here asserts on time but generous bounds on
liveness: a heartbeat task that must keep ticking while aio waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aio_helpers import (
    PID,
    Boom,
    CpgEvent,
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
    send_numbered,
    take,
    take_until,
)
from conftest import CpgFactory, MemberFactory

import corosync
from corosync import aio
from corosync.cpg import Address, ConfChg, Deliver, Reason, TotemConfChg


class TestOrder:
    def test_deliveries_and_confchgs_arrive_in_corosyncs_order(
        self, run: Run, start_member: MemberFactory, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()

        async def main() -> tuple[list[CpgEvent], int]:
            stream = aio.events(cpg)
            cpg.join(group)
            events = [await anext(stream)]
            await send_numbered(cpg, 50)
            events += await take(stream, 50)
            member = start_member(group)
            events.append(await anext(stream))
            member.say("from the other process")
            events.append(await anext(stream))
            await aio.mcast(cpg, b"after")
            events.append(await anext(stream))
            member.leave()
            events.append(await anext(stream))
            return events, member.pid

        events, other = run(main())
        assert [describe(e) for e in events] == [
            my_join(group),
            *mine(group, numbered(50)),
            (
                "confchg",
                group,
                sorted([(1, PID), (1, other)]),
                [],
                [Address(1, other, Reason.JOIN)],
            ),
            Deliver(group, 1, other, b"from the other process"),
            Deliver(group, 1, PID, b"after"),
            ("confchg", group, [(1, PID)], [Address(1, other, Reason.LEAVE)], []),
        ]

    def test_the_initial_totem_configuration_arrives_as_totem_confchg(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg(deliver_initial_totem_conf=True)

        async def main() -> list[CpgEvent]:
            stream = aio.events(cpg)
            cpg.join(group)
            return await take(stream, 2)

        events = run(main())
        # The ring comes over another connection than the group's events: in no order.
        [totem] = [e for e in events if isinstance(e, TotemConfChg)]
        assert totem.members == [1]
        assert totem.ring_id.nodeid == 1
        assert [describe(e) for e in events if isinstance(e, ConfChg)] == [my_join(group)]

    def test_a_stream_gets_the_events_dispatched_from_its_creation_on(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()

        async def main() -> tuple[list[CpgEvent], CpgEvent, CpgEvent]:
            first = aio.events(cpg)
            cpg.join(group)
            await aio.mcast(cpg, b"before")
            early = await take(first, 2)
            second = aio.events(cpg)
            await aio.mcast(cpg, b"after")
            return early, await anext(first), await anext(second)

        early, first_next, second_first = run(main())
        assert [describe(e) for e in early] == [my_join(group), *mine(group, [b"before"])]
        assert first_next == second_first == Deliver(group, 1, PID, b"after")

    def test_every_stream_of_a_handle_gets_every_event(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()

        async def main() -> list[list[CpgEvent]]:
            streams = [aio.events(cpg) for _ in range(4)]
            cpg.join(group)
            sender = asyncio.create_task(send_numbered(cpg, 300))
            # Three read at once; the fourth only once they are done.
            together = await asyncio.gather(*(take(s, 301) for s in streams[:3]))
            await sender
            return [*together, await take(streams[3], 301)]

        expected = [my_join(group), *mine(group, numbered(300))]
        for events in run(main()):
            assert [describe(e) for e in events] == expected


class TestNothingLost:
    def test_two_async_for_loops_over_one_stream(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()

        async def main() -> tuple[list[CpgEvent], list[CpgEvent]]:
            stream = aio.events(cpg)
            cpg.join(group)
            await send_numbered(cpg, 100)
            first: list[CpgEvent] = []
            async for event in stream:
                first.append(event)
                if len(delivered(first)) == 40:
                    break
            second: list[CpgEvent] = []
            async for event in stream:
                second.append(event)
                if len(second) == 60:
                    break
            return first, second

        first, second = run(main())
        assert [describe(e) for e in first] == [my_join(group), *mine(group, numbered(40))]
        assert second == mine(group, numbered(60, 40))

    def test_a_new_stream_gets_what_mcast_dispatched_while_there_was_none(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        # A window of 8: aio.mcast must dispatch the handle (bringing its own messages back)
        # to send 100, while no stream exists.
        cpg = open_cpg(send_window_messages=8)

        async def main() -> tuple[CpgEvent, list[CpgEvent], bool]:
            async with aio.events(cpg) as stream:
                cpg.join(group)
                joined = await anext(stream)
            await send_numbered(cpg, 100)
            reading = registered(cpg.fileno())
            async with aio.events(cpg) as stream:
                return joined, await take(stream, 100), reading

        joined, later, reading = run(main())
        assert describe(joined) == my_join(group)
        assert later == mine(group, numbered(100))
        assert not reading, "the fd still had a reader after aio.mcast returned"

    def test_a_new_stream_gets_what_wait_members_dispatched(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()

        async def main() -> tuple[list[Address], list[CpgEvent]]:
            cpg.join(group)
            members = await aio.wait_members(cpg, group, 1)
            await aio.mcast(cpg, b"after")
            stream = aio.events(cpg)
            return members, await take(stream, 2)

        members, events = run(main())
        assert members_of(members) == [(1, PID)]
        assert [describe(e) for e in events] == [my_join(group), *mine(group, [b"after"])]

    def test_breaking_out_of_one_stream_and_reading_a_new_one(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        # Two `async for` loops over the handle, each over a stream of its own that is
        # dropped at its `break`: the second loop starts where the first one stopped, even
        # when the first stream had been handed more events than it read.
        cpg = open_cpg()

        async def main() -> tuple[list[CpgEvent], list[CpgEvent]]:
            async with aio.events(cpg) as stream:
                cpg.join(group)
                await anext(stream)
            await send_numbered(cpg, 100)
            first: list[CpgEvent] = []
            async for event in aio.events(cpg):
                first.append(event)
                if len(first) == 30:
                    break
            second: list[CpgEvent] = []
            async for event in aio.events(cpg):
                second.append(event)
                if len(second) == 70:
                    break
            return first, second

        first, second = run(main())
        assert first == mine(group, numbered(30))
        assert second == mine(group, numbered(70, 30))


class TestCallbacks:
    def test_the_handles_callbacks_run_before_the_stream_gets_the_event(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        called: list[str | bytes] = []
        cpg = open_cpg(
            on_deliver=lambda g, nodeid, pid, message: called.append(message),
            on_confchg=lambda g, members, left, joined: called.append(g),
        )

        async def main() -> list[CpgEvent]:
            stream = aio.events(cpg)
            cpg.join(group)
            await send_numbered(cpg, 20)
            events: list[CpgEvent] = []
            for _ in range(21):
                event = await anext(stream)
                # Its callback has run by the time the stream yields it.
                assert len(called) > len(events), f"{event} came before its callback ran"
                events.append(event)
            return events

        events = run(main())
        assert called == [group, *numbered(20)]
        assert [describe(e) for e in events] == [my_join(group), *mine(group, numbered(20))]

    def test_a_callback_exception_comes_out_of_every_stream_and_later_events_stay(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        called: list[bytes] = []

        def on_deliver(g: str | bytes, nodeid: int, pid: int, message: bytes) -> None:
            called.append(message)
            if message == b"boom":
                raise Boom("raised by on_deliver")

        cpg = open_cpg(on_deliver=on_deliver)

        async def read(stream: AsyncIterator[CpgEvent], last: bytes) -> list[object]:
            """describe() of each event up to the message `last`; Boom for the exception."""
            seen: list[object] = []
            while True:
                try:
                    event = await anext(stream)
                except Boom as e:
                    assert str(e) == "raised by on_deliver"
                    seen.append(Boom)
                    continue
                seen.append(describe(event))
                if is_message(last)(event):
                    return seen

        async def main() -> list[list[object]]:
            streams = [aio.events(cpg), aio.events(cpg)]
            cpg.join(group)
            for message in (b"a", b"boom", b"c"):
                await aio.mcast(cpg, message)
            first = await asyncio.gather(*(read(s, b"c") for s in streams))
            # Both streams go on.
            await aio.mcast(cpg, b"d")
            return [seen + await read(s, b"d") for seen, s in zip(first, streams, strict=True)]

        a, boom, c, d = mine(group, [b"a", b"boom", b"c", b"d"])
        for seen in run(main()):
            # Whether the event whose callback raised is queued too is aio's choice; the
            # exception comes after the events before it and before the events behind it.
            assert seen in (
                [my_join(group), a, Boom, c, d],
                [my_join(group), a, boom, Boom, c, d],
            )
        # The callback ran once per message: the events behind the exception were not
        # dispatched twice.
        assert called == [b"a", b"boom", b"c", b"d"]


class TestClose:
    def test_close_ends_the_streams_after_what_they_hold(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()
        fd = cpg.fileno()

        async def main() -> tuple[CpgEvent, list[CpgEvent], list[CpgEvent], bool]:
            first, second = aio.events(cpg), aio.events(cpg)
            cpg.join(group)
            await send_numbered(cpg, 3)
            joined = await anext(first)
            cpg.close()
            rest = [e async for e in first]
            other = [e async for e in second]
            # Ended for good.
            for stream in (first, second):
                with pytest.raises(StopAsyncIteration):
                    await anext(stream)
            return joined, rest, other, registered(fd)

        joined, rest, other, reading = run(main())
        expected = [my_join(group), *mine(group, numbered(3))]
        assert describe(joined) == expected[0]
        # What was dispatched before the close, and nothing else; both streams got it.
        assert [describe(e) for e in rest] == expected[1 : 1 + len(rest)]
        assert [describe(e) for e in other] == expected[: 1 + len(rest)]
        assert not reading, "the fd of a closed handle still has a reader"

    def test_close_from_another_thread_ends_a_waiting_stream(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()
        fd = cpg.fileno()

        async def main() -> bool:
            stream = aio.events(cpg)
            cpg.join(group)
            await anext(stream)
            waiting = asyncio.create_task(next_of(stream))
            await asyncio.sleep(0.05)
            assert not waiting.done()
            await asyncio.to_thread(cpg.close)
            with pytest.raises(StopAsyncIteration):
                await waiting
            return registered(fd)

        assert not run(main()), "the fd of a closed handle still has a reader"
        assert cpg.closed

    def test_a_closed_handle_raises_closed_error(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()
        cpg.join(group)
        cpg.close()

        async def main() -> None:
            with pytest.raises(corosync.ClosedError):
                aio.events(cpg)
            with pytest.raises(corosync.ClosedError):
                await aio.mcast(cpg, b"closed")
            with pytest.raises(corosync.ClosedError):
                await aio.wait_members(cpg, group, 1)

        run(main())


class TestCancellation:
    def test_a_cancelled_wait_leaves_the_stream_usable(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()

        async def main() -> list[CpgEvent]:
            stream = aio.events(cpg)
            cpg.join(group)
            await anext(stream)
            for _ in range(3):
                waiting = asyncio.create_task(next_of(stream))
                await asyncio.sleep(0.02)
                waiting.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await waiting
            await send_numbered(cpg, 5)
            return await take(stream, 5)

        assert run(main()) == mine(group, numbered(5))

    def test_an_event_that_arrives_as_the_wait_is_cancelled_is_not_lost(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()

        async def main() -> tuple[CpgEvent | None, list[CpgEvent]]:
            oracle = aio.events(cpg)  # tells when an event was dispatched
            stream = aio.events(cpg)
            cpg.join(group)
            await anext(oracle)
            await anext(stream)
            waiting = asyncio.create_task(next_of(stream))
            await asyncio.sleep(0.02)
            await aio.mcast(cpg, b"raced")
            await anext(oracle)  # dispatched, and handed to `stream` too: now cancel
            waiting.cancel()
            try:
                got: CpgEvent | None = await waiting  # the cancel may come too late
            except asyncio.CancelledError:
                got = None
            await aio.mcast(cpg, b"next")
            return got, await take(stream, 1 if got else 2)

        got, rest = run(main())
        assert ([got] if got else []) + rest == mine(group, [b"raced", b"next"])

    def test_cancelling_consumers_in_the_middle_of_a_burst_loses_nothing(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()
        total = 400

        async def main() -> list[CpgEvent]:
            stream = aio.events(cpg)
            cpg.join(group)
            await anext(stream)
            sender = asyncio.create_task(send_numbered(cpg, total))
            got: list[CpgEvent] = []

            async def consume() -> None:
                async for event in stream:
                    got.append(event)
                    await asyncio.sleep(0)

            while len(got) < total:
                consumer = asyncio.create_task(consume())
                target = min(len(got) + 37, total)
                while len(got) < target and not consumer.done():
                    await asyncio.sleep(0)
                consumer.cancel()
                try:
                    await consumer
                except asyncio.CancelledError:
                    pass
            await sender
            return got

        assert run(main()) == mine(group, numbered(total))

    def test_a_cancelled_mcast_sends_nothing_and_leaves_the_handle_usable_and_unregistered(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        # Each round fills the window of 8 (nothing dispatches the messages back), starts an
        # aio.mcast, which has to wait, lets the loop run `yields` times and cancels it. A
        # task that cancel() finds still waiting must end in CancelledError, its message not
        # sent; one that finished first has sent it.
        cpg = open_cpg(send_window_messages=8, retry_timeout=60.0)

        async def main() -> tuple[list[bytes], dict[int, str], list[CpgEvent]]:
            async with aio.events(cpg) as stream:
                cpg.join(group)
                await anext(stream)
            sent: list[bytes] = []
            outcomes: dict[int, str] = {}
            for yields in range(8):
                while not cpg.flow_control_enabled:
                    sent.append(b"fill-%d-%d" % (yields, len(sent)))
                    cpg.mcast(sent[-1])
                sending = asyncio.create_task(aio.mcast(cpg, b"try-%d" % yields))
                for _ in range(yields):
                    await asyncio.sleep(0)
                if sending.cancel():
                    try:
                        await sending
                    except asyncio.CancelledError:
                        outcomes[yields] = "cancelled"
                    else:
                        outcomes[yields] = "sent though cancel() found it waiting"
                        sent.append(b"try-%d" % yields)
                else:
                    await sending
                    outcomes[yields] = "sent"
                    sent.append(b"try-%d" % yields)
                assert not registered(cpg.fileno()), (
                    f"an aio.mcast {outcomes[yields]} after {yields} yields left a reader"
                )
            await aio.mcast(cpg, b"after")
            async with aio.events(cpg) as stream:
                return sent, outcomes, await take_until(stream, is_message(b"after"))

        sent, outcomes, events = run(main())
        assert outcomes[0] == "cancelled"  # cancelled before it even started
        assert all(o in ("cancelled", "sent") for o in outcomes.values()), outcomes
        assert events == mine(group, [*sent, b"after"]), f"outcomes: {outcomes}"

    def test_a_cancelled_wait_members_leaves_the_handle_usable_and_unregistered(
        self, run: Run, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()

        async def main() -> tuple[bool, list[CpgEvent]]:
            cpg.join(group)
            waiting = asyncio.create_task(aio.wait_members(cpg, group, 2))
            await asyncio.sleep(0.1)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            reading = registered(cpg.fileno())
            return reading, await events_after_a_mcast(cpg, 2)

        reading, events = run(main())
        assert not reading, "a cancelled wait_members left a reader on the fd"
        assert [describe(e) for e in events] == [my_join(group), *mine(group, [b"after"])]
