"""Bad input to every service (issue 24, item 4): one table of cases on this module's one-node
cluster, each a call that must raise its documented exception, of exactly that class, in one
line (and, where the README or the docstrings promise it, saying what they promise: the
parameter, the limit, the state).

The kinds: wrong types, ints out of range (negative, 2**32, 2**64 and beyond), names, keys,
reasons and messages over their size (counted in UTF-8 bytes), strings that are no UTF-8 (lone
surrogates) or hold a NUL where corosync stores C strings (those tables, one per service, are
in bad_input_arguments.py); closed handles (through aio too), dispatch from inside a callback
(every flavour), callbacks that raise (KeyboardInterrupt and SystemExit too: they come out of
dispatch and the next event is still delivered) or close their own handle, use from a forked
child, and use from another thread while dispatching (a close that ends a blocking dispatch;
calls that must work, the table's few cases without an exception).

Cases that other modules have are not repeated here: test_argument_errors.py (the one-line
messages of a misspelt keyword, a str retry_timeout, a float window, extra and missing
arguments, a non-callable on_deliver), test_cpg_hardening.py (send windows below one, a
forked child's copy of a CPG: closed, collected, used), and each service's module for its
own (CPG and CMAP re-entrancy and callback exceptions in test_dispatch.py and
test_cmap_tracking.py; every method of a closed handle in test_dispatch.py, test_cmap.py,
test_quorum.py, test_votequorum.py and test_cfg.py; CMAP values and key names in
test_cmap_values.py and test_cmap.py; vote and node id ranges in test_votequorum.py and
test_cfg.py). The property test over every public method is test_bad_input_property.py.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from bad_input import (
    DEADLINE,
    SERVICES,
    Callback,
    Case,
    Handle,
    Handles,
    blocking_dispatch,
    case,
    events_expected,
    in_forked_child,
    seen_all,
    waits_for_a_lock,
    with_events,
)
from bad_input_arguments import ARGUMENTS

import corosync
from corosync import DispatchFlags, aio
from corosync.testing import Node


class Boom(Exception):
    pass


# --- closed handles, through corosync.aio ---------------------------------------------------


def closed(h: Handles, service: str) -> Handle:
    handle = h.open({"cmap": corosync.CMAP, "quorum": corosync.Quorum,
                     "votequorum": corosync.Votequorum, "cfg": corosync.CFG}[service])  # fmt: skip
    handle.close()
    return handle


def in_loop(make: Callable[[], object]) -> object:
    """Runs `make()` (which may return a coroutine, awaited) inside a running loop."""

    async def main() -> object:
        made = make()
        return await made if asyncio.iscoroutine(made) else made

    return asyncio.run(main())


CLOSED = [
    case(
        "cmap-closed-aio-events",
        lambda h: in_loop(lambda: aio.events(closed(h, "cmap"), h.prefix)),
        corosync.ClosedError,
        "^cmap_fd_get failed: the handle is closed",
    ),
    case(
        "quorum-closed-aio-events",
        lambda h: in_loop(lambda: aio.events(closed(h, "quorum"))),
        corosync.ClosedError,
        "^quorum_fd_get failed: the handle is closed",
    ),
    case(
        "votequorum-closed-aio-events",
        lambda h: in_loop(lambda: aio.events(closed(h, "votequorum"))),
        corosync.ClosedError,
        "^votequorum_fd_get failed: the handle is closed",
    ),
    case(
        "cfg-closed-aio-events",
        lambda h: in_loop(lambda: aio.events(closed(h, "cfg"))),
        corosync.ClosedError,
        "^corosync_cfg_fd_get failed: the handle is closed",
    ),
    case(
        "quorum-closed-aio-wait_quorate",
        lambda h: in_loop(lambda: aio.wait_quorate(closed(h, "quorum"))),
        corosync.ClosedError,
        "the handle is closed",
    ),
    case(
        "votequorum-closed-aio-wait_quorate",
        lambda h: in_loop(lambda: aio.wait_quorate(closed(h, "votequorum"))),
        corosync.ClosedError,
        "the handle is closed",
    ),
]


# --- callbacks: re-entrant dispatch, exceptions, closing their own handle -------------------


def reentrant(service: str, flags: DispatchFlags) -> Callable[[Handles], object]:
    """A callback dispatches its own handle with `flags` (BLOCKING too, which must not wait):
    RuntimeError, out of the callback and so out of the outer dispatch."""

    def call(h: Handles) -> object:
        handle = with_events(h, service, lambda handle: lambda *args: handle.dispatch(flags))
        handle.dispatch()
        return None

    return call


def raising(service: str, error: BaseException) -> Callable[[Handles], object]:
    """The first callback raises `error`: it comes out of dispatch, and the next event is
    still delivered by the next dispatch."""

    def call(h: Handles) -> object:
        seen: list[object] = []

        def make(handle: Handle) -> Callback:
            def callback(*args: object) -> None:
                seen.append(args)
                if len(seen) == 1:
                    raise error

            return callback

        handle = with_events(h, service, make)
        seen_all(h, handle, seen, events_expected(service))
        handle.dispatch()
        return None

    return call


def closing_itself(service: str, flags: DispatchFlags) -> Callable[[Handles], object]:
    """The first callback closes its own handle: that dispatch (`flags`) returns, no later
    callback runs, and the next dispatch raises ClosedError."""

    def call(h: Handles) -> object:
        seen: list[object] = []

        def make(handle: Handle) -> Callback:
            def callback(*args: object) -> None:
                seen.append(args)
                handle.close()

            return callback

        handle = with_events(h, service, make)
        handle.dispatch(flags)
        assert handle.closed and len(seen) == 1, seen
        return handle.dispatch()

    return call


REENTRANT = "dispatch called from inside one of this handle's callbacks"
CALLBACKS = [
    *[
        case(
            f"{service}-reentrant-dispatch-blocking",
            reentrant(service, DispatchFlags.BLOCKING),
            RuntimeError,
            REENTRANT,
        )
        for service in SERVICES
    ],
    *[
        case(
            f"{service}-reentrant-dispatch-all",
            reentrant(service, DispatchFlags.ALL),
            RuntimeError,
            REENTRANT,
        )
        for service in ("quorum", "votequorum", "cfg")
    ],
    *[
        case(
            f"{service}-callback-raises-keyboard-interrupt",
            raising(service, KeyboardInterrupt("in the callback")),
            KeyboardInterrupt,
            "^in the callback$",
        )
        for service in ("cpg", "cmap", "quorum", "votequorum")
    ],
    case(
        "cpg-callback-raises-system-exit",
        raising("cpg", SystemExit("in the callback")),
        SystemExit,
        "^in the callback$",
    ),
    case("cfg-callback-raises", raising("cfg", Boom("in the callback")), Boom, "^in the callback$"),
    case(
        "cpg-callback-closes-its-handle-blocking",
        closing_itself("cpg", DispatchFlags.BLOCKING),
        corosync.ClosedError,
        "^cpg_dispatch failed: the handle is closed",
    ),
    case(
        "cmap-callback-closes-its-handle-blocking",
        closing_itself("cmap", DispatchFlags.BLOCKING),
        corosync.ClosedError,
        "^cmap_dispatch failed: the handle is closed",
    ),
    case(
        "quorum-callback-closes-its-handle",
        closing_itself("quorum", DispatchFlags.ALL),
        corosync.ClosedError,
        "^quorum_dispatch failed: the handle is closed",
    ),
    case(
        "votequorum-callback-closes-its-handle",
        closing_itself("votequorum", DispatchFlags.ONE),
        corosync.ClosedError,
        "^votequorum_dispatch failed: the handle is closed",
    ),
]


# --- a forked child --------------------------------------------------------------------------

#: A call of each service that needs the daemon, for the child and for the parent after it.
USE: dict[str, Callable[[Handle], object]] = {
    "cpg": lambda cpg: cpg.join("from-the-child"),
    "cmap": lambda cmap: cmap.get("totem.cluster_name"),
    "quorum": lambda quorum: quorum.quorate,
    "votequorum": lambda votequorum: votequorum.info(),
    "cfg": lambda cfg: cfg.node_status(1),
}
FUNCTION = {
    "cpg": "cpg_join",
    "cmap": "cmap_get",
    "quorum": "quorum_getquorate",
    "votequorum": "votequorum_getinfo",
    "cfg": "corosync_cfg_node_status_get",
}


def from_forked_child(service: str) -> Callable[[Handles], object]:
    """The parent's handle, used in a forked child: ClosedError naming the owner, while
    closing it there is quiet; the parent's handle still works after it."""

    def call(h: Handles) -> object:
        handle = h.handle(service)
        h.then(lambda: USE[service](handle))
        in_forked_child(lambda: USE[service](handle), handle.close)
        return None

    return call


