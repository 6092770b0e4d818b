"""corosync handles inside a running asyncio event loop (or uvloop), without threads or polling.

The loop watches a handle's ``fileno()`` (``loop.add_reader``) while something awaits it, and
dispatches the handle without waiting; nothing sleeps in corosync's calls::

    async with aio.connect(corosync.CPG) as cpg:
        cpg.join("chat")
        await aio.mcast(cpg, b"hello")
        async for event in aio.events(cpg):
            match event:
                case Deliver(nodeid=nodeid, message=message):
                    print(nodeid, message)
                case ConfChg(members=members):
                    print("members:", members)

- :func:`events` gives a stream of a CPG's events (:class:`~corosync.cpg.Deliver`,
  :class:`~corosync.cpg.ConfChg`, :class:`~corosync.cpg.TotemConfChg`), of a CMAP key's
  changes (:class:`~corosync.cmap.Change`), of quorum and votequorum notifications, or of a
  CFG's shutdown requests (:class:`~corosync.cfg.ShutdownRequest`). A stream gets every
  event from its creation on; several streams of one CPG each get every event. Events that
  arrive while a CPG has no stream (after it had one) are kept for the next: nothing is lost
  between two ``async for`` loops. Callbacks set on the handle still run, before the event
  is queued; an exception one raises comes out of the streams' ``__anext__`` (the events
  behind it stay queued). Closing the handle ends its streams after what they hold; a lost
  daemon ends them with :class:`~corosync.LibraryError`.
- :func:`mcast` sends without blocking the loop: under flow control it waits on the loop,
  dispatching the handle meanwhile, up to the handle's ``retry_timeout``.
- :func:`wait_members` waits for a group's membership, :func:`wait_quorate` for quorum;
  :func:`connect` opens and closes a
  handle as an async context manager (in a short-lived thread: connecting may wait for the
  daemon).

While aio serves a CPG its ``on_deliver``, ``on_confchg`` and ``on_totem_confchg`` are aio's
wrappers around the callbacks the handle had: set callbacks before handing the handle to aio.
A handle is served by one event loop at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Collection
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, overload

from corosync._aio_pump import EventStream, Pump, pump_of
from corosync._corosync import CFG, CMAP, CPG, InfoFlag, Quorum, Votequorum
from corosync.cfg import ShutdownRequest
from corosync.cmap import Change, TrackEvent, TypedValue
from corosync.cpg import Address, ConfChg, Deliver, Guarantee, TotemConfChg
from corosync.errors import InterruptError, TryAgainError
from corosync.quorum import QuorumNodelist, QuorumNotify
from corosync.votequorum import ExpectedVotes, VotequorumNodelist, VotequorumNotify

__all__ = [
    "Change",
    "ConfChg",
    "Connected",
    "CpgEvent",
    "Deliver",
    "EventStream",
    "ExpectedVotes",
    "QuorumEvent",
    "QuorumNodelist",
    "QuorumNotify",
    "ShutdownRequest",
    "TotemConfChg",
    "VotequorumEvent",
    "VotequorumNodelist",
    "VotequorumNotify",
    "connect",
    "events",
    "mcast",
    "wait_members",
    "wait_quorate",
]

#: What a CPG stream yields.
CpgEvent = Deliver | ConfChg | TotemConfChg
#: What a Quorum stream yields.
QuorumEvent = QuorumNotify | QuorumNodelist
#: What a Votequorum stream yields.
VotequorumEvent = VotequorumNotify | VotequorumNodelist | ExpectedVotes

_ALL_CHANGES = TrackEvent.ADD | TrackEvent.DELETE | TrackEvent.MODIFY


class _Closable(Protocol):
    def close(self) -> None: ...


P = ParamSpec("P")
H = TypeVar("H", bound=_Closable)
T = TypeVar("T")


#: Each service's callback attributes and the event each one becomes (its arguments, in order,
#: are the event's fields).
_EVENTS: dict[type, dict[str, Callable[..., Any]]] = {
    CPG: {"on_deliver": Deliver, "on_confchg": ConfChg, "on_totem_confchg": TotemConfChg},
    Quorum: {"on_notify": QuorumNotify, "on_nodelist": QuorumNodelist},
    Votequorum: {
        "on_notify": VotequorumNotify,
        "on_nodelist": VotequorumNodelist,
        "on_expectedvotes": ExpectedVotes,
    },
    CFG: {"on_shutdown": ShutdownRequest},
}


def _serve(handle: Any) -> Callable[[Pump], Callable[[], None]]:
    """Puts wrappers around the handle's callbacks that publish each event to the pump."""
    events = _EVENTS[type(handle)]

    def install(pump: Pump) -> Callable[[], None]:
        own = {name: getattr(handle, name) for name in events}
        for name, event in events.items():
            setattr(handle, name, _publishing(own[name], event, pump))

        def uninstall() -> None:
            if not handle.closed:
                for name, callback in own.items():
                    setattr(handle, name, callback)

        return uninstall

    return install


