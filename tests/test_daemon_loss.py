"""The daemon killed under every service (issue 24, item 3), on this module's own one-node
cluster, restarted after each test: whatever was under way ends with LibraryError (a
ConnectionError) within daemon_loss.DEADLINE, never a hang or a crash, and a new handle works
once the daemon is back, while the old one stays lost.

The situations, for CPG, CMAP, Quorum, Votequorum and CFG each (the table is
daemon_loss.SERVICES):

- the next call on an open handle, for every call that needs the daemon as the first one
  after the loss, then every other call, then close() (moved here: CMAP's from
  test_cmap_daemon_loss.py, which keeps CMAP's own iterators, stats map and untrack, and
  Quorum's and Votequorum's from test_quorum.py and test_votequorum.py);
- a dispatch(BLOCKING) blocked in another thread;
- an asyncio stream (corosync.aio.events) being iterated;
- a request waiting for the answer of a stopped (SIGSTOP) daemon, which is then killed, and a
  handle being opened meanwhile;
- a call inside a TRY_AGAIN retry. Only CPG has one that a test can hold: mcast refused
  because the request ring of a stopped daemon is full (libqb's EAGAIN, as in test_retry.py)
  or waiting for the handle's send window, and aio.mcast waiting for the window. corosync
  answers TRY_AGAIN to the other services' requests only while a membership sync runs or
  totem's queue is full (exec/main.c, corosync_sending_allowed), for milliseconds; and their
  requests wait for an answer, so a stopped daemon holds them in libqb's receive (the
  previous situation) rather than refusing them. Their retry loop is CPG's (one template,
  corosync::Handle::run), ended by the first attempt that meets the loss.

SAM has no handle: the supervisor holds libsam's connections. Under the QUORUM flag a loss
stops the child; under the CMAP flag the calls that go through the daemon (start, stop,
finalize) raise LibraryError and the others go on; without either flag SAM never talks to the
daemon (nothing to test). A new process uses SAM again once the daemon is back. (Under the
QUORUM flag, a supervisor whose child is registered but not started then polls the dead
quorum fd in a busy loop: libsam's sam_parent_handler, not tested here.)
"""

from __future__ import annotations

import asyncio
import re
import select
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import CpgFactory
from cpg_events import joined
from daemon_loss import (
    DEADLINE,
    GROUP,
    SERVICES,
    Handle,
    Outcome,
    Service,
    assert_lost,
    kill,
    state,
    stopped,
)
from sam_programs import StartSam

import corosync
from corosync import DispatchFlags, aio
from corosync.testing import Node


@pytest.fixture
def node(corosync_node: Node) -> Iterator[Node]:
    """The one-node cluster's node, its daemon running (and not stopped) after the test."""
    yield corosync_node
    pid = corosync_node.pid
    if not corosync_node.alive or (pid is not None and state(pid) == "T"):
        corosync_node.cluster.restart(corosync_node.nodeid)


@pytest.fixture
def open_handle(node: Node) -> Iterator[Callable[..., Handle]]:
    """Opens a handle of a service on the node; closes them all after the test."""
    handles: list[Handle] = []

    def factory(service: Service, **kwargs: Any) -> Handle:
        handles.append(node.connect(service.factory, **kwargs))
        return handles[-1]

    yield factory
    for handle in handles:
        handle.close()


def back_and_working(node: Node, service: Service, old: Handle) -> None:
    """Restarts the daemon: the old handle stays lost, a new one works."""
    node.cluster.restart(node.nodeid)
    call, _ = next(iter(service.calls.values()))
    if not old.closed:
        with pytest.raises(corosync.LibraryError):
            call(old)  # a handle does not reconnect
    with node.connect(service.factory) as new:
        service.probe(new)


NEXT_CALLS = [
    pytest.param(service, first, id=f"{service}-{first}")
    for service in SERVICES
    for first in service.calls
]


@pytest.mark.parametrize(("service", "first"), NEXT_CALLS)
def test_the_next_call_on_an_open_handle_raises_library_error(
    node: Node, open_handle: Callable[..., Handle], service: Service, first: str
) -> None:
    handle = open_handle(service)
    service.prepare(handle)
    kill(node)
    assert select.select([handle], [], [], DEADLINE)[0], "the fd did not wake up"
    call, function = service.calls[first]
    with pytest.raises(corosync.LibraryError) as info:
        call(handle)
    assert_lost(info.value, function)
    for name, (other, _) in service.calls.items():  # every call after it, dispatch too
        try:
            result = other(handle)
        except corosync.LibraryError:
            continue
        pytest.fail(f"{name} after {first} answered {result!r} once the daemon was lost")
    for answer in service.local.values():  # kept from the connection
        answer(handle)
    for flags in DispatchFlags:
        if flags != DispatchFlags.BLOCKING:
            with pytest.raises(corosync.LibraryError):
                handle.dispatch(flags)
    handle.close()
    assert handle.closed
    with pytest.raises(corosync.ClosedError):
        call(handle)
    back_and_working(node, service, handle)


