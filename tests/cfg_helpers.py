"""Test helpers for corosync.CFG: a shutdown tracker on a node, try_shutdown asked from a
thread of its own, a node's log read back, and what corosync-cfgtool prints, parsed."""

from __future__ import annotations

import os
import re
import select
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import ParamSpec, Protocol, TypeVar

from corosync import CFG, LibraryError, ShutdownFlags, ShutdownReply
from corosync.testing import Node

#: Seconds anything awaited here may take before the test fails instead of hanging.
DEADLINE = 30.0

P = ParamSpec("P")


class SupportsClose(Protocol):
    def close(self) -> None: ...


Closable = TypeVar("Closable", bound=SupportsClose)


def closing(make: Callable[P, Closable]) -> Iterator[Callable[P, Closable]]:
    """The body of a fixture that opens things: yields `make`, noting what it makes, and closes
    all of that once the fixture is torn down."""
    made: list[Closable] = []

    def factory(*args: P.args, **kwargs: P.kwargs) -> Closable:
        made.append(make(*args, **kwargs))
        return made[-1]

    yield factory
    for thing in made:
        thing.close()


class Tracker:
    """A CFG handle on `node` that tracks shutdown requests (``trackstart()``): records the flags
    of each request in `asked` and, when `answer` is set, answers with it from inside the
    callback."""

    def __init__(self, node: Node, answer: ShutdownReply | None = None) -> None:
        self.asked: list[ShutdownFlags] = []
        self.answer = answer
        self.cfg = node.connect(CFG, on_shutdown=self.on_shutdown)
        self.cfg.trackstart()

    def on_shutdown(self, flags: ShutdownFlags) -> None:
        self.asked.append(flags)
        if self.answer is not None:
            self.cfg.reply_to_shutdown(self.answer)

    def wait_asked(self, count: int = 1) -> list[ShutdownFlags]:
        """Dispatch until `count` requests were recorded; returns them all."""
        deadline = time.monotonic() + DEADLINE
        while len(self.asked) < count:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"the tracker was asked {self.asked}, not {count} time(s)"
            if select.select([self.cfg], [], [], remaining)[0]:
                self.cfg.dispatch()
        return self.asked

    def settle(self) -> list[ShutdownFlags]:
        """Everything the daemon sent the tracker so far, dispatched: a call answered on this
        handle's connection comes after every event the (single-threaded) daemon sent before
        answering it."""
        assert self.cfg.local_nodeid > 0
        self.cfg.dispatch()
        return self.asked

    def dispatch_until_lost(self) -> list[ShutdownFlags]:
        """Dispatch until the daemon is gone (dispatch raises LibraryError); returns what the
        tracker was asked until then."""
        deadline = time.monotonic() + DEADLINE
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                if select.select([self.cfg], [], [], remaining)[0]:
                    self.cfg.dispatch()
        except LibraryError:
            return self.asked
        raise AssertionError("the tracker's connection was not lost")

    def close(self) -> None:
        self.cfg.close()


class Asking:
    """``try_shutdown(flags)`` on `node`, through a CFG handle of its own, in a thread of its own
    (it waits for the trackers' answers)."""

    def __init__(self, node: Node, flags: ShutdownFlags = ShutdownFlags.REQUEST) -> None:
        self.cfg = node.connect(CFG)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._ask, args=(flags,), daemon=True)
        self._thread.start()

    def _ask(self, flags: ShutdownFlags) -> None:
        try:
            self.cfg.try_shutdown(flags)
        except BaseException as e:
            self.error = e

    def result(self) -> None:
        """Wait for try_shutdown to return; raise what it raised."""
        self._thread.join(DEADLINE)
        assert not self._thread.is_alive(), "try_shutdown did not return"
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self._thread.join(DEADLINE)
        self.cfg.close()