def _publishing(
    callback: Callable[..., object] | None, event: Callable[..., Any], pump: Pump
) -> Callable[..., None]:
    # Runs the handle's own callback first; the event is queued even if it raises.
    def wrapper(*args: Any) -> None:
        try:
            if callback is not None:
                callback(*args)
        finally:
            pump.publish(event(*args))

    return wrapper


@overload
def events(handle: CPG, key: None = None) -> EventStream[CpgEvent]: ...
@overload
def events(handle: Quorum, key: None = None) -> EventStream[QuorumEvent]: ...
@overload
def events(handle: Votequorum, key: None = None) -> EventStream[VotequorumEvent]: ...
@overload
def events(handle: CFG, key: None = None) -> EventStream[ShutdownRequest]: ...
@overload
def events(
    handle: CMAP, key: str, *, events: TrackEvent = _ALL_CHANGES, prefix: bool = False
) -> EventStream[Change]: ...
def events(
    handle: CPG | CMAP | Quorum | Votequorum | CFG,
    key: str | None = None,
    *,
    events: TrackEvent = _ALL_CHANGES,
    prefix: bool = False,
) -> (
    EventStream[CpgEvent]
    | EventStream[QuorumEvent]
    | EventStream[VotequorumEvent]
    | EventStream[ShutdownRequest]
    | EventStream[Change]
):
    """A stream of the handle's events, from now on, inside the running loop.

    For a CPG: every :class:`Deliver`, :class:`ConfChg` and :class:`TotemConfChg`. For a
    Quorum: :class:`QuorumNotify` and :class:`QuorumNodelist`; for a Votequorum:
    :class:`VotequorumNotify`, :class:`VotequorumNodelist` and :class:`ExpectedVotes` (both
    report once their ``trackstart()`` was called: aio does not choose what to track). For a
    CFG: a :class:`ShutdownRequest` per shutdown asked for, after its ``trackstart()``
    (answer a REQUEST with ``reply_to_shutdown()``). For a CMAP: the :class:`Change` of
    `key` (or, with ``prefix=True``, of every key it prefixes), through a track that the
    stream holds until it is closed. ClosedError for a closed handle.
    """
    if isinstance(handle, CMAP):
        if key is None:
            raise TypeError("events(cmap, key) needs the key (or prefix) to follow")
        return _cmap_stream(handle, key, events, prefix)
    if type(handle) not in _EVENTS:
        raise TypeError(
            f"events() takes a CPG, CMAP, Quorum, Votequorum or CFG, not {type(handle).__name__}"
        )
    if key is not None:
        raise TypeError(f"events({type(handle).__name__.lower()}) takes no key")
    pump = pump_of(handle, _serve(handle))
    pump.keeps_backlog = True
    return EventStream[Any](pump)


def _cmap_stream(cmap: CMAP, key: str, which: TrackEvent, prefix: bool) -> EventStream[Change]:
    pump = pump_of(cmap)
    queued: list[Change] = []  # changes reported before the stream exists
    stream: EventStream[Change] | None = None

    def on_change(
        event: TrackEvent, key: str, new: TypedValue | None, old: TypedValue | None
    ) -> None:
        change = Change(event, key, new, old)
        if stream is None:
            queued.append(change)
        else:
            stream.put(change)

    track = cmap.track(key, on_change, events=which, prefix=prefix)

    def untrack() -> None:
        if track.active:
            cmap.untrack(track)

    stream = EventStream[Change](pump, on_close=untrack)
    for change in queued:
        stream.put(change)
    return stream