@pytest.mark.parametrize("service", SERVICES, ids=str)
def test_a_blocking_dispatch_in_another_thread_ends_with_library_error(
    node: Node, open_handle: Callable[..., Handle], service: Service
) -> None:
    handle = open_handle(service)
    service.prepare(handle)
    dispatching = Outcome(lambda: handle.dispatch(DispatchFlags.BLOCKING), "dispatch")
    assert dispatching.waiting(), f"dispatch(BLOCKING) returned: {dispatching.error!r}"
    kill(node)
    assert_lost(dispatching.raised("dispatch(BLOCKING)"), service.calls["dispatch"][1])
    back_and_working(node, service, handle)


@pytest.mark.parametrize("service", SERVICES, ids=str)
def test_an_asyncio_stream_ends_with_library_error(
    node: Node, open_handle: Callable[..., Handle], service: Service
) -> None:
    handle = open_handle(service)
    service.prepare(handle)

    async def main() -> tuple[list[object], BaseException | None]:
        stream = service.stream(handle)
        seen: list[object] = []

        async def iterate() -> BaseException | None:
            try:
                async for event in stream:
                    seen.append(event)
            except Exception as e:
                return e
            return None  # the stream just ended

        iterating = asyncio.create_task(iterate())
        await asyncio.sleep(0.1)
        assert not iterating.done(), f"the stream ended before the loss: {iterating.result()!r}"
        await asyncio.to_thread(kill, node)
        try:
            return seen, await asyncio.wait_for(iterating, DEADLINE)
        except TimeoutError:
            pytest.fail(f"the stream still runs {DEADLINE} s after its daemon was killed")

    seen, ending = asyncio.run(main())
    assert ending is not None, f"the stream ended without an error after {seen!r}"
    assert_lost(ending, service.calls["dispatch"][1])
    back_and_working(node, service, handle)


@pytest.mark.parametrize("service", SERVICES, ids=str)
def test_a_request_waiting_for_a_stopped_daemon_ends_with_library_error_when_it_is_killed(
    node: Node, open_handle: Callable[..., Handle], service: Service
) -> None:
    handle = open_handle(service)
    service.prepare(handle)
    call, function = service.waiting
    with stopped(node):
        asking = Outcome(lambda: call(handle), "request")
        assert asking.waiting(), f"a stopped daemon answered: {asking.error!r}"
        kill(node)
    assert_lost(asking.raised(function), function)
    back_and_working(node, service, handle)


@pytest.mark.parametrize("service", SERVICES, ids=str)
def test_a_handle_being_opened_on_a_stopped_daemon_fails_with_library_error_when_it_is_killed(
    node: Node, open_handle: Callable[..., Handle], service: Service
) -> None:
    with stopped(node):
        opening = Outcome(lambda: open_handle(service, retry_timeout=600), "open")
        assert opening.waiting(), f"a stopped daemon answered: {opening.error!r}"
        kill(node)
    error = opening.raised(f"{service.factory.__name__}()")
    assert isinstance(error, corosync.LibraryError), repr(error)
    assert error.function.endswith("_initialize") or "initialize_map" in error.function
    node.cluster.restart(node.nodeid)
    with node.connect(service.factory) as new:
        service.probe(new)


# --- a call inside a TRY_AGAIN retry (CPG) ------------------------------------------------


def test_a_send_refused_by_a_full_request_ring_ends_with_library_error(
    node: Node, open_cpg: CpgFactory
) -> None:
    # A stopped daemon reads no requests: its ring fills after 16 messages of 64 KiB and
    # libqb answers every further send EAGAIN (TRY_AGAIN), which the handle retries for up
    # to its retry_timeout. libqb checks no socket on that path: the retry must.
    cpg, _ = joined(open_cpg, GROUP, retry_timeout=600)
    sent = [0]

    def flood() -> None:
        for _ in range(200):
            cpg.mcast(b"r" * 65536)
            sent[0] += 1

    with stopped(node):
        sending = Outcome(flood, "flood")
        assert sending.waiting(1.0), f"the flood ended: {sending.error!r}"
        assert 0 < sent[0] < 200
        kill(node)
    assert_lost(sending.raised("the retried mcast"), "cpg_mcast_joined")


