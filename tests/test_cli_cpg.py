"""``python -m corosync cpg groups|members|send|listen`` on a three-node cluster: listeners on
nodes 1 and 2 (one printing JSON, one text), groups and members listed on node 3 as
corosync-cpgtool lists them there, messages sent from node 3 reaching both listeners, and the
membership changes the listeners see. Every --json document is checked against the schema
shipped in the package."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cli_helpers import Streaming, cli, tool

from corosync.testing import Cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster(3) as cluster:
        yield cluster


@pytest.fixture
def group() -> str:
    return f"cli-{uuid.uuid4().hex[:8]}"


class Listeners:
    """``cpg listen --json`` on node 1 and ``cpg listen`` on node 2, both in the group."""

    def __init__(self, cluster: Cluster, group: str) -> None:
        self.group = group
        self.json = Streaming(cluster.node(1), "cpg", "listen", "--json", group)
        self.text = Streaming(cluster.node(2), "cpg", "listen", group)
        self.pids = {1: self.json.proc.pid, 2: self.text.proc.pid}
        both = f"{self.pids[1]} 2/{self.pids[2]}"
        self.text.wait_for(rf"^\[{group}\] members: 1/{both}$")
        self.json.wait_document("cpg_confchg", lambda d: len(d["members"]) == 2, "both members")

    def close(self) -> None:
        self.json.close()
        self.text.close()


@pytest.fixture
def listeners(cluster: Cluster, group: str) -> Iterator[Listeners]:
    listening = Listeners(cluster, group)
    yield listening
    listening.close()


def test_members_and_groups_are_what_cpgtool_lists(cluster: Cluster, listeners: Listeners) -> None:
    node = cluster.node(3)
    members = cli(node, "cpg", "members")
    assert members.status == 0 and members.lines == tool(node, "corosync-cpgtool").splitlines()
    groups = cli(node, "cpg", "groups")
    assert groups.lines == tool(node, "corosync-cpgtool", "-n").splitlines() == [listeners.group]

    doc = cli(node, "cpg", "members", "--json", listeners.group).json("cpg_members")
    assert sorted((m["node_id"], m["pid"], m["group"]) for m in doc["members"]) == [
        (1, listeners.pids[1], listeners.group),
        (2, listeners.pids[2], listeners.group),
    ]
    for member in doc["members"]:
        assert member["addresses"] == cluster.node(member["node_id"]).addresses
    doc = cli(node, "cpg", "groups", "--json").json("cpg_groups")
    assert doc["groups"] == [{"name": listeners.group, "members": 2}]


def test_sent_messages_reach_every_listener(cluster: Cluster, listeners: Listeners) -> None:
    group = listeners.group
    sent = cli(cluster.node(3), "cpg", "send", "--json", group, "hello", "wörld = 1")
    doc = sent.json("cpg_sent")
    assert (doc["group"], doc["node_id"], doc["messages"]) == (group, 3, 2)
    sender = doc["pid"]
    listeners.text.wait_for(rf"^\[{group}\] node 3 pid {sender} left \(leave\)$")
    listeners.json.wait_document(
        "cpg_confchg", lambda d: [a["pid"] for a in d["left"]] == [sender], "the sender leaving"
    )
    assert [line for line in listeners.text.lines if f"pid {sender}" in line or "members:" in line][
        -6:
    ] == [
        f"[{group}] node 3 pid {sender} joined (join)",
        f"[{group}] members: 1/{listeners.pids[1]} 2/{listeners.pids[2]} 3/{sender}",
        f"[{group}] node 3 pid {sender}: hello",
        f"[{group}] node 3 pid {sender}: wörld = 1",
        f"[{group}] node 3 pid {sender} left (leave)",
        f"[{group}] members: 1/{listeners.pids[1]} 2/{listeners.pids[2]}",
    ]
    events = [_event(d) for d in listeners.json.documents() if _about(d, sender)]
    assert events == [
        ("cpg_confchg", [(3, sender, "join")], []),
        ("cpg_deliver", 3, sender, "hello"),
        ("cpg_deliver", 3, sender, "wörld = 1"),
        ("cpg_confchg", [], [(3, sender, "leave")]),
    ]
    assert listeners.text.stop() == listeners.json.stop() == 0  # SIGTERM: a normal end


def _about(doc: dict[str, Any], pid: int) -> bool:
    if doc["kind"] == "cpg_deliver":
        return bool(doc["pid"] == pid)
    return any(a["pid"] == pid for a in doc["joined"] + doc["left"])


def _event(doc: dict[str, Any]) -> tuple[Any, ...]:
    if doc["kind"] == "cpg_deliver":
        return (doc["kind"], doc["node_id"], doc["pid"], doc["message"])
    addresses = [
        [(a["node_id"], a["pid"], a["reason"]) for a in doc[k]] for k in ("joined", "left")
    ]
    return (doc["kind"], *addresses)


def test_send_reads_stdin_and_listen_ends_after_count_messages(
    cluster: Cluster, group: str
) -> None:
    listen = Streaming(cluster.node(2), "cpg", "listen", "--json", "--count", "2", group)
    try:
        listen.wait_document("cpg_confchg", lambda d: True, "its own join")
        sent = cli(cluster.node(1), "cpg", "send", "--json", group, stdin="one\ntwo\nthree\n")
        assert sent.json("cpg_sent")["messages"] == 3
        assert listen.finish() == 0
        messages = [d["message"] for d in listen.documents("cpg_deliver")]
        assert messages == ["one", "two"]  # --count 2: the third is not printed
    finally:
        listen.close()
