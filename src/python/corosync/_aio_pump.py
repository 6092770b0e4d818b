"""The machinery under :mod:`corosync.aio`: one reader per handle on the event loop, and the
streams it hands events to.

A :class:`Pump` owns the loop's reader on a handle's ``fileno()``. It reads only while a stream
or a waiter needs it, and dispatches the handle without waiting (``dispatch(ALL)``); the
handle's callbacks then publish events to the streams. The fd stays open for the handle's life
and reads ready once the handle is closed, so a close from anywhere ends up here as a
``ClosedError`` from dispatch, and the streams end.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from corosync._corosync import DispatchFlags
from corosync.errors import ClosedError

E = TypeVar("E")


class _End:
    """Queued after the last event: the handle was closed."""


class _Raise:
    """Queued where dispatch raised: a user callback's exception, or the daemon lost."""

    __slots__ = ("error", "final")

    def __init__(self, error: BaseException, final: bool) -> None:
        self.error = error
        self.final = final  # the stream ends after it


_Item = Any  # an event, _End or _Raise


class EventStream(Generic[E]):
    """Events of one handle, as an async iterator (``async for event in stream``) and an async
    context manager. It receives every event dispatched from its creation on; ``aclose()``, or
    dropping it, ends it. Cancelling a task that awaits it leaves it usable."""

    def __init__(self, pump: Pump, on_close: Callable[[], None] | None = None) -> None:
        self._pump = pump
        self._handle = pump.handle  # kept alive while the stream is
        self._queue: deque[_Item] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._on_close = on_close
        self._detached = False
        self._ended = False
        pump.attach(self)

    def __aiter__(self) -> EventStream[E]:
        return self

    async def __anext__(self) -> E:
        while not self._queue:
            if self._ended or self._detached:
                raise StopAsyncIteration
            self._waiter = self._pump.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._queue.popleft()
        if isinstance(item, _End):
            self._ended = True
            raise StopAsyncIteration
        if isinstance(item, _Raise):
            self._ended = self._ended or item.final
            raise item.error
        event: E = item
        return event

    async def __aenter__(self) -> EventStream[E]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """End the stream: it yields nothing more, and no longer keeps the handle read."""
        self._detach()

    def put(self, item: _Item) -> None:
        self._queue.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _detach(self) -> None:
        if self._detached:
            return
        self._detached = True
        if self._on_close is not None:
            self._on_close()
        leftover = [] if self._ended else list(self._queue)
        self._queue.clear()
        self._pump.detach(self, leftover)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def __del__(self) -> None:
        # Dropped without aclose() (a `break` out of `async for`): let the pump go, from the
        # loop's thread, where the pump lives.
        if self._detached:
            return
        if threading.get_ident() == self._pump.thread_id:
            self._detach()
        elif not self._pump.loop.is_closed():
            self._pump.loop.call_soon_threadsafe(self._detach)


