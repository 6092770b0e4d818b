"""CMAP handles whose daemon was killed (this module's own one-node cluster, restarted after
each test): what is CMAP's own. The next call of every kind (and every dispatch flavour once
the fd woke up), a blocking dispatch, a stream and a new handle once the daemon is back are
test_daemon_loss.py's, for every service."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cmap_helpers import ChangeRecorder
from conftest import CmapFactory

import corosync
from corosync.cmap import CmapMap
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
