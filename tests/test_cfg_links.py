"""corosync.CFG's view of knet links on a three-node cluster with two links
(``Cluster(3, links=2)``): ``node_status`` of each node from every node, against what
``corosync-cfgtool -n`` prints there at the same moment, while one link of node 3 is cut and
after it is healed.

As seen with corosync 3.1.7 and knet: a cut link stays configured and enabled, only
``connected`` drops, on both sides, within a few token timeouts; corosync keeps sending over
link 0, so the membership does not change at all (same ring id). A node's status of itself
is knet's loopback link (link 0, its own address at both ends); ``corosync-cfgtool -n``
leaves it out.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from link_views import knet_view, shown, steady_view, wait_links

from corosync.cfg import LinkStatus
from corosync.testing import Cluster

NODES = (1, 2, 3)
LINKS = (0, 1)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """Three nodes joined by two knet links, shared by the module."""
    with Cluster(3, links=2) as cluster:
        yield cluster


@pytest.fixture
def healthy(cluster: Cluster) -> Cluster:
    """The module's cluster with every link up (reset() waits for knet to see them)."""
    cluster.reset()
    return cluster


def others(nodeid: int) -> list[int]:
    return [peer for peer in NODES if peer != nodeid]


def assert_cfgtool_agrees(cluster: Cluster, nodeid: int) -> None:
    """node_status of the other nodes on node ``nodeid`` is what ``corosync-cfgtool -n``
    prints there, field by field: node id and reachability, then per link its number,
    src->dst addresses, enabled/connected flags and MTU."""
    statuses, printed = steady_view(cluster, nodeid, others(nodeid))
    assert sorted(printed) == others(nodeid)  # both peers stay reachable over link 0
    for peer, status in statuses.items():
        assert printed[peer].nodeid == status.nodeid == peer
        assert printed[peer].flags == {"reachable"} and status.reachable
        assert printed[peer].links == {link.link: shown(link) for link in status.links}


def expected_link(cluster: Cluster, nodeid: int, peer: int, link: int, up: bool) -> LinkStatus:
    """Link ``link`` from node ``nodeid`` to ``peer`` as node_status must show it (the MTU
    aside, which the caller fills in)."""
    return LinkStatus(
        link=link,
        enabled=True,
        connected=up,
        dynconnected=False,
        mtu=0,
        src=cluster.node(nodeid).addresses[link],
        dst=cluster.node(peer).addresses[link],
    )


def without_mtu(link: LinkStatus) -> LinkStatus:
    assert link.mtu > 0
    return LinkStatus(
        link.link, link.enabled, link.connected, link.dynconnected, 0, link.src, link.dst
    )


@pytest.mark.parametrize("nodeid", NODES)
def test_every_node_shows_both_links_to_each_other_node_connected_as_cfgtool_does(
    healthy: Cluster, nodeid: int
) -> None:
    statuses, _ = steady_view(healthy, nodeid, others(nodeid))
    for peer, status in statuses.items():
        assert (status.nodeid, status.reachable, status.remote, status.external) == (
            peer,
            True,
            False,
            False,
        )
        assert [without_mtu(link) for link in status.links] == [
            expected_link(healthy, nodeid, peer, link, True) for link in LINKS
        ]
    assert_cfgtool_agrees(healthy, nodeid)


def test_a_node_shows_itself_over_knets_loopback_link_only(healthy: Cluster) -> None:
    for nodeid in NODES:
        address = healthy.node(nodeid).address
        [status] = knet_view(healthy, nodeid, [nodeid]).values()
        assert status.reachable
        [link] = status.links
        assert without_mtu(link) == LinkStatus(0, True, True, False, 0, address, address)


def test_a_cut_link_is_down_from_both_sides_while_link_0_and_the_membership_stay(
    healthy: Cluster,
) -> None:
    before = healthy.node(1).quorum_status()
    assert before is not None
    healthy.cut_link(3, 1)

    for nodeid in (1, 2):
        view = wait_links(healthy, nodeid, {(3, 1): False})
        assert view[3].reachable
        assert [without_mtu(link) for link in view[3].links] == [
            expected_link(healthy, nodeid, 3, 0, True),
            expected_link(healthy, nodeid, 3, 1, False),  # enabled, not connected
        ]
    view = wait_links(healthy, 3, {(1, 1): False, (2, 1): False})
    for peer in (1, 2):
        assert view[peer].reachable
        assert [without_mtu(link) for link in view[peer].links] == [
            expected_link(healthy, 3, peer, 0, True),
            expected_link(healthy, 3, peer, 1, False),
        ]
    # Nodes 1 and 2 keep both links between them.
    assert [link.connected for link in knet_view(healthy, 1, [2])[2].links] == [True, True]

    for nodeid in NODES:
        assert_cfgtool_agrees(healthy, nodeid)
        status = healthy.node(nodeid).quorum_status()
        assert status is not None
        assert status.members == {1, 2, 3} and status.quorate
        # corosync sent over link 0 all along: not even a new ring.
        assert status.ring_id == before.ring_id


def test_heal_brings_the_cut_link_back_up_on_every_node(healthy: Cluster) -> None:
    healthy.cut_link(3, 1)
    wait_links(healthy, 1, {(3, 1): False})
    wait_links(healthy, 3, {(1, 1): False, (2, 1): False})

    healthy.heal()
    for nodeid in NODES:
        every_link = {(peer, link): True for peer in others(nodeid) for link in LINKS}
        view = wait_links(healthy, nodeid, every_link)
        for peer in others(nodeid):
            assert [without_mtu(link) for link in view[peer].links] == [
                expected_link(healthy, nodeid, peer, link, True) for link in LINKS
            ]
        assert_cfgtool_agrees(healthy, nodeid)
        assert healthy.node(nodeid).members() == frozenset(NODES)
