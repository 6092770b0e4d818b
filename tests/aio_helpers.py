"""Test helpers for corosync.aio: running a coroutine on each event loop (asyncio's own and
uvloop), loops that tell which fds have a reader, a heartbeat task, taking events from
streams, and a group member in a process of its own."""

from __future__ import annotations

import asyncio
import importlib
import itertools
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, TypeVarTuple, cast

import pytest

import corosync
from corosync import aio
from corosync.cpg import Address, ConfChg, Deliver, Reason, TotemConfChg
from corosync.testing import Node, python_env

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

CpgEvent = Deliver | ConfChg | TotemConfChg

#: The event loops every aio test runs on. uvloop is a test dependency: where it cannot be
#: imported its variants fail (they are not skipped), so that a missing uvloop is noticed.
LOOPS = ["asyncio", "uvloop"]

#: No coroutine of a test runs longer than this (a hang fails the test instead).
TIMEOUT = 120.0


class ReaderTracking(asyncio.AbstractEventLoop):
    """Mixed into an event loop class: remembers which fds have a reader (``add_reader``),
    which neither asyncio's loop nor uvloop's tells without touching the registration."""

    readers: set[int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.readers = set()

    def add_reader(
        self, fd: FileDescriptorLike, callback: Callable[[*Ts], Any], *args: *Ts
    ) -> None:
        super().add_reader(fd, callback, *args)
        self.readers.add(fd if isinstance(fd, int) else fd.fileno())

    def remove_reader(self, fd: FileDescriptorLike) -> bool:
        removed = super().remove_reader(fd)
        self.readers.discard(fd if isinstance(fd, int) else fd.fileno())
        return removed


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
    """A factory of event loops of kind `name` ("asyncio" or "uvloop") that track readers.
    Fails the test, loudly, when uvloop cannot be imported."""
    base: type[asyncio.AbstractEventLoop]
    if name == "asyncio":
        base = asyncio.SelectorEventLoop  # what asyncio.run() uses on Linux
    elif name == "uvloop":
        try:
            uvloop = importlib.import_module("uvloop")
        except ImportError as e:
            pytest.fail(
                f"uvloop cannot be imported ({e}): corosync.aio is tested on uvloop too;"
                " install it (pip install uvloop) to run these tests",
                pytrace=False,
            )
        base = uvloop.Loop
    else:
        raise ValueError(f"unknown event loop kind {name!r}")
    return cast(
        "Callable[[], asyncio.AbstractEventLoop]",
        type(f"ReaderTracking{base.__name__}", (ReaderTracking, base), {}),
    )


class Run(Protocol):
    """Runs a coroutine to its end on a new event loop and returns its result."""

    def __call__(self, main: Coroutine[Any, Any, T], /) -> T: ...


def runner(name: str) -> Run:
    """A :class:`Run` on loops of kind `name`. The test fails if the loop's exception handler
    was called: aio must hand every error to the awaiting code instead. (The loop is made
    when the test runs: a uvloop that cannot be imported fails the test, not its setup.)"""

    def run(main: Coroutine[Any, Any, T], /) -> T:
        try:
            factory = loop_factory(name)
        except BaseException:
            main.close()  # never to be awaited
            raise
        handled: list[dict[str, Any]] = []

        async def bounded() -> T:
            async with asyncio.timeout(TIMEOUT):
                return await main

        with asyncio.Runner(loop_factory=factory) as asyncio_runner:
            asyncio_runner.get_loop().set_exception_handler(
                lambda loop, context: handled.append(context)
            )
            result = asyncio_runner.run(bounded())
        assert handled == [], f"the loop's exception handler was called: {handled}"
        return result

    return run


def registered(fd: int) -> bool:
    """Whether the running loop has a reader on `fd`."""
    loop = asyncio.get_running_loop()
    assert isinstance(loop, ReaderTracking), "not a loop from loop_factory()"
    return fd in loop.readers


async def take(stream: AsyncIterator[T], count: int) -> list[T]:
    """The next `count` items of `stream`."""
    return [await anext(stream) for _ in range(count)]


async def take_until(stream: AsyncIterator[T], last: Callable[[T], bool]) -> list[T]:
    """The items of `stream` up to and including the first one for which `last` holds."""
    items: list[T] = []
    async for item in stream:
        items.append(item)
        if last(item):
            return items
    raise AssertionError(f"the stream ended after {items!r}")


def delivered(events: list[CpgEvent]) -> list[bytes]:
    """The messages of the Deliver events among `events`, in order."""
    return [e.message for e in events if isinstance(e, Deliver)]


def members_of(addresses: list[Address]) -> list[tuple[int, int]]:
    """(nodeid, pid) of each address, sorted: a membership without the reasons."""
    return sorted((a.nodeid, a.pid) for a in addresses)


class Heartbeat:
    """A task that wakes every `interval` seconds while its ``async with`` block runs and
    notes when: a loop that something blocks stops it."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.ticks: list[float] = []
        self.started = self.stopped = 0.0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Heartbeat:
        self.started = time.monotonic()
        self._task = asyncio.create_task(self._beat())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self.stopped = time.monotonic()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.ticks.append(time.monotonic())

    def longest_gap(self) -> float:
        """The longest time the heartbeat did not tick (within the block)."""
        times = [self.started, *self.ticks, self.stopped]
        return max(b - a for a, b in itertools.pairwise(times))


# A member of a group in a process of its own (corosync refuses two members of one group in
# one process). It joins, says "joined" once its join's confchg came, then obeys stdin:
# "say TEXT" multicasts TEXT, "leave" leaves and says "left" once that was confirmed.
_MEMBER = r"""
import select, sys
import corosync

group = sys.argv[1]
seen = {"joined": False, "left": False}

def on_confchg(g, members, left, joined):
    me = cpg.local_address
    seen["joined"] = seen["joined"] or any((a.nodeid, a.pid) == me for a in joined)
    seen["left"] = seen["left"] or any((a.nodeid, a.pid) == me for a in left)

def pump(what):
    while not seen[what]:
        if not select.select([cpg], [], [], 60)[0]:
            sys.exit(f"member: timed out waiting until {what}")
        cpg.dispatch()
    print(what, flush=True)

cpg = corosync.CPG(on_confchg=on_confchg)
cpg.join(group)
pump("joined")
for line in sys.stdin:
    command, _, text = line.rstrip("\n").partition(" ")
    if command == "say":
        cpg.mcast(text.encode())
        print("said", flush=True)
    elif command == "leave":
        cpg.leave(group)
        pump("left")
        break
cpg.close()
"""


class Member:
    """A process on `node` that is a member of `group` (see _MEMBER above)."""

    def __init__(self, node: Node, group: str) -> None:
        self.proc = node.popen(
            [sys.executable, "-c", _MEMBER, group],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=python_env(),
        )
        self.nodeid = node.nodeid
        self.expect("joined")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def expect(self, word: str) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line == word + "\n", f"the member said {line!r}, not {word!r}"

    def command(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def say(self, text: str) -> None:
        self.command(f"say {text}")
        self.expect("said")

    def leave(self) -> None:
        self.command("leave")
        self.expect("left")
        assert self.proc.wait(30) == 0

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


PID = os.getpid()


class Boom(Exception):
    pass


def numbered(count: int, start: int = 0) -> list[bytes]:
    return [b"m%d" % i for i in range(start, start + count)]


async def send_numbered(cpg: corosync.CPG, count: int, start: int = 0) -> None:
    for message in numbered(count, start):
        await aio.mcast(cpg, message)


async def next_of(stream: AsyncIterator[CpgEvent]) -> CpgEvent:
    """``anext(stream)`` as a coroutine (for create_task)."""
    return await anext(stream)


def describe(event: CpgEvent) -> object:
    """An event in a form to compare: a confchg's members without their reasons."""
    match event:
        case ConfChg(group=group, members=members, left=left, joined=joined):
            return ("confchg", group, members_of(members), left, joined)
        case TotemConfChg(members=members):
            return ("totem", members)
        case _:
            return event


def my_join(group: str) -> object:
    """describe() of the confchg that reports this process's join to `group`."""
    return ("confchg", group, [(1, PID)], [], [Address(1, PID, Reason.JOIN)])


def mine(group: str, messages: list[bytes]) -> list[Deliver]:
    """The Deliver events of `messages` sent by this process to `group`."""
    return [Deliver(group, 1, PID, message) for message in messages]


async def events_after_a_mcast(cpg: corosync.CPG, count: int) -> list[CpgEvent]:
    """Multicast ``b"after"`` on `cpg`, then the first `count` events of a new stream (closed
    after): whether the handle still works and kept what was dispatched meanwhile."""
    await aio.mcast(cpg, b"after")
    async with aio.events(cpg) as stream:
        return await take(stream, count)


def is_message(message: bytes) -> Callable[[CpgEvent], bool]:
    return lambda event: isinstance(event, Deliver) and event.message == message