def test_a_send_waiting_for_the_send_window_ends_with_library_error(
    node: Node, open_cpg: CpgFactory
) -> None:
    cpg, _ = joined(open_cpg, GROUP, retry_timeout=600, send_window_messages=1)
    cpg.mcast(b"fills the window")  # and is never dispatched
    sending = Outcome(lambda: cpg.mcast(b"waits"), "mcast")
    assert sending.waiting() and cpg.flow_control_enabled
    kill(node)
    assert_lost(sending.raised("mcast waiting for the window"), "cpg_mcast_joined")


def test_aio_mcast_waiting_for_the_send_window_ends_with_library_error(
    node: Node, open_cpg: CpgFactory
) -> None:
    cpg, _ = joined(open_cpg, GROUP, retry_timeout=600, send_window_messages=1)

    async def main() -> BaseException | None:
        # aio.mcast dispatches the handle while it waits, which would open the window: a
        # stopped daemon delivers nothing, so the window stays full.
        cpg.mcast(b"fills the window")
        sending = asyncio.create_task(aio.mcast(cpg, b"waits"))
        await asyncio.sleep(0.3)
        assert not sending.done(), repr(sending)
        await asyncio.to_thread(kill, node)
        try:
            await asyncio.wait_for(sending, DEADLINE)
        except TimeoutError:
            pytest.fail(f"aio.mcast still waits {DEADLINE} s after its daemon was killed")
        except Exception as e:
            return e
        return None

    with stopped(node):
        error = asyncio.run(main())
    assert error is not None, "aio.mcast returned after its daemon was killed"
    assert_lost(error, "cpg_dispatch")


# --- SAM -------------------------------------------------------------------------------

#: A SAM program that starts (or not: `start`), says so and then runs the commands typed to
#: it, one per line, saying what each returned or raised, until "end".
SAM_COMMANDS = """
sam.initialize(1000, {policy})
registered()
if {start}:
    sam.start()
say("ready")
while (line := command()) != "end":
    try:
        say(f"{{line}} returned {{eval(line)!r}}")
    except Exception as e:
        say(f"{{line}} raised {{type(e).__name__}}: {{e}}")
say("ended")
"""


def test_sam_under_the_quorum_flag_stops_its_child_when_the_daemon_is_lost(
    node: Node, start_sam: StartSam
) -> None:
    # The supervisor cannot tell quorum any more: it recovers as from a failed child, which
    # under QUIT ends both.
    program = start_sam(node, SAM_COMMANDS.format(policy="Policy.QUIT | Policy.QUORUM", start=1))
    program.wait_for("^ready$")
    kill(node)
    assert program.finish(DEADLINE) == 0, program.lines  # the child was killed: libsam's 0
    assert "ended" not in program.lines
    node.cluster.restart(node.nodeid)
    again = start_sam(node, SAM_COMMANDS.format(policy="Policy.QUIT | Policy.QUORUM", start=1))
    again.wait_for("^ready$")
    again.type("sam.stop()")
    again.wait_for(r"^sam\.stop\(\) returned None$")
    again.type("end")
    again.wait_for("^ended$")


def test_sam_start_under_the_quorum_flag_raises_library_error_once_the_daemon_is_lost(
    node: Node, start_sam: StartSam
) -> None:
    program = start_sam(node, SAM_COMMANDS.format(policy="Policy.QUIT | Policy.QUORUM", start=0))
    program.wait_for("^ready$")
    kill(node)
    program.type("sam.start()")
    line = program.wait_for(r"^sam\.start\(\) r.*").group()
    assert line.startswith("sam.start() raised LibraryError: sam_start failed"), line
    program.type("sam.state().name")
    program.wait_for(r"^sam\.state\(\)\.name returned 'REGISTERED'$")
    program.type("end")
    program.wait_for("^ended$")


def test_sam_under_the_cmap_flag_raises_library_error_where_it_needs_the_daemon(
    node: Node, start_sam: StartSam
) -> None:
    program = start_sam(node, SAM_COMMANDS.format(policy="Policy.QUIT | Policy.CMAP", start=1))
    program.wait_for("^ready$")
    kill(node)
    # The health checks and the stored data go to the supervisor only.
    for call, result in [("sam.hc_send()", "None"), ("sam.data_store(b'x')", "None")]:
        program.type(call)
        program.wait_for(f"^{re.escape(call)} returned {result}$")
    program.type("sam.stop()")  # publishes the state in CMAP
    line = program.wait_for(r"^sam\.stop\(\) r.*").group()
    assert line.startswith("sam.stop() raised LibraryError: sam_stop failed"), line
    program.type("sam.finalize()")  # stops first
    line = program.wait_for(r"^sam\.finalize\(\) r.*").group()
    assert line.startswith("sam.finalize() raised LibraryError: sam_stop failed"), line
    program.type("end")
    program.wait_for("^ended$")
