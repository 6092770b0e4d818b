"""The loop of the streaming commands (``cmap track``, ``cpg listen``, ``quorum watch``):
dispatch corosync handles as their fds become readable until SIGINT or SIGTERM, ``--count``
items or ``--timeout`` seconds."""

from __future__ import annotations

import argparse
import os
import selectors
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Protocol

from corosync import DispatchFlags

__all__ = ["Dispatchable", "Stream", "add_stream_arguments", "positive_seconds"]

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Dispatchable(Protocol):
    """A corosync handle: its fd, and dispatch() to run its callbacks."""

    def fileno(self) -> int: ...
    def dispatch(self, flags: DispatchFlags = ..., /) -> None: ...


class Stream:
    """Runs a streaming command until it is asked to stop.

    The command's callbacks print what they get and call :meth:`counted` for each item that
    ``--count`` counts; once :attr:`done`, they print nothing more. A signal only sets a
    flag (through a wakeup pipe), so that no line is ever cut in half.
    """

    def __init__(self, count: int | None = None, timeout: float | None = None) -> None:
        self.count = count
        self.timeout = timeout
        self.items = 0
        self.stopped = False

    @property
    def done(self) -> bool:
        """Whether ``--count`` items were counted or a stop was asked for."""
        return self.stopped or (self.count is not None and self.items >= self.count)

    def counted(self) -> None:
        self.items += 1

    def run(self, handles: Sequence[Dispatchable], after: Callable[[], None] | None = None) -> None:
        """Dispatch ``handles`` as they become readable (calling ``after`` after each round)
        until done or the timeout; corosync's errors (a lost daemon) propagate."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        with _stop_signals() as wakeup, selectors.DefaultSelector() as selector:
            selector.register(wakeup, selectors.EVENT_READ)
            for handle in handles:
                selector.register(handle.fileno(), selectors.EVENT_READ, handle)
            if after is not None:
                after()
            while not self.done:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return
                for key, _ in selector.select(remaining):
                    if key.fileobj == wakeup:
                        os.read(wakeup, 512)
                        self.stopped = True
                    elif not self.done:
                        key.data.dispatch(DispatchFlags.ALL)
                if after is not None and not self.done:
                    after()


@contextmanager
def _stop_signals() -> Iterator[int]:
    """SIGINT and SIGTERM write to a pipe whose read end is yielded, instead of raising."""
    read_end, write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def note(signum: int, frame: FrameType | None) -> None:
        pass  # the wakeup fd is what tells the loop

    previous = {signum: signal.signal(signum, note) for signum in _STOP_SIGNALS}
    previous_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    try:
        yield read_end
    finally:
        signal.set_wakeup_fd(previous_fd)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        os.close(read_end)
        os.close(write_end)


def add_stream_arguments(parser: argparse.ArgumentParser) -> None:
    """``--count`` and ``--timeout``, which end a streaming command (exit status 0)."""
    parser.add_argument(
        "--count", type=_positive_int, metavar="N", help="stop after N items (see above)"
    )
    parser.add_argument(
        "--timeout", type=positive_seconds, metavar="S", help="stop after S seconds"
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """argparse type: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value
