"""corosync.testing tells a user who configured logging what it is doing."""

from __future__ import annotations

import logging

import pytest

from corosync.testing import Cluster


def test_cluster_life_cycle_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="corosync.testing")
    with Cluster(1) as cluster:
        pid = cluster.node(1).pid
        info = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
        everything = caplog.text
        cluster.kill(1)
    closing = caplog.text[len(everything) :]

    assert all(r.name.startswith("corosync.testing") for r in caplog.records)
    # INFO: the milestones, naming the cluster.
    assert any(cluster.name in m and "starting" in m for m in info), info
    assert any(cluster.name in m and "quorate" in m for m in info), info
    # DEBUG: the details one needs to find the pieces (namespace, pid, temp dir).
    assert cluster.node(1).netns in everything
    assert f"pid {pid}" in everything
    assert cluster.tmpdir in everything
    # The fault and the teardown.
    assert "kill" in closing.lower() and "node 1" in closing
    assert "cleaned up" in closing
