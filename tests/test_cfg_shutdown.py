"""corosync.CFG where a daemon goes away, on a real three-node cluster made whole again after
each test (dead daemons restarted): kill_node, shutdown requests that go ahead (every tracker
says yes; REGARDLESS, whatever they say; IMMEDIATE, asking no one), a tracker closed after
answering that no longer holds later requests up, and the daemon killed under an open handle.

corosync 3.1.7 (exec/cfg.c, checked here): kill_node() sends the reason to the node, which logs
"Killed by node <killer> : <reason>" (only there) and exits; a node that is not a member is
CS_ERR_NOT_EXIST. A shutdown that goes ahead is logged "Node N was shut down by sysadmin" on
every node, and the daemon exits normally. REGARDLESS waits for every tracker's answer (or
cfg.shutdown_timeout) like REQUEST, then goes ahead even on a NO; IMMEDIATE calls no tracker.
A shutdown is asked of the trackers of the node it is asked on only.
"""

from __future__ import annotations

import select
from collections.abc import Callable, Iterator

import pytest
from cfg_helpers import DEADLINE, Asking, Tracker, closing, log_marks, wait_logged

import corosync
from corosync import CFG, CsError, ShutdownFlags, ShutdownReply
from corosync.testing import Cluster, Node

#: The node these tests shut down (1 asks or watches).
ASKED = 2


@pytest.fixture
def cluster(corosync_cluster: Cluster) -> Iterator[Cluster]:
    """The shared cluster, whole again after the test: dead daemons restarted, all nodes
    quorate members (the fixtures that open handles are torn down before)."""
    yield corosync_cluster
    corosync_cluster.reset()


@pytest.fixture
def open_cfg(cluster: Cluster) -> Iterator[Callable[[int], CFG]]:
    """Opens a CFG handle on a node; closes them all after the test."""
    yield from closing(lambda nodeid: cluster.node(nodeid).connect(CFG))


@pytest.fixture
def trackers(cluster: Cluster) -> Iterator[Callable[..., Tracker]]:
    """Starts shutdown trackers (cfg_helpers.Tracker) on nodes; closes them after the test."""
    yield from closing(lambda nodeid, *answer: Tracker(cluster.node(nodeid), *answer))


@pytest.fixture
def asking(cluster: Cluster) -> Iterator[Callable[..., Asking]]:
    """Asks nodes to shut down, each from a thread (cfg_helpers.Asking); closes them after."""
    yield from closing(lambda nodeid, *flags: Asking(cluster.node(nodeid), *flags))


def wait_down(node: Node) -> None:
    node.cluster.wait_for(lambda: not node.alive, DEADLINE, f"node {node.nodeid}'s daemon to exit")


def wait_shut_down(cluster: Cluster, nodeid: int, marks: dict[int, int]) -> None:
    """Wait until node `nodeid`'s daemon has exited after a shutdown, every node having logged
    it since `marks` (log_marks), and the others see it gone."""
    node = cluster.node(nodeid)
    wait_down(node)
    wait_logged(node, "Corosync Cluster Engine exiting normally", marks[nodeid])
    others = [other.nodeid for other in cluster.nodes if other is not node]
    for other in others:
        text = f"Node {nodeid} was shut down by sysadmin"
        wait_logged(cluster.node(other), text, marks[other])
        cluster.wait_members(other, others)


# --- kill_node ---------------------------------------------------------------------------


def test_kill_node_makes_the_node_exit_logging_the_reason(
    cluster: Cluster, open_cfg: Callable[[int], CFG]
) -> None:
    killer, victim = open_cfg(1), cluster.node(3)
    reason = "é" * 127 + "x"  # 255 UTF-8 bytes: the most that fits
    since = log_marks([victim])[3]
    killer.kill_node(3, reason)
    wait_down(victim)
    wait_logged(victim, f"[CFG   ] Killed by node 1 : {reason}\n", since)
    wait_logged(victim, "Corosync Cluster Engine exiting with status -1", since)
    for nodeid in (1, 2):
        cluster.wait_members(nodeid, [1, 2])
    with open(cluster.node(1).log_path, encoding="utf-8") as f:
        assert reason not in f.read()  # the killer does not log it
    cluster.wait_for(lambda: not killer.node_status(3).reachable, what="node 3 unreachable")
    assert not killer.node_status(3).links[0].connected
    with pytest.raises(corosync.NotExistError) as info:
        killer.kill_node(3, "it is gone already")
    assert (info.value.code, info.value.function) == (CsError.NOT_EXIST, "corosync_cfg_kill_node")
    cluster.restart(3)
    assert open_cfg(3).node_status(1).reachable


# --- shutdowns that go ahead -------------------------------------------------------------


