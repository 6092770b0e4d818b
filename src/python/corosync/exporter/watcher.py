"""The exporter's one thread that talks to corosync: :class:`Watcher`.

It keeps handles open to the local corosync and follows what corosync notifies (quorum,
votequorum, and CMAP's nodelist, for the node names), so that quorum, votes and members are
always as the last notification left them. What corosync notifies nothing about (knet's
link status and counters, the CPG groups of other processes) it reads when a scrape asks
(:meth:`Watcher.snapshot`), in this same thread, so that a scrape never waits longer than
``read_timeout`` even when corosync does not answer. When corosync goes away every call
fails; the watcher then reports ``up`` False and tries again, waiting longer each time
(up to ``backoff[1]`` seconds) until corosync is back.
"""

from __future__ import annotations

import logging
import os
import selectors
import threading
from collections.abc import Callable
from contextlib import ExitStack
from types import TracebackType
from typing import TypeAlias

from corosync import CFG, CMAP, CPG, CmapMap, CorosyncError, DispatchFlags, TypedValue
from corosync.cli.errors import describe
from corosync.cli.quorum_facts import QuorumFacts, QuorumReader
from corosync.cmap import TrackEvent
from corosync.exporter import BACKOFF, READ_TIMEOUT
from corosync.exporter.reading import read_cpg, read_link_state
from corosync.exporter.snapshot import Snapshot

__all__ = ["Watcher"]

_log = logging.getLogger("corosync.exporter")

_TrackCallback: TypeAlias = Callable[[TrackEvent, str, TypedValue | None, TypedValue | None], None]


class _Connection:
    """The handles of one connection to corosync, opened together and closed together."""

    def __init__(self, on_nodelist_change: _TrackCallback) -> None:
        with ExitStack() as stack:
            self.cmap = stack.enter_context(CMAP())
            self.stats = stack.enter_context(CMAP(CmapMap.STATS))
            self.cfg = stack.enter_context(CFG())
            self.cpg = stack.enter_context(CPG())
            self.reader = stack.enter_context(QuorumReader(self.cmap, self.cfg))
            # A nodelist change (a reload) may rename nodes.
            self.cmap.track("nodelist.node.", on_nodelist_change, prefix=True)
            self._stack = stack.pop_all()

    def read(self, facts: QuorumFacts) -> Snapshot:
        """Everything, with the quorum as ``facts`` says."""
        rings, peers, links = read_link_state(self.cmap, self.stats, self.cfg)
        cpg = read_cpg(self.cpg, self.cmap, self.cfg)
        return Snapshot(True, facts, rings, peers, links, cpg)

    def __enter__(self) -> _Connection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()


class Watcher:
    """Follows the local corosync in a daemon thread of its own (:meth:`start`,
    :meth:`stop`) and answers :meth:`snapshot` from any thread."""

    def __init__(
        self, *, read_timeout: float = READ_TIMEOUT, backoff: tuple[float, float] = BACKOFF
    ) -> None:
        self.read_timeout = read_timeout
        self.backoff = backoff
        self._cond = threading.Condition()
        self._snapshot = Snapshot(up=False)
        self._connected = False
        self._asked = 0  # snapshots asked for, and answered, so far
        self._answered = 0
        self._renamed = False
        self._failures = 0  # failed attempts since corosync was last reached
        self._stopping = threading.Event()
        self._wakeup_read, self._wakeup_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._thread = threading.Thread(target=self._run, name="corosync watcher", daemon=True)

    def start(self) -> None:
        """Start following corosync."""
        self._thread.start()

    def stop(self, timeout: float = READ_TIMEOUT) -> None:
        """Stop the thread and close the handles (waiting at most ``timeout`` seconds: a
        corosync that does not answer keeps the thread, a daemon thread, in its call)."""
        self._stopping.set()
        self._wake()
        self._thread.join(timeout)

    def snapshot(self) -> Snapshot:
        """The state read after this call began, or ``Snapshot(up=False)`` when corosync
        is not reachable or did not answer within ``read_timeout`` seconds."""
        with self._cond:
            if not self._connected:
                return self._snapshot
            self._asked += 1
            ticket = self._asked
            self._wake()
            done = self._cond.wait_for(
                lambda: self._answered >= ticket or not self._connected, self.read_timeout
            )
            if not done:
                _log.warning("corosync did not answer within %g s", self.read_timeout)
                return Snapshot(up=False)
            return self._snapshot

    def _wake(self) -> None:
        try:
            os.write(self._wakeup_write, b"!")
        except BlockingIOError:
            pass  # the pipe is full: the thread wakes up anyway

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                with _Connection(self._nodelist_changed) as connection:
                    self._serve(connection)
            except Exception as error:
                self._down()
                if self._stopping.is_set():
                    break
                self._failed(error)
                delay = min(self.backoff[0] * 2 ** (self._failures - 1), self.backoff[1])
                self._stopping.wait(delay)
        self._down()

    def _failed(self, error: Exception) -> None:
        expected = isinstance(error, CorosyncError | TimeoutError)
        # One line when corosync goes away; that it is still away is not news.
        level = logging.WARNING if self._failures == 0 else logging.DEBUG
        _log.log(
            level if expected else logging.ERROR,
            "%s; trying again",
            describe(error) if isinstance(error, CorosyncError) else repr(error),
            exc_info=not expected or _log.isEnabledFor(logging.DEBUG),
        )
        self._failures += 1

    def _nodelist_changed(
        self, event: TrackEvent, key: str, new: TypedValue | None, old: TypedValue | None
    ) -> None:
        self._renamed = True

    def _serve(self, connection: _Connection) -> None:
        reader = connection.reader
        reader.track()
        with selectors.DefaultSelector() as selector:
            selector.register(self._wakeup_read, selectors.EVENT_READ)
            for handle in [*reader.handles, connection.cmap]:
                selector.register(handle.fileno(), selectors.EVENT_READ, handle)
            # corosync notifies the quorum at once on trackstart: the state to start from.
            while reader.ring_id is None:
                ready = selector.select(self.read_timeout)
                if not ready:
                    raise TimeoutError("corosync sent no quorum notification")
                self._dispatch(ready)
            facts = self._facts(reader)
            with self._cond:
                self._connected = True
            self._failures = 0
            _log.info("connected to corosync (node %d)", facts.node_id)
            while not self._stopping.is_set():
                self._dispatch(selector.select())
                if reader.changed or self._renamed:
                    facts = self._facts(reader)
                with self._cond:
                    target = self._asked
                if target > self._answered:
                    snapshot = connection.read(facts)
                    with self._cond:
                        self._snapshot, self._answered = snapshot, target
                        self._cond.notify_all()

    def _dispatch(self, ready: list[tuple[selectors.SelectorKey, int]]) -> None:
        for key, _ in ready:
            if key.data is not None:
                key.data.dispatch(DispatchFlags.ALL)
                continue
            try:
                while os.read(self._wakeup_read, 512):
                    pass
            except BlockingIOError:
                pass

    def _facts(self, reader: QuorumReader) -> QuorumFacts:
        reader.changed = self._renamed = False
        return reader.facts()

    def _down(self) -> None:
        with self._cond:
            self._connected = False
            self._snapshot = Snapshot(up=False)
            self._cond.notify_all()
