"""``python -m corosync status``, ``quorum status|watch`` and ``links`` on a three-node
cluster with two knet links, field by field against what corosync-quorumtool -s / -l and
corosync-cfgtool -s / -n print on the same node at the same moment: healthy, with node 3
isolated, through a votes change, with link 1 of node 3 cut, and with a quorum device
registered. Every --json document is checked against the schema shipped in the package.

The text output is compared line for line with the tools' (quorumtool's Date line aside):
it is meant to read exactly like them. What the tools print changes under our feet (knet
raises MTUs in a link's first seconds, a device's poll ages), so each comparison takes the
tools' output before and after the command's and retries until both agree (``steady``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from cfg_helpers import ShownLink, ShownLinkStatus, ShownNode, parse_link_status, parse_nodes
from cli_helpers import Ran, Streaming, cli, member_names, steady, tool, without_date
from link_views import wait_links

from corosync import InfoFlag, RingId, TrackFlags, Votequorum
from corosync.testing import Cluster, QdeviceStatus, QuorumStatus

NODES = (1, 2, 3)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """Three nodes joined by two knet links, shared by the module."""
    with Cluster(3, links=2) as cluster:
        yield cluster


@pytest.fixture
def healthy(cluster: Cluster) -> Cluster:
    """The module's cluster with every node a quorate member and every link up."""
    cluster.reset()
    return cluster


class Tools:
    """What corosync-quorumtool -s and corosync-cfgtool -s and -n print on a node, parsed."""

    def __init__(self, cluster: Cluster, nodeid: int) -> None:
        node = cluster.node(nodeid)
        proc = node.run(["corosync-quorumtool", "-s"])
        assert proc.returncode in (0, 2), proc.stderr
        self.status = proc.returncode
        self.quorum_text = proc.stdout
        self.quorum = QuorumStatus.parse(proc.stdout)
        self.names = member_names(proc.stdout)
        self.cfgtool_s = tool(node, "corosync-cfgtool", "-s")
        self.links: dict[int, ShownLinkStatus] = parse_link_status(self.cfgtool_s)
        self.nodes: dict[int, ShownNode] = parse_nodes(tool(node, "corosync-cfgtool", "-n"))

    def field(self, name: str) -> str:
        """A ``Name: value`` line of corosync-quorumtool -s, as printed (trailing blanks
        dropped)."""
        match = re.search(rf"^{re.escape(name)}: *(.*?) *$", self.quorum_text, re.M)
        assert match, (name, self.quorum_text)
        return match[1]

    def __eq__(self, other: object) -> bool:
        # Two looks agree when everything but the Date line is the same.
        return (
            isinstance(other, Tools)
            and without_date(self.quorum_text) == without_date(other.quorum_text)
            and (self.cfgtool_s, self.nodes) == (other.cfgtool_s, other.nodes)
        )

    __hash__ = None  # type: ignore[assignment]


def quorum_part(text: str) -> list[str]:
    """The corosync-quorumtool part of ``status``'s text: up to the blank line before the
    corosync-cfgtool part."""
    lines = text.splitlines()
    return lines[: _links_start(lines) - 1]


def _links_start(lines: list[str]) -> int:
    return next(i for i, line in enumerate(lines) if line.startswith("Local node ID"))


def assert_quorum_agrees(doc: dict[str, Any], tools: Tools) -> None:
    """A quorum_status or status document says what corosync-quorumtool -s says."""
    q = tools.quorum
    assert doc["node_id"] == q.nodeid
    assert (doc["ring_id"]["nodeid"], doc["ring_id"]["seq"]) == q.ring_id
    assert doc["ring_id"]["text"] == tools.field("Ring ID")
    assert doc["ring_id"]["legacy_text"] == "{}/{}".format(*q.ring_id)
    assert doc["quorate"] is q.quorate
    assert doc["quorum_provider"] == tools.field("Quorum provider")
    assert doc["votes"] == {
        "expected": q.expected_votes,
        "highest_expected": q.highest_expected,
        "total": q.total_votes,
        "quorum": q.quorum,
    }
    assert doc["flags"] == tools.field("Flags").split()  # the same words, in the same order
    assert {m["node_id"]: m["votes"] for m in doc["members"]} == q.votes
    assert {m["node_id"]: (m["name"], m["local"]) for m in doc["members"]} == tools.names
    assert len(doc["members"]) == int(tools.field("Nodes"))
    device = doc["qdevice"]
    assert (None if device is None else QdeviceStatus(**device)) == q.qdevice


