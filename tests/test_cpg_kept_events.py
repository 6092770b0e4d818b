"""The events behind a callback that raised, on a real one-node cluster: a dispatch of
everything queued hands libcpg's whole queue to one C call, which cannot be stopped, so the
binding keeps the events that call hands over after the exception. They come next, one per
callback, in order (a callback that raises again keeps the rest), the handle's fd stays
readable while any are kept, and closing or collecting the handle drops them cleanly."""

from __future__ import annotations

import gc
import select
import weakref

import pytest
from conftest import CpgFactory
from cpg_events import ConfChg, Delivered, joined, pump

import corosync
from corosync import DispatchFlags
from corosync.testing import Node

COUNT = 200


class Boom(Exception):
    pass


def readable(cpg: corosync.CPG, timeout: float = 10.0) -> bool:
    return bool(select.select([cpg], [], [], timeout)[0])


def queue_behind_a_raise(cpg: corosync.CPG, raise_on: set[bytes]) -> list[bytes]:
    """Sends COUNT messages to the joined group; the deliver callback records each and
    raises Boom after those in `raise_on`. Before the first returns, it waits until another
    is queued (libqb takes an event's wake-up from the fd before its callback runs), so that
    the C call running it hands over at least one more. Returns the recording list."""
    seen: list[bytes] = []

    def deliver(g: str | bytes, nodeid: int, pid: int, message: bytes) -> None:
        seen.append(message)
        if len(seen) == 1:
            assert readable(cpg), "the second message did not come"
        if message in raise_on:
            raise Boom(message.decode())

    cpg.on_deliver = deliver
    cpg.mcast_many([str(i).encode() for i in range(COUNT)])
    assert readable(cpg), "nothing came back"
    return seen


def test_the_events_behind_the_raise_come_next_in_order_one_per_one_call(
    open_cpg: CpgFactory, group: str
) -> None:
    cpg, _ = joined(open_cpg, group)
    seen = queue_behind_a_raise(cpg, {b"0"})
    with pytest.raises(Boom, match=r"^0$"):
        cpg.dispatch(DispatchFlags.ALL)
    assert seen == [b"0"]
    # Kept or still in libcpg, the next is readable at once and comes alone.
    assert readable(cpg, 0)
    cpg.dispatch(DispatchFlags.ONE_NONBLOCKING)
    assert seen == [b"0", b"1"]
    cpg.dispatch(DispatchFlags.ONE)
    assert seen == [b"0", b"1", b"2"]
    pump([cpg], lambda: len(seen) == COUNT)
    assert seen == [str(i).encode() for i in range(COUNT)]


def test_a_kept_event_that_raises_again_keeps_the_rest(open_cpg: CpgFactory, group: str) -> None:
    cpg, _ = joined(open_cpg, group)
    raising = {str(i).encode() for i in range(0, COUNT, 7)}
    seen = queue_behind_a_raise(cpg, raising)
    raised: list[str] = []
    while len(seen) < COUNT:
        assert readable(cpg), f"stalled after {len(seen)} messages"
        try:
            cpg.dispatch(DispatchFlags.ALL)
        except Boom as e:
            raised.append(str(e))
    assert seen == [str(i).encode() for i in range(COUNT)]
    assert raised == [str(i) for i in range(0, COUNT, 7)]


def test_the_fd_is_not_readable_once_every_kept_event_ran(open_cpg: CpgFactory, group: str) -> None:
    cpg, _ = joined(open_cpg, group)
    seen = queue_behind_a_raise(cpg, {b"0"})
    with pytest.raises(Boom):
        cpg.dispatch(DispatchFlags.ALL)
    pump([cpg], lambda: len(seen) == COUNT)
    cpg.dispatch(DispatchFlags.ALL)  # whatever a pump's last round left
    assert not readable(cpg, 0.2)


def test_a_confchg_behind_the_raise_is_kept_too(open_cpg: CpgFactory, group: str) -> None:
    # The handle's own leave: its confchg comes on the group's connection right behind the
    # message, and retires that connection while the confchg waits to be dispatched.
    cpg, recorder = joined(open_cpg, group)
    deliver = recorder.on_deliver

    def raising(g: str | bytes, nodeid: int, pid: int, message: bytes) -> None:
        deliver(g, nodeid, pid, message)
        assert readable(cpg), "the leave confchg did not come"
        raise Boom("before the leave")

    cpg.on_deliver = raising
    cpg.mcast(b"last words")
    cpg.leave(group)
    assert readable(cpg)
    with pytest.raises(Boom):
        cpg.dispatch(DispatchFlags.ALL)
    me = cpg.local_address
    pump([cpg], lambda: len(recorder.confchgs()) == 2, what="the leave confchg")
    *_, message, leave = recorder.events
    assert isinstance(message, Delivered) and message.message == b"last words"
    assert isinstance(leave, ConfChg)
    assert [(a.nodeid, a.pid, a.reason) for a in leave.left] == [(*me, corosync.cpg.Reason.LEAVE)]
    # The group can be joined again: the retired connection went.
    cpg.join(group)
    pump([cpg], lambda: len(recorder.confchgs()) == 3, what="the rejoin")


def test_closing_drops_the_kept_events(open_cpg: CpgFactory, group: str) -> None:
    cpg, _ = joined(open_cpg, group)
    seen = queue_behind_a_raise(cpg, {b"0"})
    with pytest.raises(Boom):
        cpg.dispatch(DispatchFlags.ALL)
    cpg.close()
    with pytest.raises(corosync.ClosedError):
        cpg.dispatch(DispatchFlags.ALL)
    assert seen == [b"0"]


def test_collecting_an_unclosed_handle_drops_the_kept_events(
    corosync_node: Node, group: str
) -> None:
    cpg, _ = joined(lambda **kwargs: corosync_node.connect(corosync.CPG, **kwargs), group)
    seen = queue_behind_a_raise(cpg, {b"0"})  # its callback refers to the handle: a cycle
    with pytest.raises(Boom):
        cpg.dispatch(DispatchFlags.ALL)
    ref = weakref.ref(cpg)
    del cpg
    gc.collect()
    assert ref() is None
    assert seen == [b"0"]
