"""The public surface of corosync.testing: exported names, documentation, static types."""

from __future__ import annotations

import corosync.testing
from corosync.testing import Cluster, QuorumStatus


def test_quorum_status_is_exported_and_is_what_nodes_return() -> None:
    assert "QuorumStatus" in corosync.testing.__all__
    assert QuorumStatus.__doc__
    with Cluster(1) as cluster:
        status = cluster.node(1).quorum_status()
        assert isinstance(status, QuorumStatus)
        assert (status.nodeid, status.quorate, status.members) == (1, True, {1})