FORKED = [
    case(
        f"{service}-used-in-a-forked-child",
        from_forked_child(service),
        corosync.ClosedError,
        f"^{FUNCTION[service]} failed: the handle belongs to process \\d+; a forked child "
        "cannot use it",
    )
    for service in SERVICES
]


# --- another thread while dispatching --------------------------------------------------------


def closed_while_blocking(service: str) -> Callable[[Handles], object]:
    """close() from this thread ends another thread's dispatch(BLOCKING), which returns;
    the next dispatch raises ClosedError."""

    def call(h: Handles) -> object:
        handle = h.open(type(h.handle(service)))
        dispatching = blocking_dispatch(handle)
        handle.close()
        dispatching.join(DEADLINE)
        assert not dispatching.is_alive(), "close() did not end dispatch(BLOCKING)"
        assert dispatching.outcome == [None]  # type: ignore[attr-defined]
        return handle.dispatch()

    return call


def called_from_a_thread_inside_a_callback(service: str) -> Callable[[Handles], object]:
    """A callback waits for another thread's call on the same handle: it must not wait for
    the dispatch (handles may be shared between threads)."""

    def call(h: Handles) -> object:
        answers: list[object] = []

        def make(handle: Handle) -> Callback:
            def callback(*args: object) -> None:
                if answers:
                    return
                other = threading.Thread(target=lambda: answers.append(USE_ALONGSIDE[service](
                    handle)))  # fmt: skip
                other.start()
                other.join(DEADLINE)
                assert not other.is_alive(), "a call from another thread waited for dispatch"

            return callback

        handle = with_events(h, service, make)
        handle.dispatch(DispatchFlags.ONE)
        assert len(answers) == 1, answers
        return None

    return call


