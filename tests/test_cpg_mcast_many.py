"""CPG.mcast_many: several messages in one call, each its own corosync message, in order."""

from __future__ import annotations

import array
import select
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from conftest import CpgFactory
from cpg_events import Delivered, joined, pump, pump_past_marker

import corosync


def test_each_item_is_a_message_of_its_own_in_order(open_cpg: CpgFactory, group: str) -> None:
    cpg, recorder = joined(open_cpg, group)
    messages = [f"message {i}".encode() for i in range(1000)]
    assert cpg.mcast_many(messages) == 1000
    pump([cpg], lambda: len(recorder.messages()) == 1000)
    assert recorder.messages() == messages


@pytest.mark.parametrize("count", [1, 255, 256, 257, 513])
@pytest.mark.parametrize("container", [list, tuple])
def test_a_list_or_tuple_around_the_batch_size_goes_whole(
    open_cpg: CpgFactory,
    group: str,
    count: int,
    container: type[list[bytes]] | type[tuple[bytes, ...]],
) -> None:
    # A list's or tuple's items are taken in batches of at most 256: the batch that takes
    # the last item must still find the end, and the next batch go on.
    cpg, recorder = joined(open_cpg, group)
    messages = [b"%d" % i for i in range(count)]
    assert cpg.mcast_many(container(messages)) == count
    pump([cpg], lambda: len(recorder.messages()) == count)
    assert recorder.messages() == messages


def test_any_bytes_like_items_and_any_iterable_are_taken(open_cpg: CpgFactory, group: str) -> None:
    cpg, recorder = joined(open_cpg, group)

    def items() -> Iterator[bytes | bytearray | memoryview | array.array[int]]:
        yield b"ab"
        yield bytearray(b"cd")
        yield memoryview(b"xxefxx")[2:4]
        yield array.array("B", b"gh")
        yield b""

    assert cpg.mcast_many(items(), guarantee=corosync.Guarantee.AGREED, group=group) == 5
    pump([cpg], lambda: len(recorder.messages()) == 5)
    assert recorder.messages() == [b"ab", b"cd", b"ef", b"gh", b""]


def test_bytes_like_items_of_a_list_across_batches_keep_their_order(
    open_cpg: CpgFactory, group: str
) -> None:
    # Items that are not bytes are held through buffer exports of their own, beside the
    # bytes items, in each of the three batches.
    cpg, recorder = joined(open_cpg, group)
    kinds = (bytes, bytearray, lambda b: memoryview(b"<" + b + b">")[1:-1])
    messages = [b"%d" % i for i in range(600)]
    items = [kinds[i % 3](m) for i, m in enumerate(messages)]
    assert cpg.mcast_many(items) == 600
    pump([cpg], lambda: len(recorder.messages()) == 600)
    assert recorder.messages() == messages


def test_the_items_are_let_go_once_sent(open_cpg: CpgFactory, group: str) -> None:
    cpg, recorder = joined(open_cpg, group)
    kept = b"kept %d" % 1
    resizable = bytearray(b"resizable")
    references = sys.getrefcount(kept)
    assert cpg.mcast_many([resizable, kept] * 300) == 600
    assert sys.getrefcount(kept) == references
    resizable.extend(b"!")  # BufferError while a buffer export is still held
    pump([cpg], lambda: len(recorder.messages()) == 600)
    assert recorder.messages()[:2] == [b"resizable", b"kept 1"]


def test_an_empty_iterable_sends_nothing(open_cpg: CpgFactory, group: str) -> None:
    cpg, recorder = joined(open_cpg, group)
    assert cpg.mcast_many([]) == 0
    assert not [e for e in pump_past_marker(cpg, recorder, group) if isinstance(e, Delivered)]


def test_a_bad_item_stops_after_the_items_before_it(open_cpg: CpgFactory, group: str) -> None:
    cpg, recorder = joined(open_cpg, group)
    with pytest.raises(
        TypeError, match="item 2 must be a contiguous bytes-like object, not int"
    ) as e:
        cpg.mcast_many([b"one", b"two", 3, b"four"])  # type: ignore[list-item]
    assert e.value.sent == 2  # type: ignore[attr-defined]
    before_marker = pump_past_marker(cpg, recorder, group)
    assert [ev.message for ev in before_marker if isinstance(ev, Delivered)] == [b"one", b"two"]


def test_an_error_from_the_iterable_comes_out_after_the_items_before_it(
    open_cpg: CpgFactory, group: str
) -> None:
    cpg, recorder = joined(open_cpg, group)

    def items() -> Iterator[bytes]:
        yield from (b"%d" % i for i in range(300))  # more than one batch
        raise LookupError("the source ran dry")

    with pytest.raises(LookupError, match="ran dry") as e:
        cpg.mcast_many(items())
    assert e.value.sent == 300  # type: ignore[attr-defined]
    pump([cpg], lambda: len(recorder.messages()) == 300)
    assert recorder.messages() == [b"%d" % i for i in range(300)]


