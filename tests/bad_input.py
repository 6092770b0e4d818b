"""What test_bad_input.py's cases stand on (test helpers): the handles of one case, opened
as needed and closed after it; a handle of any service with two events queued that run a
callback of the case's choosing; a call made in a forked child whose exception comes back to
the parent."""

from __future__ import annotations

import builtins
import json
import mmap
import os
import select
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pytest
from cpg_events import Recorder, pump

import corosync
from corosync import DispatchFlags, TrackFlags, errors
from corosync.cfg import ShutdownFlags, ShutdownReply
from corosync.testing import Node

#: How long anything in a case may take.
DEADLINE = 10.0

#: The services, as the cases name them.
SERVICES = ("cpg", "cmap", "quorum", "votequorum", "cfg")

#: A service handle (the cases treat them alike).
Handle = Any
Callback = Callable[..., None]

#: Not UTF-8: a lone surrogate, which no str→UTF-8 encoder takes.
SURROGATE = "bad\udc80"


class Handles:
    """The handles of one case on the one-node cluster's node, each opened on first use
    (``cpg`` joined to a group of its own), all closed after the case; and the checks a case
    leaves for after its exception (``then``). The handles are typed Any: the cases call them
    with arguments of the wrong type on purpose."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.group = f"bad-{uuid.uuid4().hex[:12]}"
        self.prefix = f"test.bad.{uuid.uuid4().hex[:12]}."
        self.checks: list[Callable[[], object]] = []
        self._opened: list[Handle] = []

    def open(self, factory: type, *args: Any, **kwargs: Any) -> Handle:
        handle = self.node.connect(factory, *args, **kwargs)
        self._opened.append(handle)
        return handle

    def then(self, check: Callable[[], object]) -> None:
        """Run `check` once the case's call raised what it should."""
        self.checks.append(check)

    def close(self) -> None:
        for handle in reversed(self._opened):
            handle.close()

    @cached_property
    def cpg(self) -> Handle:
        cpg: corosync.CPG = self.open(corosync.CPG)
        joined = Recorder()
        joined.attach(cpg)
        cpg.join(self.group)
        pump([cpg], lambda: bool(joined.confchgs()), what="the join's confchg")
        cpg.on_deliver = cpg.on_confchg = cpg.on_totem_confchg = None
        return cpg

    @cached_property
    def cmap(self) -> Handle:
        return self.open(corosync.CMAP)

    @cached_property
    def quorum(self) -> Handle:
        return self.open(corosync.Quorum)

    @cached_property
    def votequorum(self) -> Handle:
        return self.open(corosync.Votequorum)

    @cached_property
    def cfg(self) -> Handle:
        return self.open(corosync.CFG)

    def handle(self, service: str) -> Handle:
        return getattr(self, service)


@dataclass(frozen=True)
class Case:
    """A call and the exception it must raise (None: it is documented to work), whose
    message matches `match`."""

    call: Callable[[Handles], object]
    error: type[BaseException] | None
    match: str = ""


def case(
    id: str, call: Callable[[Handles], object], error: type[BaseException] | None, match: str = ""
) -> object:
    """One case of the table, as a pytest parameter named `id` (``<service>-<what>``)."""
    return pytest.param(Case(call, error, match), id=id)


def big(size: int) -> mmap.mmap:
    """An anonymous mapping of `size` bytes: lazy, so nothing of it is ever touched."""
    return mmap.mmap(-1, size)


def wait_readable(handle: Handle) -> None:
    assert select.select([handle], [], [], DEADLINE)[0], "no event arrived"


def with_events(h: Handles, service: str, make: Callable[[Handle], Callback]) -> Handle:
    """A new handle of `service` whose callbacks run ``make(handle)``, with events queued
    for them: two (CFG: one, a shutdown request that the case's checks refuse afterwards)."""
    if service == "cpg":
        cpg: corosync.CPG = h.open(corosync.CPG)
        joined = Recorder()
        joined.attach(cpg)
        cpg.join(h.group)
        pump([cpg], lambda: bool(joined.confchgs()), what="the join's confchg")
        cpg.on_confchg = cpg.on_totem_confchg = None
        cpg.on_deliver = make(cpg)
        cpg.mcast(b"1")
        cpg.mcast(b"2")
        wait_readable(cpg)
        return cpg
    if service == "cmap":
        cmap: corosync.CMAP = h.open(corosync.CMAP)
        cmap.track(h.prefix, make(cmap), prefix=True)
        cmap[h.prefix + "a"] = 1
        cmap[h.prefix + "b"] = 2
        wait_readable(cmap)
        return cmap
    if service in ("quorum", "votequorum"):
        factory = corosync.Quorum if service == "quorum" else corosync.Votequorum
        tracker: corosync.Quorum | corosync.Votequorum = h.open(factory)
        tracker.on_notify = tracker.on_nodelist = make(tracker)
        tracker.trackstart(TrackFlags.CHANGES)  # the nodelist, then the quorum
        wait_readable(tracker)
        return tracker
    assert service == "cfg"
    return _shutdown_requested(h, make)