def assert_links_agree(links: list[dict[str, Any]], tools: Tools, local: int) -> None:
    """The link objects of a status or links document say what corosync-cfgtool -s (each
    link's state per node) and -n (addresses, flags and MTU of each reachable node's
    enabled links) say."""
    shown = {(n, link): s for link, ls in tools.links.items() for n, s in ls.states.items()}
    assert {(item["node_id"], item["link"]) for item in links} == {
        key for key in shown if key[0] != local
    }
    for item in links:
        key = (item["node_id"], item["link"])
        assert shown[key] == ("connected" if item["connected"] else "disconnected"), item
        assert item["src"] == tools.links[item["link"]].addr
        assert item["transport"] == "udp"
        if item["node_id"] in tools.nodes:  # cfgtool -n shows the reachable nodes only
            flags = {f for f in ("enabled", "connected", "dynconnected") if item[f]}
            expected = ShownLink(
                item["link"], item["src"], item["dst"], frozenset(flags), item["mtu"]
            )
            assert tools.nodes[item["node_id"]].links[item["link"]] == expected


def status_agrees(cluster: Cluster, nodeid: int) -> tuple[Ran, dict[str, Any]]:
    """``status`` and ``status --json`` on a node, checked against the tools' output there:
    the text line for line, the JSON field by field, the exit status as quorumtool's."""
    node = cluster.node(nodeid)
    tools, (text, js) = steady(
        lambda: Tools(cluster, nodeid),
        lambda: (cli(node, "status"), cli(node, "status", "--json")),
        f"the status of node {nodeid}",
    )
    assert text.stderr == ""
    assert text.status == js.status == tools.status  # 0 quorate, 2 not
    lines = text.lines
    assert without_date("\n".join(quorum_part(text.stdout))) == without_date(tools.quorum_text)
    assert lines[_links_start(lines) :] == tools.cfgtool_s.splitlines()
    assert QuorumStatus.parse(text.stdout) == tools.quorum
    doc = js.json("status")
    assert_quorum_agrees(doc, tools)
    assert doc["transport"] == "knet"
    assert_links_agree(doc["links"], tools, nodeid)
    return text, doc


@pytest.mark.parametrize("nodeid", NODES)
def test_status_on_each_node_is_what_quorumtool_and_cfgtool_show(
    healthy: Cluster, nodeid: int
) -> None:
    text, doc = status_agrees(healthy, nodeid)
    assert text.status == 0 and doc["quorate"]
    assert [m["node_id"] for m in doc["members"]] == list(NODES)
    assert {(item["node_id"], item["link"]) for item in doc["links"]} == {
        (peer, link) for peer in NODES if peer != nodeid for link in (0, 1)
    }
    assert all(item["connected"] for item in doc["links"])


def test_quorum_status_is_quorumtool_s_and_its_members_quorumtool_l(healthy: Cluster) -> None:
    node = healthy.node(2)
    tools, (text, js) = steady(
        lambda: Tools(healthy, 2),
        lambda: (cli(node, "quorum", "status"), cli(node, "quorum", "status", "--json")),
        "the quorum of node 2",
    )
    assert text.status == js.status == 0
    assert without_date(text.stdout) == without_date(tools.quorum_text)
    doc = js.json("quorum_status")
    assert_quorum_agrees(doc, tools)
    listed = member_names(tool(node, "corosync-quorumtool", "-l"))
    assert {m["node_id"]: (m["name"], m["local"]) for m in doc["members"]} == listed
    assert doc["ring_id"]["text"] == "{:x}.{:x}".format(*tools.quorum.ring_id)


def test_links_is_what_cfgtool_s_and_n_show(healthy: Cluster) -> None:
    node = healthy.node(1)
    tools, (text, nodes, js) = steady(
        lambda: Tools(healthy, 1),
        lambda: (
            cli(node, "links"),
            cli(node, "links", "--nodes"),
            cli(node, "links", "--json"),
        ),
        "the links of node 1",
    )
    assert text.status == nodes.status == js.status == 0
    assert text.lines == tools.cfgtool_s.splitlines()
    assert parse_nodes(nodes.stdout) == tools.nodes
    doc = js.json("links")
    assert (doc["node_id"], doc["transport"]) == (1, "knet")
    assert_links_agree(doc["links"], tools, 1)
    assert [(n["node_id"], n["name"], n["local"]) for n in doc["nodes"]] == [
        (1, "node1", True),
        (2, "node2", False),
        (3, "node3", False),
    ]
    for shown in doc["nodes"]:
        assert shown["status_known"] and shown["reachable"]
        if not shown["local"]:
            assert tools.nodes[shown["node_id"]].flags == {"reachable"}


def test_an_isolated_node_is_not_quorate_and_status_exits_2(healthy: Cluster) -> None:
    healthy.isolate(3)
    healthy.wait_quorate(3, quorate=False)
    healthy.wait_members(1, [1, 2])
    wait_links(healthy, 1, {(3, 0): False, (3, 1): False})
    text, doc = status_agrees(healthy, 3)
    assert text.status == 2
    assert "Quorate:          No" in text.lines
    assert re.search(r"^Quorum:\s+2 Activity blocked$", text.stdout, re.M)
    assert (doc["quorate"], doc["flags"], doc["votes"]["total"]) == (False, [], 1)
    assert [m["node_id"] for m in doc["members"]] == [3]
    quorum = cli(healthy.node(3), "quorum", "status", "--json")
    assert quorum.status == 2 and quorum.json("quorum_status")["quorate"] is False
    text, doc = status_agrees(healthy, 1)
    assert text.status == 0 and doc["quorate"]
    assert [m["node_id"] for m in doc["members"]] == [1, 2]
    assert not any(item["connected"] for item in doc["links"] if item["node_id"] == 3)


