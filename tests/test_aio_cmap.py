"""corosync.aio with CMAP on a real one-node cluster, on asyncio's event loop and on uvloop:
a stream of a key's (or a prefix's) changes, kept from the stream's creation on; one loop
serving a CPG stream and a CMAP stream at once; aclose() untracking; close, cancellation and
the loop's reader."""

from __future__ import annotations

import asyncio
import select

import pytest
from aio_helpers import CpgEvent, Run, delivered, registered, take
from cmap_helpers import Change as Recorded
from cmap_helpers import ChangeRecorder
from conftest import CpgFactory

import corosync
from corosync import DispatchFlags, aio
from corosync.cmap import Change, TrackEvent, TypedValue, ValueType
from corosync.testing import Node

ADD, MODIFY, DELETE = TrackEvent.ADD, TrackEvent.MODIFY, TrackEvent.DELETE


def s(value: str) -> TypedValue:
    return TypedValue(ValueType.STRING, value)


def u32(value: int) -> TypedValue:
    return TypedValue(ValueType.UINT32, value)


def test_a_stream_sees_a_keys_add_modify_and_delete(
    run: Run, cmap: corosync.CMAP, prefix: str
) -> None:
    key = prefix + "k"

    async def main() -> list[Change]:
        async with aio.events(cmap, key) as stream:
            cmap.set(key, "one")
            cmap.set(key, "two")
            cmap.delete(key)
            return await take(stream, 3)

    assert run(main()) == [
        Change(ADD, key, s("one"), None),
        Change(MODIFY, key, s("two"), s("one")),
        Change(DELETE, key, None, s("two")),
    ]


def test_a_prefix_stream_sees_every_key_under_the_prefix_and_no_other(
    run: Run, cmap: corosync.CMAP, prefix: str
) -> None:
    outside = prefix[:-1] + "-outside.k"  # shares the text of the prefix, not the dot

    async def main() -> list[Change]:
        async with aio.events(cmap, prefix, prefix=True) as stream:
            cmap.set(prefix + "a", 1, ValueType.UINT32)
            cmap.set(outside, "not seen")
            cmap.set(prefix + "b.c", "deeper")
            cmap.delete(prefix + "a")
            # corosync reports one connection's changes in order: had the key outside been
            # seen, it would come before the last of these.
            return await take(stream, 3)

    try:
        assert run(main()) == [
            Change(ADD, prefix + "a", u32(1), None),
            Change(ADD, prefix + "b.c", s("deeper"), None),
            Change(DELETE, prefix + "a", None, u32(1)),
        ]
    finally:
        cmap.delete(outside)


def test_a_stream_sees_only_the_events_it_asked_for(
    run: Run, cmap: corosync.CMAP, prefix: str
) -> None:
    key = prefix + "k"

    async def main() -> list[Change]:
        async with aio.events(cmap, key, events=ADD | DELETE) as stream:
            cmap.set(key, "one")
            cmap.set(key, "two")
            cmap.delete(key)
            return await take(stream, 2)

    assert run(main()) == [Change(ADD, key, s("one"), None), Change(DELETE, key, None, s("two"))]


def test_changes_between_creation_and_iteration_are_kept(
    run: Run, cmap: corosync.CMAP, prefix: str
) -> None:
    # Two streams of one handle: reading the first dispatches the handle, and with it the
    # second's change, which must wait in the second until it is read.
    key = prefix + "k"

    async def main() -> tuple[list[Change], list[Change]]:
        everything = aio.events(cmap, prefix, prefix=True)
        one_key = aio.events(cmap, key)
        cmap.set(key, "early")
        cmap.set(prefix + "marker", "m")
        first = await take(everything, 2)
        await asyncio.sleep(0.1)
        return first, await take(one_key, 1)

    first, later = run(main())
    assert first == [
        Change(ADD, key, s("early"), None),
        Change(ADD, prefix + "marker", s("m"), None),
    ]
    assert later == [Change(ADD, key, s("early"), None)]


def test_one_loop_serves_a_cpg_stream_and_a_cmap_stream_at_once(
    run: Run, open_cpg: CpgFactory, cmap: corosync.CMAP, prefix: str, group: str
) -> None:
    cpg = open_cpg(send_window_messages=8)
    key = prefix + "counter"
    count = 200

    async def produce() -> None:
        for i in range(count):
            await aio.mcast(cpg, b"m%d" % i)
            cmap.set(key, i, ValueType.UINT32)
            await asyncio.sleep(0)

    async def main() -> tuple[list[CpgEvent], list[Change]]:
        cpg_stream = aio.events(cpg)
        cmap_stream = aio.events(cmap, key)
        cpg.join(group)
        producer = asyncio.create_task(produce())
        cpg_events, changes = await asyncio.gather(
            take(cpg_stream, count + 1), take(cmap_stream, count)
        )
        await producer
        return cpg_events, changes

    cpg_events, changes = run(main())
    assert delivered(cpg_events) == [b"m%d" % i for i in range(count)]
    assert changes == [
        Change(ADD, key, u32(0), None),
        *(Change(MODIFY, key, u32(i), u32(i - 1)) for i in range(1, count)),
    ]