def log_marks(nodes: Iterable[Node]) -> dict[int, int]:
    """The size of each node's log by node id: where what is logged from now on starts (a
    node's log goes on across restarts)."""
    return {node.nodeid: os.path.getsize(node.log_path) for node in nodes}


def wait_logged(node: Node, text: str, since: int = 0) -> str:
    """The node's log from byte `since` on, once that holds `text` (corosync logs from a
    thread of its own); fails after DEADLINE seconds."""

    def logged() -> str:
        with open(node.log_path, "rb") as f:
            f.seek(since)
            log = f.read().decode("utf-8", "replace")
        return log if text in log else ""

    return node.cluster.wait_for(logged, DEADLINE, f"{text!r} in {node.log_path}")


# --- corosync-cfgtool's output ------------------------------------------------------------


@dataclass(frozen=True)
class ShownLink:
    """One ``LINK:`` line of ``corosync-cfgtool -n``."""

    link: int
    src: str
    dst: str
    flags: frozenset[str]  # enabled, connected, dynconnected
    mtu: int


@dataclass(frozen=True)
class ShownNode:
    """A node of ``corosync-cfgtool -n`` (which shows the other nodes it can reach)."""

    nodeid: int
    flags: frozenset[str]  # reachable, remote, external
    links: dict[int, ShownLink]


@dataclass(frozen=True)
class ShownLinkStatus:
    """A link of ``corosync-cfgtool -s``: this node's address on it, and each node's state on
    it ("localhost", "connected" or "disconnected")."""

    link: int
    addr: str
    states: dict[int, str]


_LOCAL = re.compile(r"Local node ID (\d+), transport (\S+)")
_NODE = re.compile(r"nodeid: (\d+)((?: [a-z]+)*)(?:\s+onwire .*)?")
_LINK = re.compile(r" +LINK: (\d+) \S+ \((\S+)->(\S+)\)((?: [a-z]+)*) mtu: (\d+)")
_LINK_ID = re.compile(r"LINK ID (\d+) \S+")
_ADDR = re.compile(r"\taddr\t= (\S+)")
_STATE = re.compile(r"\t\tnodeid: +(\d+):\t(\S+)")


def local_nodeid_shown(output: str) -> int:
    """The node id of the first line of ``corosync-cfgtool -n`` and ``-s``."""
    match = _LOCAL.fullmatch(output.splitlines()[0])
    assert match, output
    return int(match[1])


def parse_nodes(output: str) -> dict[int, ShownNode]:
    """``corosync-cfgtool -n``, by node id."""
    nodes: dict[int, ShownNode] = {}
    current: ShownNode | None = None
    for line in output.splitlines()[1:]:
        if not line:
            continue
        if match := _NODE.fullmatch(line):
            current = ShownNode(int(match[1]), frozenset(match[2].split()), {})
            nodes[current.nodeid] = current
        elif (match := _LINK.fullmatch(line)) and current is not None:
            link = ShownLink(
                int(match[1]), match[2], match[3], frozenset(match[4].split()), int(match[5])
            )
            current.links[link.link] = link
        else:
            raise AssertionError(f"unexpected line {line!r} in:\n{output}")
    return nodes


def parse_link_status(output: str) -> dict[int, ShownLinkStatus]:
    """``corosync-cfgtool -s``, by link number."""
    links: dict[int, ShownLinkStatus] = {}
    current: ShownLinkStatus | None = None
    for line in output.splitlines()[1:]:
        if match := _LINK_ID.fullmatch(line):
            current = ShownLinkStatus(int(match[1]), "", {})
            links[current.link] = current
        elif (match := _ADDR.fullmatch(line)) and current is not None:
            current = links[current.link] = ShownLinkStatus(current.link, match[1], current.states)
        elif (match := _STATE.fullmatch(line)) and current is not None:
            current.states[int(match[1])] = match[2]
        elif line.strip() not in ("", "status:"):
            raise AssertionError(f"unexpected line {line!r} in:\n{output}")
    return links
