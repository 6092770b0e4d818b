"""Threads soak (issue 24, item 6), on this module's own one-node cluster: 8 threads send (CPG
mcast) and set tracked CMAP keys, one thread dispatches every handle, and another closes and
reopens handles all the while, for SOAK seconds. Every thread ends within its deadline (a
stuck one fails the test with every thread's stack), nothing crashes, the only exceptions are
ClosedError from the handles being closed and reopened (counted), and the handles that stayed
open lost nothing: every message was delivered, in each sender's order, and every change of a
tracked key was reported, in order.

Each sender works on the stable handles (a CPG joined to one group, a CMAP tracking one
prefix) and on whatever the churned handles are at the moment (a CPG joined to a group of its
generation, a CMAP with a track of its own): send, set, track and untrack there meet handles
that another thread closes under them."""

from __future__ import annotations

import select
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

import pytest
from cpg_events import pump

import corosync
from corosync.cmap import TrackEvent, TypedValue, ValueType
from corosync.testing import Node

#: How long the soak runs.
SOAK = 15.0
SENDERS = 8
#: How long any thread may take to end once told to stop, and the delivery to finish.
DEADLINE = 30.0


@dataclass
class Churned:
    """The handles the churner closes and reopens; read by the others at any moment."""

    cpg: corosync.CPG
    cmap: corosync.CMAP
    group: str
    fds: tuple[int, int]


