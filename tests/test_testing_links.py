"""Clusters with several knet links (``Cluster(n, links=m)``) and ``Cluster.cut_link``.

What corosync made of the links is read with its own tools inside a node:
``corosync-cfgtool -s`` (each link's state towards each node), ``corosync-cfgtool -n`` (each
node's links with their addresses) and ``corosync-cmapctl``. One 3-node cluster of two links
serves the module: each start costs seconds on a small machine. They need root and never
skip: without root they fail, saying so.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from corosync.testing import Cluster, ClusterError, Node, config
from corosync.testing._resources import Resources
from corosync.testing.network import Network

# knet notices a link going down or coming back within a few token timeouts (1 s here);
# the deadline is generous for a loaded 2-core machine.
LINK_TIMEOUT = 30.0


@pytest.fixture(scope="module", autouse=True)
def _require_root() -> None:
    if os.geteuid() != 0:
        pytest.fail(
            "tests/test_testing_links.py starts real corosync daemons in network namespaces"
            " and must run as root",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def cluster2() -> Iterator[Cluster]:
    """Three nodes joined by two knet links, shared by the module."""
    with Cluster(3, links=2) as cluster:
        yield cluster


@pytest.fixture
def healthy(cluster2: Cluster) -> Cluster:
    cluster2.reset()
    return cluster2


# --- what corosync-cfgtool shows ---------------------------------------------------------


def link_status(node: Node) -> dict[int, dict[int, str]]:
    """``corosync-cfgtool -s`` on a node: link number -> node id -> status word
    (``localhost`` for the node itself, ``connected``, ``disconnected``)."""
    out = node.run(["corosync-cfgtool", "-s"], check=True).stdout
    links: dict[int, dict[int, str]] = {}
    current: dict[int, str] | None = None
    for line in out.splitlines():
        # "LINK ID 1 udp", then its "\t\tnodeid:          3:\tdisconnected" rows.
        if header := re.fullmatch(r"LINK ID (\d+) \w+", line):
            current = links.setdefault(int(header[1]), {})
        elif row := re.fullmatch(r"\s+nodeid:\s+(\d+):\s+(\w+)", line):
            assert current is not None, out
            current[int(row[1])] = row[2]
    assert links, out
    return links


@dataclass(frozen=True)
class KnetLink:
    """One ``LINK:`` line of ``corosync-cfgtool -n``."""

    local: str
    remote: str
    connected: bool


def node_links(node: Node) -> dict[int, dict[int, KnetLink]]:
    """``corosync-cfgtool -n`` on a node: other node id -> link number -> that link."""
    out = node.run(["corosync-cfgtool", "-n"], check=True).stdout
    nodes: dict[int, dict[int, KnetLink]] = {}
    current: dict[int, KnetLink] | None = None
    for line in out.splitlines():
        # "nodeid: 3 reachable", then "   LINK: 1 udp (10.214.1.1->10.214.1.3) enabled
        # connected mtu: 1446"; a disconnected link lacks the word "connected".
        if header := re.fullmatch(r"nodeid: (\d+) \w+", line):
            current = nodes.setdefault(int(header[1]), {})
        elif row := re.fullmatch(r"\s+LINK: (\d+) \w+ \((\S+)->(\S+)\) (.*)", line):
            assert current is not None, out
            current[int(row[1])] = KnetLink(row[2], row[3], "connected" in row[4].split())
    return nodes


def connected(node: Node, link: int, peer: int) -> bool:
    return link_status(node)[link][peer] == "connected"


def wait_link(cluster: Cluster, nodeid: int, link: int, peer: int, state: bool) -> None:
    """Wait until node ``nodeid`` sees its link ``link`` to ``peer`` (dis)connected."""
    node = cluster.node(nodeid)
    cluster.wait_for(
        lambda: connected(node, link, peer) == state,
        LINK_TIMEOUT,
        f"node {nodeid} to see link {link} to node {peer}"
        f" {'connected' if state else 'disconnected'}",
    )


def assert_all_connected(cluster: Cluster) -> None:
    """Every node shows every link to every other node connected, itself as localhost."""
    everyone = {n.nodeid for n in cluster.nodes}
    for node in cluster.nodes:
        expected = {i: "connected" for i in everyone - {node.nodeid}}
        expected[node.nodeid] = "localhost"
        assert link_status(node) == dict.fromkeys(range(cluster.links), expected)


def assert_members(cluster: Cluster, nodeids: set[int], *among: int) -> None:
    for nodeid in among:
        cluster.wait_members(nodeid, nodeids, timeout=LINK_TIMEOUT)
        status = cluster.node(nodeid).quorum_status()
        assert status is not None and status.members == nodeids


# --- without daemons ---------------------------------------------------------------------


@pytest.mark.parametrize("links", [0, -1, 9])
def test_a_number_of_links_knet_cannot_have_is_refused(links: int) -> None:
    with pytest.raises(ValueError, match="links must be between 1 and 8"):
        Cluster(3, links=links)


def test_links_must_be_an_int() -> None:
    for links in (True, 2.0, "2"):
        with pytest.raises(TypeError, match="links must be an int"):
            Cluster(3, links=links)  # type: ignore[arg-type]


def test_config_has_one_ring_address_per_link_and_no_interface_section() -> None:
    entries = [
        config.NodeEntry(i, f"10.213.7.{i}", f"node{i}", (f"10.214.7.{i}", f"10.215.7.{i}"))
        for i in (1, 2)
    ]
    text = config.render(cluster_name="c1", nodes=entries, log_path="l", state_dir="s")
    node2 = text.split("nodeid: 2\n", 1)[1].split("}", 1)[0]
    assert re.findall(r"ring\d_addr: \S+", node2) == [
        "ring0_addr: 10.213.7.2",
        "ring1_addr: 10.214.7.2",
        "ring2_addr: 10.215.7.2",
    ]
    assert "interface" not in text and "linknumber" not in text
    # One link: as before links existed.
    single = config.NodeEntry(1, "10.213.7.1", "node1")
    assert single.addresses == ("10.213.7.1",)
    one = config.render(cluster_name="c1", nodes=[single], log_path="l", state_dir="s")
    assert re.findall(r"ring\d_addr: \S+", one) == ["ring0_addr: 10.213.7.1"]


def test_each_link_has_a_subnet_bridge_and_veth_pair_of_its_own() -> None:
    network = Network(7, "switch", Resources(), links=3)
    assert [network.address(2, link) for link in range(3)] == [
        "10.213.7.2",
        "10.214.7.2",
        "10.215.7.2",
    ]
    # Link 0 keeps the names of a one-link cluster.
    assert network.link_veth(2, 0) == network.veth(2) == ("cst7n2", "cst7s2")
    assert network.link_veth(2, 2) == ("cst7n2l2", "cst7s2l2")
    assert [Network.bridge(link) for link in range(3)] == ["br0", "br0l1", "br0l2"]
    assert Network.bridge(1, group=1) == "br1l1"
    # The longest names (index 250, node 200, link 7) fit in IFNAMSIZ - 1 = 15 characters.
    longest = Network(250, "switch", Resources(), links=8).link_veth(200, 7)
    assert max(len(name) for name in longest) <= 15
    one_node = Network(7, None, Resources(), links=2)
    assert [one_node.address(1, link) for link in range(2)] == ["127.0.0.1", "127.0.0.2"]


# --- one node ----------------------------------------------------------------------------


def test_one_node_gets_one_loopback_address_per_link() -> None:
    with Cluster(1, links=2) as cluster:
        node = cluster.node(1)
        assert node.addresses == ["127.0.0.1", "127.0.0.2"]
        assert node.members() == frozenset({1})
        cmap = node.run(["corosync-cmapctl", "totem.interface."], check=True).stdout
        assert "totem.interface.0.bindnetaddr (str) = 127.0.0.1" in cmap
        assert "totem.interface.1.bindnetaddr (str) = 127.0.0.2" in cmap
        addrs = node.run(["ip", "-o", "-4", "addr", "show", "dev", "lo"], check=True).stdout
        assert "127.0.0.2/8" in addrs
        with pytest.raises(ClusterError, match="at least 2 nodes"):
            cluster.cut_link(1, 1)


# --- three nodes, two links --------------------------------------------------------------


def test_every_node_has_an_address_per_link_each_on_its_own_interface(cluster2: Cluster) -> None:
    assert cluster2.links == 2
    subnet = cluster2.index
    for node in cluster2.nodes:
        i = node.nodeid
        assert node.addresses == [f"10.213.{subnet}.{i}", f"10.214.{subnet}.{i}"]
        assert node.address == node.addresses[0]
        out = node.run(["ip", "-o", "-4", "addr"], check=True).stdout
        interfaces = dict(re.findall(r"^\d+: (\S+)\s+inet (\S+)/24", out, re.M))
        assert interfaces == {
            f"cst{subnet}n{i}": node.addresses[0],
            f"cst{subnet}n{i}l1": node.addresses[1],
        }
        nodelist = node.run(["corosync-cmapctl", "nodelist.node."], check=True).stdout
        for other in cluster2.nodes:
            for link, address in enumerate(other.addresses):
                pos = other.nodeid - 1
                line = f"nodelist.node.{pos}.ring{link}_addr (str) = {address}"
                assert line in nodelist


def test_every_node_sees_both_links_to_every_other_node_connected(healthy: Cluster) -> None:
    assert_all_connected(healthy)
    for node in healthy.nodes:
        links = node_links(node)
        assert set(links) == {1, 2, 3} - {node.nodeid}
        for peer, by_link in links.items():
            other = healthy.node(peer)
            assert by_link == {
                link: KnetLink(node.addresses[link], other.addresses[link], True) for link in (0, 1)
            }


def test_cut_link_breaks_that_link_only_and_the_node_stays_a_member(healthy: Cluster) -> None:
    before = healthy.node(1).quorum_status()
    assert before is not None
    healthy.cut_link(3, 1)
    assert "cut links: node 3 link 1" in healthy.describe()
    for i in (1, 2):
        wait_link(healthy, i, 1, 3, False)
    wait_link(healthy, 3, 1, 1, False)
    wait_link(healthy, 3, 1, 2, False)
    for i in (1, 2):
        status = link_status(healthy.node(i))
        other = 3 - i
        assert status[0] == {i: "localhost", other: "connected", 3: "connected"}
        assert status[1] == {i: "localhost", other: "connected", 3: "disconnected"}
        assert node_links(healthy.node(i))[3][1].connected is False
    assert link_status(healthy.node(3))[0] == {1: "connected", 2: "connected", 3: "localhost"}
    assert_members(healthy, {1, 2, 3}, 1, 2, 3)
    # Link 0 carried corosync's traffic all along: no membership change at all.
    after = healthy.node(1).quorum_status()
    assert after is not None and after.ring_id == before.ring_id

    healthy.heal()
    assert "cut links" not in healthy.describe()
    for i in (1, 2):
        wait_link(healthy, i, 1, 3, True)
        wait_link(healthy, 3, 1, i, True)
    assert_all_connected(healthy)
    assert_members(healthy, {1, 2, 3}, 1, 2, 3)


def test_cutting_the_link_in_use_fails_over_to_the_other(healthy: Cluster) -> None:
    healthy.cut_link(3, 0)
    for i in (1, 2):
        wait_link(healthy, i, 0, 3, False)
        assert connected(healthy.node(i), 1, 3)
    assert_members(healthy, {1, 2, 3}, 1, 2, 3)
    for i in (1, 2, 3):
        healthy.wait_quorate(i)
    # reset() returns once knet shows every link connected again: no polling needed.
    healthy.reset()
    assert_all_connected(healthy)


def test_cuts_add_up_and_cutting_every_link_of_a_node_isolates_it(healthy: Cluster) -> None:
    healthy.cut_link(3, 0)
    healthy.cut_link(3, 1)
    assert "cut links: node 3 link 0, node 3 link 1" in healthy.describe()
    assert_members(healthy, {1, 2}, 1, 2)
    assert_members(healthy, {3}, 3)
    healthy.wait_quorate(3, False)


def test_isolate_cuts_every_link_of_the_node(healthy: Cluster) -> None:
    healthy.isolate(3)
    assert_members(healthy, {1, 2}, 1, 2)
    assert_members(healthy, {3}, 3)
    for i in (1, 2):
        for link in (0, 1):
            wait_link(healthy, i, link, 3, False)
        assert connected(healthy.node(i), 1, 3 - i)
    healthy.reset()
    assert_all_connected(healthy)


def test_partition_cuts_every_link_between_the_groups(healthy: Cluster) -> None:
    healthy.partition([1], [2, 3])
    assert_members(healthy, {1}, 1)
    assert_members(healthy, {2, 3}, 2, 3)
    for link in (0, 1):
        wait_link(healthy, 2, link, 1, False)
        assert connected(healthy.node(2), link, 3)
    healthy.reset()
    assert_all_connected(healthy)


def test_a_cut_link_stays_cut_through_a_partition(healthy: Cluster) -> None:
    healthy.cut_link(3, 1)
    healthy.partition([1], [2, 3])
    assert_members(healthy, {2, 3}, 2, 3)
    wait_link(healthy, 2, 1, 3, False)
    assert connected(healthy.node(2), 0, 3)
    assert "cut links: node 3 link 1" in healthy.describe()


def test_restart_waits_for_the_links_that_are_not_cut(healthy: Cluster) -> None:
    healthy.cut_link(3, 1)
    healthy.restart(2)
    # Returned with knet up on every link node 2 shares with the others: no polling needed.
    status = link_status(healthy.node(2))
    assert status[0] == {1: "connected", 2: "localhost", 3: "connected"}
    assert status[1][1] == "connected"
    assert status[1][3] == "disconnected"


def test_cut_link_refuses_links_and_nodes_the_cluster_lacks(healthy: Cluster) -> None:
    for link in (2, -1, 8):
        with pytest.raises(ValueError, match=f"no link {link} in a cluster of 2 link"):
            healthy.cut_link(3, link)
    with pytest.raises(TypeError, match="link must be an int"):
        healthy.cut_link(3, True)
    for nodeid in (0, 4):
        with pytest.raises(IndexError):
            healthy.cut_link(nodeid, 0)
    assert "cut links" not in healthy.describe()