def test_aclose_untracks_and_removes_the_reader(run: Run, cmap: corosync.CMAP, prefix: str) -> None:
    key, marker = prefix + "k", prefix + "marker"

    async def main() -> tuple[Change, bool, bool]:
        stream = aio.events(cmap, key)
        cmap.set(key, "seen")
        first = await anext(stream)
        reading_while_open = registered(cmap.fileno())
        await stream.aclose()
        with pytest.raises(StopAsyncIteration):
            await anext(stream)
        return first, reading_while_open, registered(cmap.fileno())

    first, reading_while_open, reading = run(main())
    assert first == Change(ADD, key, s("seen"), None)
    assert reading_while_open
    assert not reading, "the fd still has a reader after the last stream's aclose()"
    # corosync reports one connection's changes in order: had the stream's track survived,
    # the change of `key` would be the first event dispatched, before the marker's.
    recorder = ChangeRecorder()
    cmap.track(marker, recorder)
    cmap.set(key, "unseen")
    cmap.set(marker, "m")
    assert select.select([cmap], [], [], 10)[0], "no event arrived"
    cmap.dispatch(DispatchFlags.ONE)
    assert recorder.changes == [Recorded(ADD, marker, s("m"), None)]


def test_close_ends_the_stream_and_a_closed_handle_raises_closed_error(
    run: Run, corosync_node: Node, prefix: str
) -> None:
    cmap = corosync_node.connect(corosync.CMAP)
    fd = cmap.fileno()
    key = prefix + "k"

    async def main() -> tuple[list[Change], bool]:
        stream = aio.events(cmap, key)
        cmap.set(key, "one")
        assert await anext(stream) == Change(ADD, key, s("one"), None)
        waiting = asyncio.create_task(take(stream, 1))
        await asyncio.sleep(0.05)
        cmap.close()
        with pytest.raises(StopAsyncIteration):
            await waiting
        with pytest.raises(corosync.ClosedError):
            aio.events(cmap, key)
        return [c async for c in stream], registered(fd)

    try:
        rest, reading = run(main())
    finally:
        cmap.close()
    assert rest == []
    assert not reading, "the fd of a closed handle still has a reader"


def test_a_cancelled_wait_leaves_the_stream_usable(
    run: Run, cmap: corosync.CMAP, prefix: str
) -> None:
    key = prefix + "k"

    async def main() -> list[Change]:
        async with aio.events(cmap, key) as stream:
            waiting = asyncio.create_task(take(stream, 1))
            await asyncio.sleep(0.05)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            cmap.set(key, 7, ValueType.UINT32)
            return await take(stream, 1)

    assert run(main()) == [Change(ADD, key, u32(7), None)]


def test_an_invalid_key_raises_and_leaves_no_reader(
    run: Run, cmap: corosync.CMAP, prefix: str
) -> None:
    async def main() -> bool:
        with pytest.raises(corosync.InvalidParamError):
            aio.events(cmap, prefix + "not a key!")
        return registered(cmap.fileno())

    assert not run(main())


def test_connect_opens_a_cmap_and_closes_it(run: Run, corosync_node: Node) -> None:
    async def main() -> tuple[corosync.CMAP, object]:
        with corosync_node.entered():
            async with aio.connect(corosync.CMAP) as cmap:
                assert not cmap.closed
                return cmap, cmap["totem.cluster_name"]

    cmap, name = run(main())
    assert cmap.closed
    assert name == corosync_node.cluster.name


def test_two_streams_of_one_handle_get_their_own_keys_changes(
    run: Run, cmap: corosync.CMAP, prefix: str
) -> None:
    first_key, second_key = prefix + "first", prefix + "second"

    async def main() -> tuple[list[Change], list[Change]]:
        first = aio.events(cmap, first_key)
        second = aio.events(cmap, second_key)
        for i in range(20):
            cmap.set(second_key if i % 2 else first_key, f"v{i}")
        return await take(first, 10), await take(second, 10)

    first, second = run(main())
    assert [(c.key, c.new) for c in first] == [(first_key, s(f"v{i}")) for i in range(0, 20, 2)]
    assert [(c.key, c.new) for c in second] == [(second_key, s(f"v{i}")) for i in range(1, 20, 2)]