@dataclass
class Soak:
    node: Node
    group: str = field(default_factory=lambda: f"soak-{uuid.uuid4().hex[:12]}")
    prefix: str = field(default_factory=lambda: f"test.soak.{uuid.uuid4().hex[:12]}.")
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: What the stable handles delivered: messages, and (key, value) of the changes.
    delivered: list[bytes] = field(default_factory=list)
    changes: list[tuple[str, int]] = field(default_factory=list)
    sent: Counter[int] = field(default_factory=Counter)  # per sender
    set_: Counter[int] = field(default_factory=Counter)
    closed_errors: Counter[str] = field(default_factory=Counter)  # per place
    unexpected: list[tuple[str, BaseException]] = field(default_factory=list)
    generations: int = 0
    churned: Churned | None = None

    def expect_closed(self, where: str, call: Callable[[], object]) -> None:
        """Run a call on a churned handle: ClosedError is what a concurrent close gives."""
        try:
            call()
        except corosync.ClosedError:
            with self.lock:
                self.closed_errors[where] += 1

    def guarded(self, name: str, body: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                body()
            except BaseException as e:
                with self.lock:
                    self.unexpected.append((name, e))
                self.stop.set()

        return run


def on_change(soak: Soak) -> Callable[..., None]:
    def record(event: TrackEvent, key: str, new: TypedValue | None, old: TypedValue | None) -> None:
        assert new is not None and isinstance(new.value, int)
        soak.changes.append((key, new.value))

    return record


def send(soak: Soak, number: int, cpg: corosync.CPG, cmap: corosync.CMAP) -> None:
    key = f"{soak.prefix}s{number}"
    i = 0
    while not soak.stop.is_set():
        i += 1
        cpg.mcast(b"%d:%d" % (number, i))
        soak.sent[number] = i
        cmap.set(key, i, ValueType.UINT32)
        soak.set_[number] = i
        churned = soak.churned
        assert churned is not None
        soak.expect_closed("mcast", partial(churned.cpg.mcast, b"churned", group=churned.group))
        soak.expect_closed("set", partial(churned.cmap.set, key, i, ValueType.UINT32))
        if i % 16 == 0:
            soak.expect_closed("track", partial(track_and_untrack, churned.cmap, key))


def track_and_untrack(cmap: corosync.CMAP, key: str) -> None:
    track = cmap.track(key, lambda *args: None)
    cmap.untrack(track)


def dispatch(soak: Soak, stable: list[corosync.CPG | corosync.CMAP]) -> None:
    """Dispatches the stable handles and the churned ones until told to stop."""
    stable_fds = {handle.fileno(): handle for handle in stable}
    while not soak.stop.is_set():
        churned = soak.churned
        assert churned is not None
        fds = [*stable_fds, *churned.fds]
        for fd in select.select(fds, [], [], 0.1)[0]:
            if fd in stable_fds:
                stable_fds[fd].dispatch()
            else:
                handle = churned.cpg if fd == churned.fds[0] else churned.cmap
                soak.expect_closed("dispatch", handle.dispatch)


def open_churned(soak: Soak, generation: int) -> Churned:
    group = f"{soak.group}-{generation}"
    cpg = soak.node.connect(corosync.CPG, on_deliver=lambda *args: None)
    cpg.join(group)
    cmap = soak.node.connect(corosync.CMAP)
    cmap.track(soak.prefix, lambda *args: None, prefix=True)
    return Churned(cpg, cmap, group, (cpg.fileno(), cmap.fileno()))


def churn(soak: Soak) -> None:
    """Closes the churned handles and puts new ones in their place, every few milliseconds."""
    while not soak.stop.wait(0.02):
        old = soak.churned
        soak.generations += 1
        soak.churned = open_churned(soak, soak.generations)
        assert old is not None
        old.cpg.close()
        old.cmap.close()


def stacks_of(threads: list[threading.Thread]) -> str:
    frames = sys._current_frames()
    return "\n".join(
        f"--- {t.name}\n" + "".join(traceback.format_stack(frames[t.ident]))
        for t in threads
        if t.ident in frames
    )


@pytest.fixture
def soak(corosync_node: Node) -> Iterator[Soak]:
    soak = Soak(corosync_node)
    soak.churned = open_churned(soak, 0)
    yield soak
    soak.stop.set()
    if soak.churned is not None:
        soak.churned.cpg.close()
        soak.churned.cmap.close()


@pytest.mark.timeout(SOAK + 3 * DEADLINE)
def test_senders_a_dispatcher_and_a_churner_share_handles_without_deadlock_or_loss(
    soak: Soak,
) -> None:
    node = soak.node
    # A generous retry timeout: a sender waits for the window while the dispatcher, one
    # thread of eleven on two cores, catches up; giving up would not be the binding's fault.
    with (
        node.connect(corosync.CPG, retry_timeout=DEADLINE) as cpg,
        node.connect(corosync.CMAP) as cmap,
    ):
        cpg.on_deliver = lambda group, nodeid, pid, message: soak.delivered.append(message)
        cpg.join(soak.group)
        cmap.track(soak.prefix, on_change(soak), prefix=True)
        threads = [
            threading.Thread(
                target=soak.guarded(f"sender {n}", partial(send, soak, n, cpg, cmap)),
                name=f"sender {n}",
                daemon=True,
            )
            for n in range(SENDERS)
        ]
        threads.append(
            threading.Thread(
                target=soak.guarded("dispatcher", lambda: dispatch(soak, [cpg, cmap])),
                name="dispatcher",
                daemon=True,
            )
        )
        threads.append(
            threading.Thread(
                target=soak.guarded("churner", lambda: churn(soak)), name="churner", daemon=True
            )
        )
        for t in threads:
            t.start()
        soak.stop.wait(SOAK)
        soak.stop.set()
        deadline = time.monotonic() + DEADLINE
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        stuck = [t for t in threads if t.is_alive()]
        assert not stuck, f"threads still running {DEADLINE} s after the stop:\n{stacks_of(stuck)}"
        assert soak.unexpected == [], soak.unexpected

        # What the stable handles were sent arrives whole and in each sender's order.
        total_sent = sum(soak.sent.values())
        total_set = sum(soak.set_.values())
        pump(
            [cpg, cmap],
            lambda: len(soak.delivered) == total_sent and len(soak.changes) == total_set,
            timeout=DEADLINE,
            what=f"{total_sent} messages and {total_set} changes",
        )
    for n in range(SENDERS):
        mine = [m for m in soak.delivered if m.startswith(b"%d:" % n)]
        assert mine == [b"%d:%d" % (n, i) for i in range(1, soak.sent[n] + 1)], n
        key = f"{soak.prefix}s{n}"
        assert [v for k, v in soak.changes if k == key] == list(range(1, soak.set_[n] + 1)), n
    # The soak did what it is for: every sender worked, the handles were churned under them.
    assert min(soak.sent.values()) > 0 and len(soak.sent) == SENDERS
    assert soak.generations >= 50, soak.generations
    assert sum(soak.closed_errors.values()) > 0, "no call met a closed handle"