def _shutdown_requested(h: Handles, make: Callable[[Handle], Callback]) -> corosync.CFG:
    # A REQUEST goes ahead only if every tracking client says yes: this one says no after
    # the case (a node that shut down anyway would fail the check).
    cfg: corosync.CFG = h.open(corosync.CFG)
    cfg.on_shutdown = make(cfg)
    cfg.trackstart()
    asker: corosync.CFG = h.open(corosync.CFG)
    answer: list[BaseException | None] = []

    def ask() -> None:
        try:
            asker.try_shutdown(ShutdownFlags.REQUEST)
            answer.append(None)
        except BaseException as e:
            answer.append(e)

    asking = threading.Thread(target=ask, daemon=True)
    asking.start()

    def refused() -> None:
        if not cfg.closed:
            cfg.reply_to_shutdown(ShutdownReply.NO)
        asking.join(DEADLINE)
        assert answer and isinstance(answer[0], corosync.BusyError), answer
        assert h.node.alive

    h.then(refused)
    wait_readable(cfg)
    return cfg


def seen_all(h: Handles, handle: Handle, seen: list[object], count: int) -> None:
    """After the case: dispatching delivers the events still queued, up to `count` seen."""

    def check() -> None:
        pump([handle], lambda: len(seen) >= count, what=f"{count} events")

    h.then(check)


def events_expected(service: str) -> int:
    return 1 if service == "cfg" else 2


def in_forked_child(call: Callable[[], object], *then: Callable[[], object]) -> None:
    """Runs `call` and then `then` in a forked child; what `call` raised is raised here
    (rebuilt from its class name, message, code and function), and the child's other calls
    must not raise. Returns if `call` returned."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: reports through the pipe and leaves without cleanup
        report: dict[str, object] = {}
        try:
            try:
                call()
            except BaseException as e:
                report = {
                    "type": type(e).__name__,
                    "message": str(e),
                    "code": int(getattr(e, "code", 0) or 0),
                    "function": getattr(e, "function", ""),
                }
            for more in then:
                more()
        except BaseException as e:
            report = {"type": "unexpected", "message": f"{type(e).__name__}: {e}"}
        finally:
            os.write(write_end, json.dumps(report).encode())
            os._exit(0)
    os.close(write_end)
    try:
        deadline = time.monotonic() + DEADLINE
        while (done := os.waitpid(pid, os.WNOHANG))[0] == 0:
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                pytest.fail("the forked child hung")
            time.sleep(0.01)
        assert os.waitstatus_to_exitcode(done[1]) == 0, "the forked child crashed"
        data = b""
        while chunk := os.read(read_end, 65536):
            data += chunk
    finally:
        os.close(read_end)
    got: dict[str, Any] = json.loads(data)
    if not got:
        return
    if got["type"] == "unexpected":
        pytest.fail(f"in the forked child: {got['message']}")
    cls = getattr(errors, got["type"], None) or getattr(builtins, got["type"])
    if issubclass(cls, corosync.CorosyncError):
        raise cls(got["message"], code=got["code"], function=got["function"])
    raise cls(got["message"])


def blocking_dispatch(handle: Handle) -> threading.Thread:
    """A thread blocked in ``handle.dispatch(BLOCKING)``; its outcome in ``.outcome``."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            handle.dispatch(DispatchFlags.BLOCKING)
            outcome.append(None)
        except BaseException as e:
            outcome.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.outcome = outcome  # type: ignore[attr-defined]
    thread.start()
    thread.join(0.2)
    assert thread.is_alive(), f"dispatch(BLOCKING) ended: {outcome!r}"
    return thread


def waits_for_a_lock(thread: threading.Thread) -> bool:
    """Whether `thread` waits in a futex (a lock) and keeps waiting while this thread sleeps
    without the GIL: waiting for the GIL, it would take it meanwhile and go on. False once it
    ended."""
    deadline = time.monotonic() + DEADLINE
    while thread.is_alive() and time.monotonic() < deadline:
        for _ in range(4):
            time.sleep(0.05)
            if not _in_futex(thread):
                break
        else:
            return True
    return False


def _in_futex(thread: threading.Thread) -> bool:
    try:
        with open(f"/proc/self/task/{thread.native_id}/wchan") as f:
            return f.read().startswith("futex")
    except FileNotFoundError:
        return False  # it has ended