def test_every_tracker_answering_yes_lets_the_daemon_shut_down(
    cluster: Cluster, trackers: Callable[..., Tracker], asking: Callable[..., Asking]
) -> None:
    first, second = trackers(ASKED, ShutdownReply.YES), trackers(ASKED, ShutdownReply.YES)
    elsewhere = trackers(1)
    marks = log_marks(cluster.nodes)
    ask = asking(ASKED)
    assert first.wait_asked() == second.wait_asked() == [ShutdownFlags.REQUEST]
    ask.result()
    wait_shut_down(cluster, ASKED, marks)
    for tracker in (first, second):
        assert tracker.dispatch_until_lost() == [ShutdownFlags.REQUEST]
    assert elsewhere.settle() == []


def test_regardless_waits_for_the_trackers_answers_then_shuts_down_even_on_a_no(
    cluster: Cluster, trackers: Callable[..., Tracker], asking: Callable[..., Asking]
) -> None:
    tracker = trackers(ASKED)  # answers after its callback returned
    marks = log_marks(cluster.nodes)
    ask = asking(ASKED, ShutdownFlags.REGARDLESS)
    assert tracker.wait_asked() == [ShutdownFlags.REGARDLESS]
    # Still pending: it waits for the answer.
    with pytest.raises(corosync.ExistError):
        asking(ASKED).result()
    tracker.cfg.reply_to_shutdown(ShutdownReply.NO)
    ask.result()
    wait_shut_down(cluster, ASKED, marks)
    assert tracker.dispatch_until_lost() == [ShutdownFlags.REGARDLESS]


def test_immediate_shuts_down_without_calling_the_trackers(
    cluster: Cluster, trackers: Callable[..., Tracker], asking: Callable[..., Asking]
) -> None:
    tracker = trackers(ASKED, ShutdownReply.NO)
    marks = log_marks(cluster.nodes)
    asking(ASKED, ShutdownFlags.IMMEDIATE).result()
    wait_shut_down(cluster, ASKED, marks)
    assert tracker.dispatch_until_lost() == []


def test_a_tracker_closed_after_answering_no_longer_holds_up_a_request(
    cluster: Cluster, trackers: Callable[..., Tracker], asking: Callable[..., Asking]
) -> None:
    # libcfg keeps a handle that answered connected until the process exits; close() stops
    # tracking first, so that the daemon no longer waits for this handle's answers.
    tracker = trackers(ASKED, ShutdownReply.NO)
    refused = asking(ASKED)
    tracker.wait_asked()
    with pytest.raises(corosync.BusyError):
        refused.result()
    tracker.close()
    marks = log_marks(cluster.nodes)
    asking(ASKED).result()  # no tracker left: it goes ahead without waiting
    wait_shut_down(cluster, ASKED, marks)
    assert tracker.asked == [ShutdownFlags.REQUEST]


# --- the daemon killed under an open handle ------------------------------------------------

LOST: dict[str, Callable[[CFG], object]] = {
    "local_nodeid": lambda cfg: cfg.local_nodeid,
    "node_status": lambda cfg: cfg.node_status(1),
    "node_addrs": lambda cfg: cfg.node_addrs(),
    "ring_status": lambda cfg: cfg.ring_status(),
    "reload_config": lambda cfg: cfg.reload_config(),
    "reopen_log_files": lambda cfg: cfg.reopen_log_files(),
    "trackstop": lambda cfg: cfg.trackstop(),
    "try_shutdown": lambda cfg: cfg.try_shutdown(),
    "reply_to_shutdown": lambda cfg: cfg.reply_to_shutdown(),
    "dispatch": lambda cfg: cfg.dispatch(),
}


def test_the_daemon_killed_under_an_open_handle_raises_library_error(
    cluster: Cluster, open_cfg: Callable[[int], CFG]
) -> None:
    cfg = open_cfg(3)
    cfg.trackstart()
    cluster.kill(3)
    assert select.select([cfg], [], [], DEADLINE)[0], "the fd did not wake up"
    for name, call in LOST.items():
        with pytest.raises(corosync.LibraryError) as info:
            call(cfg)
        assert isinstance(info.value, ConnectionError) and info.value.code == CsError.LIBRARY
        assert info.value.function.startswith("corosync_cfg_"), name
    with pytest.raises(corosync.LibraryError):
        open_cfg(3)  # nothing to connect to
    cluster.restart(3)
    again = open_cfg(3)
    assert again.local_nodeid == 3 and again.node_status(1).reachable
    with pytest.raises(corosync.LibraryError):
        LOST["local_nodeid"](cfg)  # a handle does not reconnect
    cfg.close()
    with pytest.raises(corosync.ClosedError):
        cfg.dispatch()


def test_kill_node_on_a_lost_connection_raises_library_error(
    cluster: Cluster, open_cfg: Callable[[int], CFG]
) -> None:
    """libcfg's corosync_cfg_kill_node drops the IPC error and returns its uninitialized answer's
    error field (a garbage code, or CS_OK by chance); the binding checks the connection."""
    cfg = open_cfg(3)
    cluster.kill(3)
    with pytest.raises(corosync.LibraryError) as info:
        cfg.kill_node(99, "lost")
    assert info.value.function == "corosync_cfg_kill_node"
