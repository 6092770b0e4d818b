"""CMAP handles whose daemon was killed (this module's own one-node cluster, restarted after
each test): the next call and dispatch() raise LibraryError, close() still works."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from cmap_helpers import ChangeRecorder, wait_readable
from conftest import CmapFactory

import corosync
from corosync import CsError, DispatchFlags
from corosync.cmap import CmapMap, ValueType
from corosync.testing import Node


@pytest.fixture
def node(corosync_node: Node) -> Iterator[Node]:
    """The one-node cluster's node, its daemon running again after the test."""
    yield corosync_node
    if not corosync_node.alive:
        corosync_node.cluster.restart(corosync_node.nodeid)


def kill(node: Node) -> None:
    node.cluster.kill(node.nodeid)
    assert not node.alive


CALLS: dict[str, Callable[[corosync.CMAP], object]] = {
    "get": lambda cmap: cmap.get("totem.cluster_name"),
    "getitem": lambda cmap: cmap["totem.cluster_name"],
    "set": lambda cmap: cmap.set("test.lost.k", 1, ValueType.UINT8),
    "set-inferred": lambda cmap: cmap.set("test.lost.k", 1),
    "delete": lambda cmap: cmap.delete("test.lost.k"),
    "inc": lambda cmap: cmap.inc("test.lost.k"),
    "dec": lambda cmap: cmap.dec("test.lost.k"),
    "keys": lambda cmap: list(cmap.keys()),
    "items": lambda cmap: list(cmap.items("totem.")),
    "len": lambda cmap: len(cmap),
    "track": lambda cmap: cmap.track("test.lost.k", lambda *args: None),
    "dispatch": lambda cmap: cmap.dispatch(),
}


@pytest.mark.parametrize("call", list(CALLS), ids=str)
def test_the_next_call_after_the_daemon_died_raises_library_error(
    node: Node, open_cmap: CmapFactory, call: str
) -> None:
    cmap = open_cmap()
    cmap.set("test.lost.k", 5, ValueType.UINT8)
    kill(node)
    with pytest.raises(corosync.LibraryError) as info:
        CALLS[call](cmap)
    assert isinstance(info.value, ConnectionError)
    assert info.value.code == CsError.LIBRARY
    # Still lost for the calls after it; close() works and is final.
    with pytest.raises(corosync.LibraryError):
        cmap.get("totem.cluster_name")
    cmap.close()
    assert cmap.closed
    with pytest.raises(corosync.ClosedError):
        CALLS[call](cmap)


def test_get_and_dispatch_name_the_failed_corosync_call(node: Node, open_cmap: CmapFactory) -> None:
    cmap = open_cmap()
    kill(node)
    with pytest.raises(corosync.LibraryError) as got:
        cmap.get("totem.cluster_name")
    assert got.value.function == "cmap_get"
    with pytest.raises(corosync.LibraryError) as dispatched:
        cmap.dispatch()
    assert dispatched.value.function == "cmap_dispatch"


def test_the_fd_wakes_up_and_dispatch_raises_library_error(
    node: Node, open_cmap: CmapFactory
) -> None:
    cmap = open_cmap()
    recorder = ChangeRecorder()
    cmap.track("test.lost.", recorder, prefix=True)
    kill(node)
    wait_readable(cmap)  # a poller learns of the loss
    for flags in DispatchFlags:
        if flags == DispatchFlags.BLOCKING:
            continue
        with pytest.raises(corosync.LibraryError):
            cmap.dispatch(flags)
    assert recorder.changes == []


def test_a_blocking_dispatch_ends_with_library_error(node: Node, open_cmap: CmapFactory) -> None:
    cmap = open_cmap()
    cmap.track("test.lost.", ChangeRecorder(), prefix=True)
    failures: list[BaseException] = []

    def dispatch() -> None:
        try:
            cmap.dispatch(DispatchFlags.BLOCKING)
        except BaseException as e:
            failures.append(e)

    thread = threading.Thread(target=dispatch)
    thread.start()
    kill(node)
    thread.join(30)
    assert not thread.is_alive(), "a blocking dispatch outlived its daemon"
    assert len(failures) == 1 and isinstance(failures[0], corosync.LibraryError)


def test_an_iterator_from_before_the_loss_raises_library_error(
    node: Node, open_cmap: CmapFactory
) -> None:
    cmap = open_cmap()
    keys = cmap.keys()
    items = cmap.items()
    assert next(keys) and next(items)
    kill(node)
    with pytest.raises(corosync.LibraryError):
        next(keys)
    with pytest.raises(corosync.LibraryError):
        next(items)
    # Closing them, and the handle, is quiet.
    keys.close()
    items.close()
    cmap.close()


def test_a_stats_handle_fails_the_same_way(node: Node, open_cmap: CmapFactory) -> None:
    stats = open_cmap(map=CmapMap.STATS)
    assert "stats.srp.mcast_tx" in stats
    kill(node)
    with pytest.raises(corosync.LibraryError):
        stats.get("stats.srp.mcast_tx")


def test_untrack_after_the_loss_raises_library_error(node: Node, open_cmap: CmapFactory) -> None:
    cmap = open_cmap()
    track = cmap.track("test.lost.k", ChangeRecorder())
    kill(node)
    with pytest.raises(corosync.LibraryError):
        cmap.untrack(track)


def test_a_new_handle_works_once_the_daemon_is_back(node: Node, open_cmap: CmapFactory) -> None:
    old = open_cmap()
    kill(node)
    node.cluster.restart(node.nodeid)
    with pytest.raises(corosync.LibraryError):
        old.get("totem.cluster_name")  # a lost connection stays lost
    new = open_cmap()
    assert new.get("nodelist.node.0.nodeid").value == 1
