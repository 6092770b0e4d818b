"""Cluster.restart() returns once the node serves clients and is a quorate member again, so
that a test can connect to it at once; ``wait=False`` returns as soon as the daemon is started.

Clients are opened with the C library through ctypes (as in tests/test_testing_harness.py),
so these tests do not depend on corosync's own binding (the harness's waits use it).
"""

from __future__ import annotations

import ctypes
import time

from test_retry import daemon_stopped

from corosync.testing import Cluster, Node

_libcpg = ctypes.CDLL("libcpg.so.4")
CS_OK = 1


def cpg_initialize_rc(node: Node) -> int:
    """Open (and close again) a CPG handle on ``node``; return cpg_initialize's result."""

    def attempt() -> int:
        handle = ctypes.c_uint64()
        callbacks = (ctypes.c_void_p * 2)()  # cpg_callbacks_t without callbacks
        rc: int = _libcpg.cpg_initialize(ctypes.byref(handle), ctypes.byref(callbacks))
        if rc == CS_OK:
            _libcpg.cpg_finalize(handle)
        return rc

    return node.connect(attempt)


def test_restart_returns_once_the_node_serves_clients_and_is_a_quorate_member(
    corosync_healthy_cluster: Cluster,
) -> None:
    node = corosync_healthy_cluster.node(2)
    for _ in range(3):
        old_pid = node.pid
        corosync_healthy_cluster.restart(2)
        assert node.pid not in (None, old_pid)
        assert cpg_initialize_rc(node) == CS_OK
        status = node.quorum_status()
        assert status is not None and status.quorate and status.members == {1, 2, 3}


def test_restart_of_a_killed_node_waits_too(corosync_healthy_cluster: Cluster) -> None:
    corosync_healthy_cluster.kill(3)
    corosync_healthy_cluster.wait_members(1, [1, 2], timeout=15)
    corosync_healthy_cluster.restart(3)
    assert cpg_initialize_rc(corosync_healthy_cluster.node(3)) == CS_OK
    for node in corosync_healthy_cluster.nodes:
        status = node.quorum_status()
        assert status is not None and status.quorate and status.members == {1, 2, 3}


def test_restart_without_quorum_waits_for_the_node_to_serve_clients(
    corosync_healthy_cluster: Cluster,
) -> None:
    # Node 3 is cut off: it can only form a membership of its own, without quorum.
    corosync_healthy_cluster.isolate(3)
    corosync_healthy_cluster.restart(3)
    assert cpg_initialize_rc(corosync_healthy_cluster.node(3)) == CS_OK
    status = corosync_healthy_cluster.node(3).quorum_status()
    assert status is not None and not status.quorate and status.members == {3}


def test_restart_without_wait_leaves_the_waiting_to_the_caller(
    corosync_healthy_cluster: Cluster,
) -> None:
    node = corosync_healthy_cluster.node(2)
    corosync_healthy_cluster.restart(2, wait=False)
    # Returned once the daemon was started; whether it serves clients yet is a race (it
    # usually takes a few hundred milliseconds), so only the started daemon is asserted.
    assert node.alive
    corosync_healthy_cluster.wait_members(2, [1, 2, 3], timeout=15)
    assert cpg_initialize_rc(node) == CS_OK


def test_the_waits_read_what_quorumtool_shows_and_a_dead_or_stopped_daemon_as_no_answer(
    corosync_healthy_cluster: Cluster,
) -> None:
    # The waits and members() read the binding (a short-lived corosync.Quorum handle per
    # look); quorum_status() stays the corosync-quorumtool view. They must agree.
    for node in corosync_healthy_cluster.nodes:
        status = node.quorum_status()
        assert status is not None
        assert node._view() == (status.quorate, status.members)
        assert node.members() == status.members == {1, 2, 3}
    node = corosync_healthy_cluster.node(3)
    # A stopped daemon would block a connecting client: it reads as no answer at once. (Only
    # once it is stopped: a look while SIGSTOP is on its way can still connect and block.)
    with daemon_stopped(node):
        started = time.monotonic()
        assert node.members() is None and node._view() is None
        assert time.monotonic() - started < 1.0
    corosync_healthy_cluster.kill(3)
    assert node.members() is None and node._view() is None
    corosync_healthy_cluster.wait_members(1, [1, 2], timeout=15)
    corosync_healthy_cluster.wait_quorate(2, timeout=15)
    corosync_healthy_cluster.restart(3)  # waits through handles refused while it starts
    assert node._view() == (True, frozenset({1, 2, 3}))