def test_a_votes_change_shows_in_status_and_in_quorum_watch(healthy: Cluster) -> None:
    watch = Streaming(healthy.node(1), "quorum", "watch", "--json")
    try:
        first = watch.wait_document("quorum_status", lambda d: True, "a first status")
        assert first["votes"]["total"] == 3
        tool(healthy.node(2), "corosync-quorumtool", "-v", "2", "-n", "3")
        changed = watch.wait_document(
            "quorum_status", lambda d: d["votes"]["total"] == 4, "the status with 4 votes"
        )
        assert {m["node_id"]: m["votes"] for m in changed["members"]} == {1: 1, 2: 1, 3: 2}
        docs = {nodeid: status_agrees(healthy, nodeid)[1] for nodeid in (1, 3)}
        for doc in docs.values():
            assert doc["votes"] == {"expected": 4, "highest_expected": 4, "total": 4, "quorum": 3}
        # The watch's line is what status says on its node, but for the kind and the links.
        assert {k: v for k, v in docs[1].items() if k not in ("kind", "transport", "links")} == {
            k: v for k, v in changed.items() if k != "kind"
        }
    finally:
        with healthy.node(1).connect(Votequorum) as votequorum:
            votequorum.set_votes(1, nodeid=3)
            votequorum.set_expected(3)
    restored = watch.wait_document(
        "quorum_status", lambda d: d["votes"]["expected"] == 3, "the status with 3 expected"
    )
    assert restored["votes"] == {"expected": 3, "highest_expected": 3, "total": 3, "quorum": 2}
    assert watch.stop() == 0  # SIGTERM ends a stream normally
    assert len(watch.documents()) == len(watch.lines)  # nothing but JSON, nothing on stderr
    status_agrees(healthy, 1)


def test_quorum_watch_ends_after_count_statuses(healthy: Cluster) -> None:
    watch = Streaming(healthy.node(2), "quorum", "watch", "--count", "1")
    try:
        assert watch.finish() == 0
        tools = Tools(healthy, 2)
        shown = [line for line in watch.lines if not line.startswith("Date:")]
        assert shown == [*without_date(tools.quorum_text), ""]  # a blank line after each
    finally:
        watch.close()


def test_a_cut_link_shows_down_in_links_and_status(healthy: Cluster) -> None:
    healthy.cut_link(3, 1)
    wait_links(healthy, 1, {(3, 0): True, (3, 1): False})
    wait_links(healthy, 3, {(1, 0): True, (1, 1): False, (2, 0): True, (2, 1): False})
    for nodeid, down in ((1, {(3, 1)}), (3, {(1, 1), (2, 1)})):
        text, doc = status_agrees(healthy, nodeid)
        assert text.status == 0 and doc["quorate"]  # node 3 stays a member over link 0
        state = {(item["node_id"], item["link"]): item["connected"] for item in doc["links"]}
        assert {key for key, up in state.items() if not up} == down
        links = cli(healthy.node(nodeid), "links", "--json").json("links")
        assert {
            (item["node_id"], item["link"]) for item in links["links"] if not item["connected"]
        } == down


def test_a_quorum_device_shows_in_status(healthy: Cluster) -> None:
    node = healthy.node(1)
    with node.connect(Votequorum) as votequorum:
        votequorum.qdevice_register("pydevice")
        try:
            votequorum.qdevice_poll("pydevice", True, _ring_id(votequorum))
            text, doc = status_agrees(healthy, 1)
            assert "Qdevice" in doc["flags"]
            assert doc["qdevice"] == {
                "name": "pydevice",
                "votes": 0,  # no quorum.device section: the device has no votes to cast
                "registered": True,
                "alive": True,
                "cast_vote": True,
                "master_wins": False,
            }
            local = [m for m in doc["members"] if m["local"]]
            assert local[0]["qdevice"] == {
                k: v for k, v in doc["qdevice"].items() if k not in ("name", "votes")
            }
            assert re.search(r"^\s+1\s+1\s+A,V,NMW node1 \(local\)$", text.stdout, re.M)
        finally:
            votequorum.qdevice_unregister("pydevice")
            healthy.wait_for(
                lambda: (
                    InfoFlag.QDEVICE_REGISTERED not in votequorum.info().flags
                    and votequorum.info().qdevice_name == ""
                ),
                what="the device gone",
            )


def _ring_id(votequorum: Votequorum) -> RingId:
    """The current ring id, as votequorum notifies it (a poll must name it)."""
    rings: list[RingId] = []
    votequorum.on_nodelist = lambda ring_id, nodes: rings.append(ring_id)
    votequorum.trackstart(TrackFlags.CURRENT)
    while not rings:
        votequorum.dispatch()
    return rings[-1]  # (CURRENT turned no tracking on: nothing to stop)
