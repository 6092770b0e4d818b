"""Changing a running cluster's configuration: corosync.conf edited on every node and reloaded
with ``CFG.reload_config()``, by hand and through the harness (``Cluster.reconfigure``), and a
fourth node added to a running three-node cluster (``Cluster.add_node``).

What corosync 3.1.7 does with a reload, checked here: the totem timeouts are live at once on
every node (``runtime.config.totem.*`` shows what totem uses, e.g. the consensus timeout that
follows the token's), a key it cannot change at run time (``totem.cluster_name``) keeps its
value, a file it cannot parse changes nothing, and a node added to the nodelist is let in:
knet links to it come up, votequorum counts its vote (expected votes 4, quorum 3).

The files are edited through the ``corosync.conf`` model (:mod:`corosync.config`), as the
harness writes them, and the file ``Cluster.add_node`` wrote (with ``Config.add_node``) parses
back with the new node in it.

The module's tests share one cluster and run in order: the last one adds the fourth node.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator

import pytest
from cfg_helpers import DEADLINE, log_marks, wait_logged
from link_views import knet_view

import corosync.config
from corosync import CFG, CMAP
from corosync.testing import Cluster, ClusterError, Node
from corosync.testing._resources import shm_entries

NODES = (1, 2, 3)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """Three nodes, shared by the module (its last test makes them four)."""
    with Cluster(3) as cluster:
        yield cluster


def cmap_value(node: Node, key: str) -> int | float | str | bytes:
    with node.connect(CMAP) as cmap:
        return cmap[key]


def wait_cmap(cluster: Cluster, values: dict[str, int | str], nodeids: tuple[int, ...]) -> None:
    """Wait until CMAP on each of ``nodeids`` holds ``values`` (each node reloads when the
    reload message reaches it: the calling node's answer does not wait for the others)."""

    def shown() -> bool:
        return all(
            cmap_value(cluster.node(i), key) == value
            for i in nodeids
            for key, value in values.items()
        )

    cluster.wait_for(shown, DEADLINE, f"{values} in CMAP on nodes {list(nodeids)}")


def read(node: Node) -> str:
    with open(node.conf_path, encoding="utf-8") as f:
        return f.read()


def write(node: Node, text: str) -> None:
    with open(node.conf_path, "w", encoding="utf-8") as f:
        f.write(text)


def edited(text: str, key: str, value: str | int) -> str:
    """``text`` with CMAP key ``key`` set to ``value``, through the model."""
    config = corosync.config.parse(text)
    config.set(key, value)
    return config.text()


def set_token(text: str, token_ms: int) -> str:
    return edited(text, "totem.token", token_ms)


def add_token_warning(text: str) -> str:
    """An edit: ``totem.token_warning: 60`` (corosync's default is 75 percent)."""
    assert corosync.config.parse(text).get("totem.token_warning") is None
    return edited(text, "totem.token_warning", 60)


def without_generation(text: str) -> str:
    """A corosync.conf without the section that numbers the harness's rewrites."""
    return re.sub(r"\ncorosync_testing \{\n    config_generation: \d+\n\}\n", "", text)


def test_reload_config_makes_an_edited_token_live_on_every_node(cluster: Cluster) -> None:
    wait_cmap(cluster, {"runtime.config.totem.token": 1000}, NODES)
    for node in cluster.nodes:
        write(node, set_token(read(node), 1500))
    with cluster.node(2).connect(CFG) as cfg:
        cfg.reload_config()
    # consensus is 1.2 times the token unless configured: totem recomputed it.
    wait_cmap(
        cluster,
        {
            "totem.token": 1500,
            "runtime.config.totem.token": 1500,
            "runtime.config.totem.consensus": 1800,
        },
        NODES,
    )

    # reconfigure() writes the harness's own configuration (token 1000) and waits for it.
    cluster.reconfigure()
    for node in cluster.nodes:
        assert corosync.config.parse(read(node)).totem.token == 1000
        assert cmap_value(node, "runtime.config.totem.token") == 1000
        assert cmap_value(node, "runtime.config.totem.consensus") == 1200


def test_a_key_corosync_cannot_change_at_run_time_keeps_its_value(cluster: Cluster) -> None:
    for node in cluster.nodes:
        text = edited(read(node), "totem.cluster_name", "renamed")
        write(node, set_token(text, 1300))
    with cluster.node(1).connect(CFG) as cfg:
        cfg.reload_config()
    wait_cmap(cluster, {"runtime.config.totem.token": 1300}, NODES)  # the reload went through
    # corosync logs "Modified entry 'totem.cluster_name' in corosync.conf cannot be changed
    # at run-time", but not reliably: libqb's log thread checks the log filters when it
    # writes a line, and the reload rebuilds them, so on a busy machine a line logged just
    # before that is lost.
    for node in cluster.nodes:
        assert cmap_value(node, "totem.cluster_name") == cluster.name
        assert node.members() == frozenset(NODES)
    cluster.reconfigure()
    for node in cluster.nodes:
        assert cmap_value(node, "runtime.config.totem.token") == 1000


def test_reconfigure_applies_token_ms_and_an_edit_on_every_node_and_keeps_the_edit(
    cluster: Cluster,
) -> None:
    cluster.reconfigure(add_token_warning, token_ms=1300)
    assert cluster.token_ms == 1300
    # reconfigure() returned once every node had read its new file: no polling needed.
    for node in cluster.nodes:
        totem = corosync.config.parse(read(node)).totem
        assert (totem.token, totem.options["token_warning"]) == (1300, "60")
        assert cmap_value(node, "runtime.config.totem.token") == 1300
        assert cmap_value(node, "runtime.config.totem.token_warning") == 60
        assert node.members() == frozenset(NODES)
    # A later rewrite applies the edit again (a reload would delete a totem key that the
    # new file lacks: token_warning would be back to its default of 75).
    cluster.reconfigure(token_ms=1100)
    for node in cluster.nodes:
        assert cmap_value(node, "runtime.config.totem.token") == 1100
        assert cmap_value(node, "runtime.config.totem.token_warning") == 60


def test_a_config_corosync_refuses_is_undone_and_not_kept(cluster: Cluster) -> None:
    before = {node.nodeid: read(node) for node in cluster.nodes}
    token = cluster.token_ms
    marks = log_marks(cluster.nodes)
    with pytest.raises(ClusterError, match="corosync refused to reload the config through node 1"):
        cluster.reconfigure(lambda text: text.replace("totem {", "totem {{", 1), token_ms=900)
    assert {node.nodeid: read(node) for node in cluster.nodes} == before
    assert cluster.token_ms == token
    for node in cluster.nodes:
        wait_logged(node, "Unable to reload config file: parser error", marks[node.nodeid])
        assert cmap_value(node, "runtime.config.totem.token") == token
    cluster.reconfigure()  # the broken edit is gone: this reloads fine
    for node in cluster.nodes:
        # The same file as before the refused one, but for the harness's generation marker.
        assert without_generation(read(node)) == without_generation(before[node.nodeid])


def test_bad_arguments_change_nothing(cluster: Cluster) -> None:
    before = {node.nodeid: read(node) for node in cluster.nodes}
    with pytest.raises(ValueError, match="token_ms must be positive"):
        cluster.reconfigure(token_ms=0)
    with pytest.raises(TypeError, match="token_ms must be an int"):
        cluster.reconfigure(token_ms=True)
    with pytest.raises(TypeError, match="edit must be a function"):
        cluster.reconfigure("token: 5")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="returned int, not str"):
        cluster.reconfigure(lambda text: 5)  # type: ignore[arg-type,return-value]
    with pytest.raises(IndexError):
        cluster.reconfigure(via=4)
    with pytest.raises(ValueError, match="votes of node 4"):
        cluster.add_node(votes=-1)
    cluster.isolate(3)
    try:
        with pytest.raises(ClusterError, match="add_node\\(\\) needs a healed network: isolated"):
            cluster.add_node()
    finally:
        cluster.reset()
    assert {node.nodeid: read(node) for node in cluster.nodes} == before
    assert len(cluster.nodes) == 3


