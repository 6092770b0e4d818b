"""fileno() of every handle: one fd for the handle's life, readable while events are queued
and for good once the handle is closed, so that a select loop (or an event loop's reader)
always wakes up to a dispatch() that says why."""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable

import pytest

import corosync
from corosync.testing import Node

Opener = Callable[[], "corosync.CPG | corosync.CMAP"]


@pytest.fixture(params=["CPG", "CMAP"])
def open_handle(request: pytest.FixtureRequest, corosync_node: Node) -> Opener:
    """Opens a handle of the service named by the parameter on the one-node cluster."""
    factory = getattr(corosync, request.param)

    def opener() -> corosync.CPG | corosync.CMAP:
        handle: corosync.CPG | corosync.CMAP = corosync_node.connect(factory)
        request.addfinalizer(handle.close)
        return handle

    return opener


def readable(fd: int, timeout: float = 0) -> bool:
    return bool(select.select([fd], [], [], timeout)[0])


def test_the_fd_reads_ready_for_good_once_the_handle_is_closed(open_handle: Opener) -> None:
    handle = open_handle()
    fd = handle.fileno()
    handle.dispatch()
    assert not readable(fd), "readable with nothing queued"
    handle.close()
    assert readable(fd) and readable(fd), "a closed handle's fd must stay readable"
    os.fstat(fd)  # still open: the number cannot be reused under a poller
    with pytest.raises(corosync.ClosedError):
        handle.dispatch()
    with pytest.raises(corosync.ClosedError):
        handle.fileno()


def test_a_select_in_another_thread_wakes_when_the_handle_is_closed(
    open_handle: Opener,
) -> None:
    handle = open_handle()
    fd = handle.fileno()
    handle.dispatch()
    woke: list[float] = []

    def wait() -> None:
        select.select([fd], [], [], 30)
        woke.append(time.monotonic())

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.2)
    assert not woke, "select returned with nothing queued"
    closed_at = time.monotonic()
    handle.close()
    waiter.join(timeout=10)
    assert woke and woke[0] - closed_at < 5, "the close did not wake the select"


def test_a_cpg_keeps_its_fd_as_groups_are_joined_and_left(corosync_node: Node, group: str) -> None:
    with corosync_node.connect(corosync.CPG) as cpg:
        fd = cpg.fileno()
        cpg.join(group)
        cpg.join(group + "-2")
        assert cpg.fileno() == fd
        cpg.leave(group)
        deadline = time.monotonic() + 20
        while group in cpg.group_names() and time.monotonic() < deadline:
            cpg.dispatch()
        assert group not in cpg.group_names(), "the leave did not complete"
        assert cpg.fileno() == fd
