"""Recording CPG callbacks and pumping handles (CPG or CMAP) until something happened (test
helpers)."""

from __future__ import annotations

import select
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import corosync
from corosync.cpg import Address


@dataclass(frozen=True)
class Delivered:
    group: str | bytes
    nodeid: int
    pid: int
    message: bytes


@dataclass(frozen=True)
class ConfChg:
    group: str | bytes
    members: list[Address]
    left: list[Address]
    joined: list[Address]


@dataclass(frozen=True)
class TotemConfChg:
    ring_id: corosync.RingId
    members: list[int]


Event = Delivered | ConfChg | TotemConfChg


@dataclass
class Recorder:
    """Collects every callback of the CPG handles it is attached to, in order."""

    events: list[Event] = field(default_factory=list)

    def attach(self, cpg: corosync.CPG) -> corosync.CPG:
        cpg.on_deliver = self.on_deliver
        cpg.on_confchg = self.on_confchg
        cpg.on_totem_confchg = self.on_totem_confchg
        return cpg

    def on_deliver(self, group: str | bytes, nodeid: int, pid: int, message: bytes) -> None:
        self.events.append(Delivered(group, nodeid, pid, message))

    def on_confchg(
        self,
        group: str | bytes,
        members: list[Address],
        left: list[Address],
        joined: list[Address],
    ) -> None:
        self.events.append(ConfChg(group, members, left, joined))

    def on_totem_confchg(self, ring_id: corosync.RingId, members: list[int]) -> None:
        self.events.append(TotemConfChg(ring_id, members))

    def messages(self, group: str | bytes | None = None) -> list[bytes]:
        return [e.message for e in self.delivered(group)]

    def delivered(self, group: str | bytes | None = None) -> list[Delivered]:
        return [e for e in self.events if isinstance(e, Delivered) and group in (None, e.group)]

    def confchgs(self, group: str | bytes | None = None) -> list[ConfChg]:
        return [e for e in self.events if isinstance(e, ConfChg) and group in (None, e.group)]

    def totem_confchgs(self) -> list[TotemConfChg]:
        return [e for e in self.events if isinstance(e, TotemConfChg)]


def joined(
    open_cpg: Callable[..., corosync.CPG], group: str, **kwargs: object
) -> tuple[corosync.CPG, Recorder]:
    """A handle from ``open_cpg(**kwargs)`` recorded by a new Recorder, joined to ``group``
    once its join confchg has been dispatched."""
    recorder = Recorder()
    cpg = recorder.attach(open_cpg(**kwargs))
    cpg.join(group)
    pump([cpg], lambda: bool(recorder.confchgs()))
    return cpg, recorder


class Dispatchable(Protocol):
    """Any handle: an fd to wait on and a dispatch."""

    def fileno(self) -> int: ...
    def dispatch(self, flags: corosync.DispatchFlags = corosync.DispatchFlags.ALL) -> None: ...


def pump(
    handles: Sequence[Dispatchable],
    until: Callable[[], bool],
    *,
    timeout: float = 15.0,
    what: str = "the expected events",
) -> None:
    """Dispatch the handles as their fds become readable until ``until()`` holds."""
    deadline = time.monotonic() + timeout
    while not until():
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        readable, _, _ = select.select(list(handles), [], [], min(left, 0.5))
        for handle in readable:
            handle.dispatch(corosync.DispatchFlags.ALL)


def pump_past_marker(
    cpg: corosync.CPG,
    recorder: Recorder,
    group: str | bytes,
    *,
    timeout: float = 15.0,
) -> list[Event]:
    """Send a marker message to `group` and dispatch `cpg` until the marker is delivered;
    returns the events recorded before it.

    corosync delivers the messages and membership changes of one group to a connection in
    one total order, and the connection's own sends keep their order in it. So whatever
    corosync queued for `group` ahead of the marker has been dispatched by the time the
    marker arrives: an event missing from the result did not happen, however slow delivery
    is. (No such order holds across groups, nor for ring changes reported on the handle's
    control connection.)"""
    marker = b"marker-" + uuid.uuid4().hex.encode()
    cpg.mcast(marker, group=group)

    def marker_index() -> int | None:
        return next(
            (
                i
                for i, e in enumerate(recorder.events)
                if isinstance(e, Delivered) and e.message == marker
            ),
            None,
        )

    pump([cpg], lambda: marker_index() is not None, timeout=timeout, what="the marker message")
    index = marker_index()
    assert index is not None
    return recorder.events[:index]