def test_add_node_lets_a_fourth_node_join_the_running_cluster(cluster: Cluster) -> None:
    four = cluster.add_node()
    assert four.nodeid == 4 and cluster.node(4) is four and len(cluster.nodes) == 4
    assert four.addresses == [f"10.213.{cluster.index}.4"]
    assert cluster.votes == {1: 1, 2: 1, 3: 1, 4: 1}

    # add_node() returned with all four nodes members: no polling needed.
    for node in cluster.nodes:
        assert node.members() == frozenset({1, 2, 3, 4})
        status = node.quorum_status()
        assert status is not None
        assert (status.quorate, status.expected_votes, status.quorum) == (True, 4, 3)
    status_of_four = knet_view(cluster, 1, [4])[4]
    assert status_of_four.reachable
    [link] = status_of_four.links
    assert (link.link, link.connected, link.src, link.dst) == (
        0,
        True,
        cluster.node(1).address,
        four.address,
    )
    nodelist = cluster.node(1).run(["corosync-cmapctl", "nodelist.node."], check=True).stdout
    assert "nodelist.node.3.nodeid (u32) = 4\n" in nodelist
    assert f"nodelist.node.3.ring0_addr (str) = {four.address}\n" in nodelist
    assert "nodelist.node.3.name (str) = node4\n" in nodelist
    # The new node runs with the others' configuration (and the edits made so far).
    config = read(cluster.node(1)).replace(cluster.node(1).workdir, four.workdir)
    assert read(four) == config
    # Every node's file, written through the model's add_node, parses back with node 4, laid
    # out as the others, and corosync's rules find nothing wrong with it.
    for node in cluster.nodes:
        written = corosync.config.load(node.conf_path)
        assert [n.nodeid for n in written.nodelist] == [1, 2, 3, 4]
        assert written.node(4) == written.nodelist[3]
        assert (written.node(4).name, written.node(4).addresses) == ("node4", {0: four.address})
        assert [p for p in written.validate() if p.severity == "error"] == []
        assert written.text() == read(node)
        [listed] = written.root.sections("nodelist")
        three, four_section = listed.sections("node")[2:]
        like_three = (
            three.render()
            .replace(cluster.node(3).address, four.address)
            .replace("nodeid: 3", "nodeid: 4")
            .replace("name: node3", "name: node4")
        )
        assert four_section.render() == like_three, "node 4 is laid out as node 3 is"
    for node in cluster.nodes:
        assert cmap_value(node, "runtime.config.totem.token") == cluster.token_ms

    # Quorum is 3 of 4 now: losing one node keeps it, losing two does not.
    cluster.kill(4)
    cluster.wait_members(1, NODES)
    status = cluster.node(1).quorum_status()
    assert status is not None and status.quorate and status.quorum == 3
    cluster.kill(3)
    cluster.wait_quorate(1, False)
    cluster.restart(3)
    cluster.wait_quorate(1)