class Pump:
    """The reader of one handle's fd on one event loop."""

    def __init__(self, handle: Any, loop: asyncio.AbstractEventLoop) -> None:
        # Weak: the handle's callbacks refer to the pump, and the registry must not keep the
        # handle alive. Streams and waiters hold it strongly while they need it.
        self._handle = weakref.ref(handle)
        self.fd: int = handle.fileno()
        self.loop = loop
        self.thread_id = threading.get_ident()
        # Weak: a stream dropped without aclose() must be collected (its __del__ detaches it).
        self._streams: list[weakref.ref[EventStream[Any]]] = []
        # Events dispatched while no stream listened, for the next stream (once the handle
        # has had one: before that, nobody asked for them).
        self.backlog: deque[_Item] = deque()
        self.keeps_backlog = False
        self._waiters: set[asyncio.Future[None]] = set()
        self._reading = False
        self.finished = False
        # The LibraryError that finished the pump: the daemon is gone.
        self.lost: ConnectionError | None = None
        # Undoes what the service installed on the handle for this pump (its callbacks).
        self.uninstall: Callable[[], None] | None = None

    @property
    def handle(self) -> Any:
        return self._handle()

    @property
    def streams(self) -> list[EventStream[Any]]:
        """The streams attached, in the order they were."""
        live = [s for s in (r() for r in self._streams) if s is not None and not s._detached]
        return live

    def publish(self, item: _Item) -> None:
        """Hands an event (from a handle-wide callback) to every stream, or to the backlog."""
        streams = self.streams
        if streams:
            for stream in streams:
                stream.put(item)
        elif self.keeps_backlog:
            self.backlog.append(item)

    def attach(self, stream: EventStream[Any]) -> None:
        if not self.streams:
            while self.backlog:
                stream.put(self.backlog.popleft())
        self._streams.append(weakref.ref(stream))
        self.update()

    def detach(self, stream: EventStream[Any], leftover: list[_Item]) -> None:
        self._streams = [r for r in self._streams if r() not in (None, stream)]
        if not self.streams and self.keeps_backlog:
            self.backlog.extendleft(reversed(leftover))
        self.update()

    async def progress(self, timeout: float | None) -> None:
        """Waits until the handle was next dispatched, or `timeout` seconds."""
        waiter = self.loop.create_future()
        self._waiters.add(waiter)
        self.update()
        # A timer rather than asyncio.wait_for, which in Python 3.11 can swallow the caller's
        # cancellation when the waiter completes at the same moment.
        timer = None if timeout is None else self.loop.call_later(timeout, _settle, waiter)
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()
            self._waiters.discard(waiter)
            self.update()

    def update(self) -> None:
        """Reads the fd exactly while a stream or a waiter needs it."""
        needed = bool(self.streams or self._waiters) and not self.finished
        if needed and not self._reading:
            self.loop.add_reader(self.fd, self._readable)
            self._reading = True
        elif not needed and self._reading:
            self.loop.remove_reader(self.fd)
            self._reading = False

    def _readable(self) -> None:
        handle = self.handle
        if handle is None:  # collected: no stream or waiter held it
            self._finish(_End())
            return
        try:
            handle.dispatch(DispatchFlags.ALL)
        except ClosedError:
            self._finish(_End())
        except ConnectionError as e:  # LibraryError: the daemon is gone
            self.lost = e
            self._finish(_Raise(e, final=True))
        except Exception as e:  # a user callback's; the events behind it stay queued
            self.publish(_Raise(e, final=False))
        self._wake_waiters()

    def _finish(self, item: _Item) -> None:
        self.finished = True
        self.publish(item)
        self.update()
        if self.uninstall is not None:
            self.uninstall()
            self.uninstall = None

    def _wake_waiters(self) -> None:
        for waiter in self._waiters:
            _settle(waiter)


def _settle(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


_pumps: weakref.WeakKeyDictionary[Any, Pump] = weakref.WeakKeyDictionary()


def pump_of(handle: Any, install: Callable[[Pump], Callable[[], None]] | None = None) -> Pump:
    """The handle's pump on the running loop, made on first use (and after the daemon was
    lost), with `install(pump)` run then: it returns what undoes it. A pump that is not
    reading moves to another loop; one that is reading belongs to its loop. ClosedError for
    a closed handle."""
    loop = asyncio.get_running_loop()
    if handle.closed:
        handle.fileno()  # raises the handle's own ClosedError
    pump = _pumps.get(handle)
    if pump is None or pump.finished:
        pump = Pump(handle, loop)  # handle.fileno() raises ClosedError for a closed handle
        _pumps[handle] = pump
        if install is not None:
            pump.uninstall = install(pump)
    elif pump.loop is not loop:
        if pump.streams or pump._waiters:
            raise RuntimeError("this handle is being served by another event loop")
        pump.loop = loop
        pump.thread_id = threading.get_ident()
    return pump