def test_a_full_send_window_raises_try_again_saying_how_many_went(
    open_cpg: CpgFactory, group: str
) -> None:
    cpg, recorder = joined(open_cpg, group, send_window_messages=5, retry_timeout=0)
    with pytest.raises(corosync.TryAgainError) as e:
        cpg.mcast_many([b"m%d" % i for i in range(10)])
    assert e.value.sent == 5  # type: ignore[attr-defined]
    pump([cpg], lambda: len(recorder.messages()) == 5)
    assert recorder.messages() == [b"m%d" % i for i in range(5)]


def test_a_batch_beyond_the_send_window_goes_whole_while_another_thread_dispatches(
    open_cpg: CpgFactory, group: str
) -> None:
    # The items the window takes go in one run; the next waits for room (the other thread's
    # dispatch brings the earlier ones back), then a run starts again behind it.
    cpg, recorder = joined(open_cpg, group, send_window_messages=8, retry_timeout=30)
    messages = [b"w%d" % i for i in range(200)]
    done = threading.Event()

    def dispatch_until_done() -> None:
        while not done.is_set():
            select.select([cpg.fileno()], [], [], 0.1)
            cpg.dispatch(corosync.DispatchFlags.ALL)

    dispatcher = threading.Thread(target=dispatch_until_done)
    dispatcher.start()
    try:
        assert cpg.mcast_many(messages) == 200
        deadline = time.monotonic() + 15
        while len(recorder.messages()) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        done.set()
        dispatcher.join()
    assert recorder.messages() == messages


def test_a_list_subclass_is_sent_as_its_iterator_gives_it(open_cpg: CpgFactory, group: str) -> None:
    # A list or tuple itself is read by index; a subclass may iterate otherwise.
    class Reversed(list[bytes]):
        def __iter__(self) -> Iterator[bytes]:
            return reversed(self)

    cpg, recorder = joined(open_cpg, group)
    assert cpg.mcast_many(Reversed([b"a", b"b", b"c"])) == 3
    pump([cpg], lambda: len(recorder.messages()) == 3)
    assert recorder.messages() == [b"c", b"b", b"a"]


def test_a_list_shrunk_by_another_thread_meanwhile_is_sent_as_its_iterator_would(
    open_cpg: CpgFactory, group: str
) -> None:
    # The list is read by index, its size read again for each item: what went is the list's
    # first items, in order, however far another thread shrank it while the sender waited
    # for room (without the GIL).
    cpg, recorder = joined(open_cpg, group, send_window_messages=8, retry_timeout=30)
    original = [b"s%d" % i for i in range(2000)]
    messages = list(original)
    done = threading.Event()

    def dispatch_and_shrink() -> None:
        while not done.is_set():
            select.select([cpg.fileno()], [], [], 0.1)
            cpg.dispatch(corosync.DispatchFlags.ALL)
            del messages[max(300, len(messages) - 20) :]

    dispatcher = threading.Thread(target=dispatch_and_shrink)
    dispatcher.start()
    try:
        sent = cpg.mcast_many(messages)
        deadline = time.monotonic() + 15
        while len(recorder.messages()) < sent and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        done.set()
        dispatcher.join()
    assert 300 <= sent < 2000, sent
    assert recorder.messages() == original[:sent]


def test_small_and_large_items_keep_their_order(open_cpg: CpgFactory, group: str) -> None:
    # Small items go in runs under one lock; one above 16 KiB (which could wait) goes on
    # its own between them.
    cpg, recorder = joined(open_cpg, group)
    big = b"B" * (64 << 10)
    messages = [b"s0", big, b"s1", b"s2", big + b"2", b"s3"]
    assert cpg.mcast_many(messages) == 6
    pump([cpg], lambda: len(recorder.messages()) == 6)
    assert recorder.messages() == messages


def test_a_group_not_joined_raises_not_exist_with_nothing_sent(
    open_cpg: CpgFactory, group: str
) -> None:
    cpg, _ = joined(open_cpg, group)
    with pytest.raises(corosync.NotExistError) as e:
        cpg.mcast_many([b"x"], group=group + "-other")
    assert e.value.sent == 0  # type: ignore[attr-defined]


def test_a_non_iterable_raises_type_error(open_cpg: CpgFactory, group: str) -> None:
    cpg, _ = joined(open_cpg, group)
    with pytest.raises(TypeError):
        cpg.mcast_many(b"abc"[0])  # type: ignore[arg-type]


def test_after_close_raises_closed_error(open_cpg: CpgFactory, group: str) -> None:
    cpg, _ = joined(open_cpg, group)
    cpg.close()
    with pytest.raises(corosync.ClosedError):
        cpg.mcast_many([b"x"])