def test_a_node_added_but_not_started_is_cleaned_up_with_the_cluster() -> None:
    with pytest.raises(RuntimeError, match="the test failed"), Cluster(2) as cluster:
        three = cluster.add_node(start=False)
        assert not three.alive
        status = cluster.node(1).quorum_status()
        assert status is not None
        assert status.members == {1, 2} and status.expected_votes == 3 and status.quorate
        cluster.restart(3)  # starts it, and waits until all three are members
        assert three.members() == frozenset({1, 2, 3})
        daemon = three.pid
        raise RuntimeError("the test failed")
    assert daemon is not None and not three.alive
    with pytest.raises(ProcessLookupError):
        os.kill(daemon, 0)
    assert shm_entries(daemon) == []
    # Every namespace of the cluster is gone, the new node's and the switch's among them.
    prefix = three.netns.removesuffix("-n3") + "-"
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert prefix not in namespaces
    assert not os.path.exists(three.workdir)


def test_add_node_needs_a_network_to_join(corosync_node: Node) -> None:
    with pytest.raises(ClusterError, match="add_node\\(\\) needs a cluster of at least 2 nodes"):
        corosync_node.cluster.add_node()
    with (
        pytest.raises(ClusterError, match="needs a started cluster"),
        Cluster(3, start=False) as idle,
    ):
        idle.add_node()
