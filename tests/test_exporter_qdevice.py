"""The exporter's quorum device row: ``ha_cluster_corosync_member_votes`` lists a registered
device as node 0 with the votes it casts, as corosync-quorumtool does. A one-node cluster
whose quorum.device section gives the device 1 vote (quorum 2), and a device registered
through the votequorum API that casts its vote, then withholds it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from exporter_helpers import Exporter, agrees
from quorum_helpers import device_decides_quorum, ring_of

from corosync import Votequorum
from corosync.testing import Node

NAME = "pydevice"
VOTES = "ha_cluster_corosync_member_votes"


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    with device_decides_quorum() as cluster:
        yield cluster.node(1)


@pytest.fixture
def exporter(node: Node) -> Iterator[Exporter]:
    running = Exporter(node)
    yield running
    running.close()


def test_the_device_row_shows_the_vote_it_casts_then_none(node: Node, exporter: Exporter) -> None:
    with node.connect(Votequorum) as device:
        device.qdevice_register(NAME)
        try:
            ring = ring_of(node)
            device.qdevice_poll(NAME, True, ring)
            node.cluster.wait_quorate(1, timeout=10)
            _, scrape = agrees(exporter)  # the tools list the device too
            assert scrape.value("ha_cluster_corosync_quorate") == 1
            assert scrape.table(VOTES, "node_id", "node", "local") == {
                ("0", NAME, "false"): 1,
                ("1", "node1", "true"): 1,
            }
            device.qdevice_poll(NAME, False, ring)  # alive, but no vote
            node.cluster.wait_quorate(1, False, timeout=10)
            _, scrape = agrees(exporter)
            assert scrape.value("ha_cluster_corosync_quorate") == 0
            assert scrape.table(VOTES, "node_id", "node", "local") == {
                ("0", NAME, "false"): 0,
                ("1", "node1", "true"): 1,
            }
        finally:
            device.qdevice_unregister(NAME)
