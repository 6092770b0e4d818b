"""``python -m corosync exporter`` on every node of a three-node cluster with two knet links,
started once and scraped over HTTP while the cluster changes under it: healthy, against
corosync-quorumtool -s -p and corosync-cfgtool -s / -n on each node; its knet counters
against the stats map (corosync-cmapctl); CPG groups against corosync-cpgtool; through a
votes change, a cut link and a killed node (whose own exporter shows corosync down, then
back), every value changing without restarting an exporter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cli_helpers import Streaming, tool
from cmap_helpers import cmapctl, parse_cmapctl
from exporter_helpers import Exporter, Scrape, agrees, cpgtool_members
from link_views import wait_links

from corosync import Votequorum
from corosync.exporter.knet import KNET_FIELDS
from corosync.testing import Cluster

NODES = (1, 2, 3)
NODE = frozenset({"node_id", "node"})
LINK = frozenset({"node_id", "node", "link"})

#: Every family a healthy cluster's exporter serves with samples: its type and label names.
FAMILIES = {
    "ha_cluster_corosync_up": ("gauge", frozenset()),
    "ha_cluster_corosync_quorate": ("gauge", frozenset()),
    "ha_cluster_corosync_quorum_votes": ("gauge", frozenset({"type"})),
    "ha_cluster_corosync_member_votes": ("gauge", NODE | {"local"}),
    "ha_cluster_corosync_rings": ("gauge", frozenset({"ring_id", "node_id", "number", "address"})),
    "ha_cluster_corosync_ring_errors": ("gauge", frozenset()),
    "ha_cluster_corosync_node_reachable": ("gauge", NODE),
    "ha_cluster_corosync_link_enabled": ("gauge", LINK),
    "ha_cluster_corosync_link_connected": ("gauge", LINK),
    "ha_cluster_corosync_link_mtu_bytes": ("gauge", LINK),
    "ha_cluster_corosync_link_latency_seconds": ("gauge", LINK),
    # (counters by family name: their samples end in _total)
    "ha_cluster_corosync_link_rx_packets": ("counter", LINK),
    "ha_cluster_corosync_link_tx_packets": ("counter", LINK),
    "ha_cluster_corosync_link_rx_bytes": ("counter", LINK),
    "ha_cluster_corosync_link_tx_bytes": ("counter", LINK),
    "ha_cluster_corosync_link_tx_errors": ("counter", LINK),
    "ha_cluster_corosync_link_down": ("counter", LINK),
    "ha_cluster_corosync_link_up": ("counter", LINK),
    "ha_cluster_corosync_cpg_group_members": ("gauge", NODE | {"group"}),
    "ha_cluster_scrape_duration_seconds": ("gauge", frozenset({"collector"})),
    "ha_cluster_scrape_success": ("gauge", frozenset({"collector"})),
}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """Three nodes joined by two knet links, shared by the module."""
    with Cluster(3, links=2) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def exporters(cluster: Cluster) -> Iterator[dict[int, Exporter]]:
    """An exporter on each node, started once for the module."""
    running = {nodeid: Exporter(cluster.node(nodeid)) for nodeid in NODES}
    yield running
    for exporter in running.values():
        exporter.close()


@pytest.fixture
def healthy(cluster: Cluster, exporters: dict[int, Exporter]) -> dict[int, Exporter]:
    """The exporters, once every node is a quorate member with every link up again."""
    cluster.reset()
    for exporter in exporters.values():
        exporter.wait_scrape(lambda s: s.up, "corosync up")
    return exporters


def link_table(scrape: Scrape, name: str) -> dict[tuple[str, str], float]:
    """A link metric by (node id, link)."""
    return {(n, link): v for (n, link), v in scrape.table(name, "node_id", "link").items()}


@pytest.mark.parametrize("nodeid", NODES)
def test_each_node_serves_what_quorumtool_and_cfgtool_show(
    healthy: dict[int, Exporter], nodeid: int
) -> None:
    _, scrape = agrees(healthy[nodeid])
    assert scrape.value("ha_cluster_corosync_quorate") == 1
    assert scrape.value("ha_cluster_corosync_ring_errors") == 0
    assert [v for _, v in scrape.samples["ha_cluster_corosync_rings"]] == [1, 1]
    peers = [str(n) for n in NODES if n != nodeid]
    links = link_table(scrape, "ha_cluster_corosync_link_connected")
    assert links == {(n, link): 1 for n in peers for link in ("0", "1")}
    # The node label of every link metric is the nodelist's name.
    for labels, _ in scrape.samples["ha_cluster_corosync_link_mtu_bytes"]:
        assert labels["node"] == f"node{labels['node_id']}"


def test_knet_counters_are_the_stats_maps(healthy: dict[int, Exporter]) -> None:
    exporter = healthy[1]
    node = exporter.node

    def stats_map() -> dict[str, int]:
        return {
            p.key: int(p.value or 0)
            for p in parse_cmapctl(cmapctl(node, "-m", "stats", "stats.knet."))
        }

    before = stats_map()
    scrape = exporter.scrape()
    after = stats_map()
    for field in KNET_FIELDS:
        name = field.metric + ("_total" if field.counter else "")
        shown = scrape.table(name, "node_id", "link")
        assert set(shown) == {(str(n), str(link)) for n in (2, 3) for link in (0, 1)}, name
        for (n, link), value in shown.items():
            key = f"stats.knet.node{n}.link{link}.{field.field}"
            low, high = sorted((before[key], after[key]))  # knet counts on meanwhile
            assert low * field.scale <= value <= high * field.scale, (name, n, link)
    latency = scrape.table("ha_cluster_corosync_link_latency_seconds", "node_id", "link")
    assert all(0 < seconds < 1 for seconds in latency.values())


def test_cpg_groups_are_what_cpgtool_lists(healthy: dict[int, Exporter], group: str) -> None:
    listeners = [Streaming(healthy[n].node, "cpg", "listen", group) for n in (2, 3, 3)]
    try:
        for listener in listeners:
            listener.wait_for(rf"^\[{group}\] members: ")
        exporter = healthy[1]
        scrape = exporter.wait_scrape(
            lambda s: (
                s.table("ha_cluster_corosync_cpg_group_members", "group", "node_id")
                == {(group, "2"): 1, (group, "3"): 2}
            ),
            f"node 2 and twice node 3 in {group}",
        )
        assert dict(cpgtool_members(exporter.node)) == {
            (group, "2"): 1,
            (group, "3"): 2,
        }
        assert {
            family: scrape.families[family] for family in FAMILIES if family in scrape.families
        } == FAMILIES
        for labels, _ in scrape.samples["ha_cluster_corosync_cpg_group_members"]:
            assert labels["node"] == f"node{labels['node_id']}"
    finally:
        for listener in listeners:
            listener.close()
    gone = exporter.wait_scrape(
        lambda s: "ha_cluster_corosync_cpg_group_members" not in s.samples, f"{group} gone"
    )
    assert gone.up and not cpgtool_members(exporter.node)


def test_a_votes_change_shows_on_every_node(healthy: dict[int, Exporter]) -> None:
    tool(healthy[2].node, "corosync-quorumtool", "-v", "2", "-n", "3")
    try:
        for exporter in healthy.values():
            scrape = exporter.wait_scrape(
                lambda s: s.value("ha_cluster_corosync_quorum_votes", type="total_votes") == 4,
                "4 votes",
            )
            votes = scrape.table("ha_cluster_corosync_member_votes", "node_id")
            assert votes == {("1",): 1, ("2",): 1, ("3",): 2}
            agrees(exporter)
    finally:
        with healthy[1].node.connect(Votequorum) as votequorum:
            votequorum.set_votes(1, nodeid=3)
            votequorum.set_expected(3)
    for exporter in healthy.values():
        scrape = exporter.wait_scrape(
            lambda s: s.value("ha_cluster_corosync_quorum_votes", type="expected_votes") == 3,
            "3 expected votes",
        )
        assert scrape.table("ha_cluster_corosync_quorum_votes", "type") == {
            ("expected_votes",): 3,
            ("highest_expected",): 3,
            ("total_votes",): 3,
            ("quorum",): 2,
        }


def test_a_cut_link_is_a_faulty_ring_where_it_was_redundancy(
    cluster: Cluster, healthy: dict[int, Exporter]
) -> None:
    cluster.cut_link(3, 1)
    wait_links(cluster, 1, {(3, 0): True, (3, 1): False})
    wait_links(cluster, 2, {(3, 0): True, (3, 1): False})
    wait_links(cluster, 3, {(1, 0): True, (1, 1): False, (2, 0): True, (2, 1): False})
    down = {1: {("3", "1")}, 2: {("3", "1")}, 3: {("1", "1"), ("2", "1")}}
    for nodeid, exporter in healthy.items():
        _, scrape = agrees(exporter)
        assert scrape.value("ha_cluster_corosync_quorate") == 1  # node 3 stays over link 0
        links = link_table(scrape, "ha_cluster_corosync_link_connected")
        assert {key for key, up in links.items() if not up} == down[nodeid]
        rings = scrape.table("ha_cluster_corosync_rings", "number")
        assert rings == {("0",): 1, ("1",): 0}
        assert scrape.value("ha_cluster_corosync_ring_errors") == 1
        reachable = scrape.table("ha_cluster_corosync_node_reachable", "node_id")
        assert set(reachable.values()) == {1}


def test_a_killed_node_leaves_and_its_exporter_waits_for_it(
    cluster: Cluster, healthy: dict[int, Exporter]
) -> None:
    pids = {nodeid: exporter.proc.pid for nodeid, exporter in healthy.items()}
    cluster.kill(3)
    cluster.wait_members(1, [1, 2])
    wait_links(cluster, 1, {(3, 0): False, (3, 1): False})
    for nodeid in (1, 2):
        _, scrape = agrees(healthy[nodeid])
        assert scrape.table("ha_cluster_corosync_member_votes", "node_id") == {
            ("1",): 1,
            ("2",): 1,
        }
        assert scrape.value("ha_cluster_corosync_quorum_votes", type="total_votes") == 2
        assert scrape.value("ha_cluster_corosync_quorate") == 1
        assert scrape.table("ha_cluster_corosync_node_reachable", "node_id")[("3",)] == 0
        # A dead node is not a faulty ring: no link to a reachable node is down.
        assert scrape.value("ha_cluster_corosync_ring_errors") == 0
    lost = healthy[3].wait_scrape(lambda s: not s.up, "corosync down on node 3")
    assert [name for name in lost.samples if name.startswith("ha_cluster_corosync_")] == [
        "ha_cluster_corosync_up"
    ]
    cluster.restart(3)
    back = healthy[3].wait_scrape(
        lambda s: s.up and len(s.samples.get("ha_cluster_corosync_member_votes", [])) == 3,
        "node 3 back with 3 members",
    )
    assert back.value("ha_cluster_corosync_quorate") == 1
    for exporter in healthy.values():
        agrees(exporter)
    assert {nodeid: exporter.proc.pid for nodeid, exporter in healthy.items()} == pids
    assert all(exporter.proc.poll() is None for exporter in healthy.values())