def behind_a_closing_callback(
    service: str, make: Callable[[Handles, Handle], Callable[[], object]]
) -> Callable[[Handles], object]:
    """Another thread's call waits for the handle while a callback runs (the dispatch holds
    it); the callback closes the handle: the waiting call then raises ClosedError, as any
    call after close() does."""

    def call(h: Handles) -> object:
        outcome: list[BaseException | None] = []

        def make_callback(handle: Handle) -> Callback:
            waiting_call = make(h, handle)

            def run() -> None:
                try:
                    waiting_call()
                    outcome.append(None)
                except BaseException as e:
                    outcome.append(e)

            def callback(*args: object) -> None:
                if other.is_alive() or outcome:
                    return
                other.start()
                assert waits_for_a_lock(other), f"the call did not wait: {outcome!r}"
                handle.close()

            other = threading.Thread(target=run, daemon=True)
            return callback

        handle = with_events(h, service, make_callback)
        handle.dispatch(DispatchFlags.ONE)
        deadline = time.monotonic() + DEADLINE
        while not outcome and time.monotonic() < deadline:
            time.sleep(0.01)
        assert outcome, "the waiting call did not end after close()"
        if outcome[0] is not None:
            raise outcome[0]
        return None

    return call


def _untrack(h: Handles, cmap: Handle) -> Callable[[], object]:
    track = cmap.track(h.prefix + "other", lambda *args: None)
    return lambda: cmap.untrack(track)


#: Calls that need the daemon and leave the handle as it was.
USE_ALONGSIDE: dict[str, Callable[[Handle], object]] = {
    **USE,
    "cpg": lambda cpg: cpg.membership(cpg.group_names()[0]),
}

THREADS = [
    *[
        case(
            f"{service}-closed-while-another-thread-blocks-in-dispatch",
            closed_while_blocking(service),
            corosync.ClosedError,
            "the handle is closed",
        )
        for service in ("cmap", "quorum", "votequorum", "cfg")
    ],
    case(
        "cmap-untrack-waiting-behind-a-callback-that-closes",
        behind_a_closing_callback("cmap", _untrack),
        corosync.ClosedError,
        "^cmap_track_delete failed: the handle is closed",
    ),
    case(
        "cmap-track-waiting-behind-a-callback-that-closes",
        behind_a_closing_callback(
            "cmap", lambda h, cmap: lambda: cmap.track(h.prefix + "other", print)
        ),
        corosync.ClosedError,
        "^cmap_track_add failed: the handle is closed",
    ),
    case(
        "cpg-join-waiting-behind-a-callback-that-closes",
        behind_a_closing_callback("cpg", lambda h, cpg: lambda: cpg.join(h.group + "-other")),
        corosync.ClosedError,
        "^cpg_join failed: the handle is closed",
    ),
    *[
        case(
            f"{service}-called-from-another-thread-inside-a-callback",
            called_from_a_thread_inside_a_callback(service),
            None,
        )
        for service in SERVICES
    ],
]

CASES = [
    *ARGUMENTS,
    *CLOSED,
    *CALLBACKS,
    *FORKED,
    *THREADS,
]


@pytest.fixture
def handles(corosync_node: Node) -> Iterator[Handles]:
    h = Handles(corosync_node)
    yield h
    h.close()
    if not corosync_node.alive:  # a case that went wrong could shut the node down
        corosync_node.cluster.restart(corosync_node.nodeid)


@pytest.mark.parametrize("case", CASES)
def test_bad_input_raises_its_documented_exception(handles: Handles, case: Case) -> None:
    if case.error is None:
        case.call(handles)
    else:
        with pytest.raises(BaseException) as info:
            case.call(handles)
        error = info.value
        assert type(error) is case.error, f"{type(error).__name__}: {error}"
        message = str(error)
        assert "\n" not in message, message
        assert re.search(case.match, message), message
    for check in handles.checks:
        check()


def test_the_table_has_at_least_60_cases_that_raise_spread_over_every_service() -> None:
    raising = [p for p in CASES if p.values[0].error is not None]  # type: ignore[attr-defined]
    assert len(raising) >= 60
    ids = [p.id for p in CASES]  # type: ignore[attr-defined]
    assert len(set(ids)) == len(ids)
    for service in SERVICES:
        assert sum(i.startswith(f"{service}-") for i in ids) >= 8, service