async def mcast(
    cpg: CPG,
    *buffers: Any,
    guarantee: Guarantee = Guarantee.AGREED,
    group: str | bytes | None = None,
) -> None:
    """Multicast one message (:meth:`CPG.mcast`) without blocking the loop.

    While corosync answers TRY_AGAIN, or the handle's send window is full, it waits on the
    loop (dispatching the handle, which brings this process's own messages back and so frees
    the window) and tries again, up to the handle's ``retry_timeout``; then it raises
    :class:`~corosync.TryAgainError`. A fragmented message that a membership change
    interrupted is sent again whole the same way (then :class:`~corosync.InterruptError`).
    A daemon lost meanwhile raises :class:`~corosync.LibraryError` at once. Events
    dispatched meanwhile run the handle's callbacks and reach its streams, as if a stream
    had read them.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + cpg.retry_timeout
    delay = 0.001
    while True:
        try:
            cpg.mcast(*buffers, guarantee=guarantee, group=group, retry_timeout=0)
            return
        except (TryAgainError, InterruptError):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise
        # A full window opens when the pump dispatches; corosync's own refusal shows on no
        # fd, so the wait is also cut short by a backoff (1 ms doubling to 100 ms).
        pump = pump_of(cpg)
        await pump.progress(min(delay, remaining))
        if pump.lost is not None:
            # The window never opens on a lost connection, and a refused send does not
            # notice the loss: the dispatch did.
            raise pump.lost
        delay = min(delay * 2, 0.1)


async def wait_members(
    cpg: CPG,
    group: str | bytes,
    count: int | None = None,
    *,
    nodeids: Collection[int] | None = None,
    timeout: float | None = None,
) -> list[Address]:
    """The members of `group` (:meth:`CPG.membership`) once there are at least `count` of
    them and every node id in `nodeids` is among them; the builtin TimeoutError after
    `timeout` seconds. Each membership change this handle sees (it has joined `group`)
    wakes it; a group it has not joined is looked at every second."""
    if count is None and nodeids is None:
        raise TypeError("wait_members() needs count or nodeids")
    wanted = set(nodeids or ())
    pump = pump_of(cpg, _serve(cpg))
    pump.keeps_backlog = True  # what it dispatches stays for the streams to come

    async def until_there() -> list[Address]:
        while True:
            members = cpg.membership(group)
            there = {m.nodeid for m in members}
            if (count is None or len(members) >= count) and wanted <= there:
                return members
            await pump.progress(1.0)

    async with asyncio.timeout(timeout):
        return await until_there()


async def wait_quorate(handle: Quorum | Votequorum, timeout: float | None = None) -> None:
    """Returns once this node's partition is quorate (:attr:`Quorum.quorate`, or the QUORATE
    flag of :meth:`Votequorum.info`); the builtin TimeoutError after `timeout` seconds. Each
    event of the handle wakes it (start tracking to be woken at once); it also looks once a
    second."""
    if type(handle) not in (Quorum, Votequorum):
        raise TypeError(f"wait_quorate() takes a Quorum or a Votequorum, not {type(handle)}")
    pump = pump_of(handle, _serve(handle))
    pump.keeps_backlog = True  # what it dispatches stays for the streams to come

    def quorate() -> bool:
        if isinstance(handle, Quorum):
            return handle.quorate
        return InfoFlag.QUORATE in handle.info().flags

    async with asyncio.timeout(timeout):
        while not quorate():
            await pump.progress(1.0)


class Connected(Generic[H]):
    """What :func:`connect` returns: an async context manager of one handle."""

    def __init__(self, open_handle: Callable[[], H]) -> None:
        self._open = open_handle
        self._handle: H | None = None

    async def __aenter__(self) -> H:
        self._handle = await _in_new_thread(self._open, _close_unclaimed)
        return self._handle

    async def __aexit__(self, *exc_info: object) -> None:
        if self._handle is not None:
            await _in_new_thread(self._handle.close, None)


def connect(factory: Callable[P, H], /, *args: P.args, **kwargs: P.kwargs) -> Connected[H]:
    """``async with connect(corosync.CPG, on_deliver=...) as cpg:`` opens a handle and closes
    it on the way out.

    Connecting may wait: corosync answers TRY_AGAIN during membership sync, retried for the
    handle's ``retry_timeout``, and a daemon that does not answer holds the connect until it
    does. So opening and closing run in a thread of their own, started by the loop's thread,
    in whose network namespace (which a new thread shares) the handle connects. A connect
    cancelled meanwhile closes the handle once it is made."""
    return Connected(lambda: factory(*args, **kwargs))


def _close_unclaimed(handle: _Closable) -> None:
    handle.close()


async def _in_new_thread(call: Callable[[], T], unclaimed: Callable[[T], None] | None) -> T:
    """`call()` in a new thread (not an executor's: a pooled thread may be in another network
    namespace than the caller), awaited; `unclaimed(result)` runs if the waiter was cancelled
    or the loop has gone."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def hand_over(result: T) -> None:
        if done.cancelled():
            if unclaimed is not None:
                unclaimed(result)
        else:
            done.set_result(result)

    def fail(error: BaseException) -> None:
        if not done.cancelled():
            done.set_exception(error)

    def work() -> None:
        try:
            result = call()
        except BaseException as error:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(fail, error)
            return
        try:
            loop.call_soon_threadsafe(hand_over, result)
        except RuntimeError:
            if unclaimed is not None:
                unclaimed(result)

    threading.Thread(target=work, name="corosync.aio", daemon=True).start()
    return await done
