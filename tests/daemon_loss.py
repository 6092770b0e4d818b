"""Every service handle as test_daemon_loss.py drives it (test helpers): how to open one and
put it to work, the calls that need the daemon and the C call each one's LibraryError names,
a request that waits for the daemon's answer, its asyncio stream, and a call that shows a new
handle works. Also a thread that runs one call and keeps its outcome, and a stopped daemon
that the test kills."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from cmap_helpers import ChangeRecorder
from cpg_events import Recorder, pump

import corosync
from corosync import RingId, TrackFlags, aio
from corosync._aio_pump import EventStream
from corosync.cmap import ValueType
from corosync.testing import Node

#: How long a call, dispatch or stream may take to notice that its daemon was killed. libqb
#: looks at the socket of a request waiting for its answer once a second; the rest notice at
#: once (the fd reports the hang-up). Generous, so that a slow machine does not fail it.
DEADLINE = 10.0

#: A group and a key prefix of this module's own.
GROUP = f"loss-{uuid.uuid4().hex[:12]}"
PREFIX = "test.lost."

#: A service handle (CPG, CMAP, Quorum, Votequorum or CFG): the table is uniform over them.
Handle = Any
Call = Callable[[Handle], object]


def _join(cpg: corosync.CPG) -> None:
    recorder = Recorder()
    recorder.attach(cpg)
    cpg.join(GROUP)
    pump([cpg], lambda: bool(recorder.confchgs()), what="the join's confchg")


def _track(cmap: corosync.CMAP) -> None:
    cmap.set(PREFIX + "k", 5, ValueType.UINT8)
    cmap.track(PREFIX, ChangeRecorder(), prefix=True)


def _trackstart(handle: corosync.Quorum | corosync.Votequorum | corosync.CFG) -> None:
    if isinstance(handle, corosync.CFG):
        handle.trackstart()
        return
    # CHANGES reports the state now (nodelist, then notify): dispatched, nothing is left
    # queued for the loss to find.
    seen: list[object] = []
    handle.on_notify = lambda *args: seen.append(args)
    handle.trackstart(TrackFlags.CHANGES)
    pump([handle], lambda: bool(seen), what="the state now")


def _cmap_stream(cmap: corosync.CMAP) -> EventStream[Any]:
    return aio.events(cmap, PREFIX, prefix=True)


def _probe_cpg(cpg: corosync.CPG) -> None:
    _join(cpg)
    assert [a.pid for a in cpg.membership(GROUP)] == [os.getpid()]


def _probe_cmap(cmap: corosync.CMAP) -> None:
    assert cmap.get("nodelist.node.0.nodeid").value == 1


def _probe_quorum(quorum: corosync.Quorum) -> None:
    assert quorum.quorate


def _probe_votequorum(votequorum: corosync.Votequorum) -> None:
    info = votequorum.info()
    assert info.nodeid == 1 and info.votes == 1


def _probe_cfg(cfg: corosync.CFG) -> None:
    assert cfg.local_nodeid == 1 and cfg.node_status(1).reachable


@dataclass(frozen=True)
class Service:
    """One service as the daemon-loss tests use it."""

    name: str
    factory: type
    #: Puts an open handle to work as a program would (joins, tracks).
    prepare: Callable[[Handle], None]
    #: The calls that need the daemon, each with the C call its LibraryError names.
    calls: dict[str, tuple[Call, str]]
    #: A request that waits for the daemon's answer (stopped daemon: it waits forever).
    waiting: tuple[Call, str]
    #: The handle's asyncio stream.
    stream: Callable[[Handle], EventStream[Any]]
    #: Shows that a handle works.
    probe: Call
    #: What answers without the daemon (kept from the connection), with what it answers.
    local: dict[str, Call] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


SERVICES: list[Service] = [
    Service(
        "cpg",
        corosync.CPG,
        prepare=_join,
        calls={
            "mcast": (lambda cpg: cpg.mcast(b"lost"), "cpg_mcast_joined"),
            "mcast_many": (lambda cpg: cpg.mcast_many([b"a", b"b"]), "cpg_mcast_joined"),
            "membership": (lambda cpg: cpg.membership(GROUP), "cpg_membership_get"),
            "groups": (lambda cpg: cpg.groups(), "cpg_iteration_initialize"),
            "group_names": (lambda cpg: cpg.group_names(), "cpg_iteration_initialize"),
            "leave": (lambda cpg: cpg.leave(GROUP), "cpg_leave"),
            # A second group opens a connection of its own: the daemon is not there for it.
            "join": (lambda cpg: cpg.join(GROUP + "-2"), "cpg_join"),
            "dispatch": (lambda cpg: cpg.dispatch(), "cpg_dispatch"),
        },
        waiting=(lambda cpg: cpg.membership(GROUP), "cpg_membership_get"),
        stream=aio.events,
        probe=_probe_cpg,
        local={
            "local_nodeid": lambda cpg: cpg.local_nodeid,
            "max_atomic_msgsize": lambda cpg: cpg.max_atomic_msgsize,
            # libcpg answers "disabled" without asking; the send window is the binding's.
            "flow_control_enabled": lambda cpg: cpg.flow_control_enabled,
        },
    ),
    Service(
        "cmap",
        corosync.CMAP,
        prepare=_track,
        calls={
            "get": (lambda cmap: cmap.get("totem.cluster_name"), "cmap_get"),
            "getitem": (lambda cmap: cmap["totem.cluster_name"], "cmap_get"),
            "set": (lambda cmap: cmap.set(PREFIX + "k", 1, ValueType.UINT8), "cmap_set"),
            # type=None asks corosync for the key's type first.
            "set-inferred": (lambda cmap: cmap.set(PREFIX + "k", 1), "cmap_get"),
            "delete": (lambda cmap: cmap.delete(PREFIX + "k"), "cmap_delete"),
            "inc": (lambda cmap: cmap.inc(PREFIX + "k"), "cmap_inc"),
            "dec": (lambda cmap: cmap.dec(PREFIX + "k"), "cmap_dec"),
            "keys": (lambda cmap: list(cmap.keys()), "cmap_iter_init"),
            "items": (lambda cmap: list(cmap.items("totem.")), "cmap_iter_init"),
            "len": (lambda cmap: len(cmap), "cmap_iter_init"),
            "track": (lambda cmap: cmap.track(PREFIX + "k", ChangeRecorder()), "cmap_track_add"),
            "dispatch": (lambda cmap: cmap.dispatch(), "cmap_dispatch"),
        },
        waiting=(lambda cmap: cmap.get("totem.cluster_name"), "cmap_get"),
        stream=_cmap_stream,
        probe=_probe_cmap,
    ),
    Service(
        "quorum",
        corosync.Quorum,
        prepare=_trackstart,
        calls={
            "quorate": (lambda quorum: quorum.quorate, "quorum_getquorate"),
            "trackstart": (lambda quorum: quorum.trackstart(), "quorum_trackstart"),
            "trackstop": (lambda quorum: quorum.trackstop(), "quorum_trackstop"),
            "dispatch": (lambda quorum: quorum.dispatch(), "quorum_dispatch"),
        },
        waiting=(lambda quorum: quorum.quorate, "quorum_getquorate"),
        stream=aio.events,
        probe=_probe_quorum,
        local={"quorum_type": lambda quorum: quorum.quorum_type},
    ),
    Service(
        "votequorum",
        corosync.Votequorum,
        prepare=_trackstart,
        calls={
            "info": (lambda vq: vq.info(), "votequorum_getinfo"),
            "set_expected": (lambda vq: vq.set_expected(1), "votequorum_setexpected"),
            # nodeid 0 (this node) is asked for first, once per handle.
            "set_votes": (lambda vq: vq.set_votes(1), "votequorum_getinfo"),
            "trackstart": (lambda vq: vq.trackstart(), "votequorum_trackstart"),
            "trackstop": (lambda vq: vq.trackstop(), "votequorum_trackstop"),
            "qdevice_register": (
                lambda vq: vq.qdevice_register("lost"),
                "votequorum_qdevice_register",
            ),
            "qdevice_unregister": (
                lambda vq: vq.qdevice_unregister("lost"),
                "votequorum_qdevice_unregister",
            ),
            "qdevice_update": (
                lambda vq: vq.qdevice_update("lost", "found"),
                "votequorum_qdevice_update",
            ),
            "qdevice_poll": (
                lambda vq: vq.qdevice_poll("lost", True, RingId(1, 1)),
                "votequorum_qdevice_poll",
            ),
            "qdevice_master_wins": (
                lambda vq: vq.qdevice_master_wins("lost", True),
                "votequorum_qdevice_master_wins",
            ),
            "dispatch": (lambda vq: vq.dispatch(), "votequorum_dispatch"),
        },
        waiting=(lambda vq: vq.info(), "votequorum_getinfo"),
        stream=aio.events,
        probe=_probe_votequorum,
    ),
    Service(
        "cfg",
        corosync.CFG,
        prepare=_trackstart,
        calls={
            "local_nodeid": (lambda cfg: cfg.local_nodeid, "corosync_cfg_local_get"),
            "node_status": (lambda cfg: cfg.node_status(1), "corosync_cfg_node_status_get"),
            "node_addrs": (lambda cfg: cfg.node_addrs(), "corosync_cfg_get_node_addrs"),
            "ring_status": (lambda cfg: cfg.ring_status(), "corosync_cfg_ring_status_get"),
            "reload_config": (lambda cfg: cfg.reload_config(), "corosync_cfg_reload_config"),
            "reopen_log_files": (
                lambda cfg: cfg.reopen_log_files(),
                "corosync_cfg_reopen_log_files",
            ),
            "kill_node": (lambda cfg: cfg.kill_node(1, "lost"), "corosync_cfg_kill_node"),
            "trackstart": (lambda cfg: cfg.trackstart(), "corosync_cfg_trackstart"),
            "trackstop": (lambda cfg: cfg.trackstop(), "corosync_cfg_trackstop"),
            "try_shutdown": (lambda cfg: cfg.try_shutdown(), "corosync_cfg_try_shutdown"),
            "reply_to_shutdown": (
                lambda cfg: cfg.reply_to_shutdown(),
                "corosync_cfg_replyto_shutdown",
            ),
            "dispatch": (lambda cfg: cfg.dispatch(), "corosync_cfg_dispatch"),
        },
        waiting=(lambda cfg: cfg.node_status(1), "corosync_cfg_node_status_get"),
        stream=aio.events,
        probe=_probe_cfg,
    ),
]


class Outcome(threading.Thread):
    """Runs `call()` in a thread of its own and keeps what it raised, so that a call that
    never returns fails the test instead of hanging it."""

    def __init__(self, call: Callable[[], object], name: str) -> None:
        super().__init__(daemon=True, name=name)
        self.call = call
        self.error: BaseException | None = None
        self.returned = False
        self.start()

    def run(self) -> None:
        try:
            self.call()
            self.returned = True
        except BaseException as e:
            self.error = e

    def waiting(self, seconds: float = 0.3) -> bool:
        """Still running `seconds` from now."""
        self.join(seconds)
        return self.is_alive()

    def raised(self, what: str) -> BaseException:
        """What the call raised, once it ended; fails if it did not end within DEADLINE
        seconds or returned."""
        self.join(DEADLINE)
        assert not self.is_alive(), f"{what} still runs {DEADLINE} s after its daemon was killed"
        assert not self.returned, f"{what} returned after its daemon was killed"
        assert self.error is not None
        return self.error


def state(pid: int) -> str:
    """The process's state letter (``T``: stopped), or ``"gone"``."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


@contextmanager
def stopped(node: Node) -> Iterator[None]:
    """The node's daemon stopped (SIGSTOP) for the body, which kills it; continued if it did
    not."""
    pid = node.pid
    assert pid is not None, "the node's daemon is not running"
    os.kill(pid, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + DEADLINE
        while state(pid) != "T":
            assert time.monotonic() < deadline, "the daemon did not stop"
            time.sleep(0.005)
        yield
    finally:
        if node.alive:
            os.kill(pid, signal.SIGCONT)


def kill(node: Node) -> None:
    node.cluster.kill(node.nodeid)
    assert not node.alive


def assert_lost(error: BaseException, function: str) -> None:
    """`error` is the LibraryError of a lost daemon, naming `function`."""
    if not isinstance(error, corosync.LibraryError):
        pytest.fail(f"expected LibraryError from {function}, got {error!r}")
    assert isinstance(error, ConnectionError)
    assert error.code == corosync.CsError.LIBRARY
    assert error.function == function, str(error)
