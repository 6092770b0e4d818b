"""A dispatch of everything queued never shuts the handle's other callers out, on a real
one-node cluster. libcpg's CS_DISPATCH_ALL returns only once the connection's queue is
empty, and a thread sending without pause keeps it from ever being empty: join(), leave()
and close() from other threads must still get their turn while such a dispatch runs (an
earlier version made them wait for it for good)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from conftest import CpgFactory
from cpg_events import joined

import corosync
from corosync import DispatchFlags

# Generous: each call takes milliseconds when it gets its turn; this only tells a hang.
HANG_SECONDS = 60.0


def finishes(work: Callable[[], object], what: str) -> None:
    """Runs `work` in a thread and fails, naming `what`, if it has not returned within
    HANG_SECONDS (the thread is a daemon: a hung one does not keep the tests from ending)."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as e:
            failure.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_SECONDS)
    assert not thread.is_alive(), f"{what} waited for the running dispatch for good"
    assert failure == [], f"{what} raised {failure!r}"


def test_join_leave_and_close_get_their_turn_while_a_flooded_dispatch_runs(
    open_cpg: CpgFactory, group: str
) -> None:
    cpg, _ = joined(open_cpg, group)
    delivered = 0
    running = 0  # callbacks running now: never more than one, whichever thread dispatches
    overlaps = 0
    flooding = threading.Event()
    stop = threading.Event()

    def deliver(g: str | bytes, nodeid: int, pid: int, message: bytes) -> None:
        # Slower than the sender: what this callback lets through keeps the queue full.
        nonlocal delivered, running, overlaps
        running += 1
        overlaps += running > 1
        delivered += 1
        if delivered == 200:
            flooding.set()
        time.sleep(0.0002)
        running -= 1

    cpg.on_deliver = deliver

    def send() -> None:
        while not stop.is_set():
            try:
                cpg.mcast_many([b"x"] * 16, group=group)
            except corosync.ClosedError:
                return

    def dispatch() -> None:
        while not stop.is_set():
            try:
                cpg.dispatch(DispatchFlags.ALL)
            except corosync.ClosedError:
                return

    # Two dispatching threads: while one lets join() or close() in, the other must wait.
    threads = [
        threading.Thread(target=send, daemon=True),
        threading.Thread(target=dispatch, daemon=True),
        threading.Thread(target=dispatch, daemon=True),
    ]
    for t in threads:
        t.start()
    try:
        assert flooding.wait(HANG_SECONDS), "the flood did not start"
        other = f"{group}-other"
        finishes(lambda: cpg.join(other), "join()")
        assert other in cpg.group_names()
        finishes(lambda: cpg.leave(other), "leave()")
        # The flood goes on: close() races a dispatch that is running callbacks.
        after_leave = delivered
        deadline = time.monotonic() + HANG_SECONDS
        while delivered == after_leave and time.monotonic() < deadline:
            time.sleep(0.01)
        assert delivered > after_leave, "the dispatch stopped running callbacks"
        finishes(cpg.close, "close()")
        assert cpg.closed
    finally:
        stop.set()
        for t in threads:
            t.join(HANG_SECONDS)
    assert not any(t.is_alive() for t in threads), "the sender or a dispatcher hung"
    assert overlaps == 0, "two callbacks of the handle ran at once"
