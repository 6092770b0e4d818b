"""examples/quorum_monitor.py run as a real program on node 1 of a three-node cluster, driven
through a partition (node 3 cut off) and heal, then two changes of the expected votes: its
lines, as text and as JSON, report exactly what corosync reported to a Votequorum handle of the
test on the same node, and that is what happened (the ring ids corosync-quorumtool showed, node
3 dead and back, expected votes 4 then 3); --count and SIGTERM end it with status 0."""

from __future__ import annotations

import json
import re
import signal
from typing import Any

from example_processes import StartOn
from quorum_helpers import VotequorumEvent, VotequorumRecorder, pump, ring_of, wait_cut_off

from corosync import TrackFlags
from corosync.testing import Cluster
from corosync.votequorum import (
    ExpectedVotes,
    NodeState,
    Votequorum,
    VotequorumNodelist,
    VotequorumNotify,
)

STATES = {NodeState.MEMBER: "member", NodeState.DEAD: "dead", NodeState.LEAVING: "leaving"}
TEXT = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} (ring|quorum|expected) +(.*)$")
QUORUM = re.compile(
    r"^(quorate|NOT quorate) (.*) \((\d+) votes here, expected (\d+), total (\d+), quorum (\d+)\)$"
)


def expected_report(events: list[VotequorumEvent]) -> list[Any]:
    """What the monitor must print for `events`, in the shape of parse_text and parse_json.
    The counts of a quorum line are info()'s: this node's 1 vote, 3 expected, a vote per
    member of the ring, quorum 2."""
    report: list[Any] = []
    members = 0
    for event in events:
        match event:
            case VotequorumNodelist(ring_id=ring, nodes=nodes):
                members = len(nodes)
                report.append(("ring", f"{ring.nodeid}.{ring.seq}", nodes))
            case VotequorumNotify(quorate=quorate, nodes=nodes):
                states = {n.nodeid: STATES[NodeState(n.state)] for n in nodes}
                report.append(("quorum", quorate, states, (1, 3, members, 2)))
            case ExpectedVotes(expected_votes=votes):
                report.append(("expected", votes))
    return report


def parse_text(lines: list[str]) -> list[Any]:
    report: list[Any] = []
    for line in lines:
        match = TEXT.match(line)
        assert match, f"not a line of the monitor: {line!r}"
        event, rest = match.groups()
        if event == "ring":
            r = re.fullmatch(r"(\d+\.\d+) nodes \[(.*)\]", rest)
            assert r, rest
            report.append(("ring", r.group(1), [int(n) for n in r.group(2).split(", ")]))
        elif event == "quorum":
            q = QUORUM.fullmatch(rest)
            assert q, rest
            states = {int(n): s for n, s in (part.split(" ") for part in q.group(2).split(", "))}
            counts = tuple(int(q.group(i)) for i in range(3, 7))
            report.append(("quorum", q.group(1) == "quorate", states, counts))
        else:
            report.append(("expected", int(rest.rsplit(" ", 1)[1])))
    return report


def parse_json(lines: list[str]) -> list[Any]:
    report: list[Any] = []
    times = []
    for line in lines:
        item = json.loads(line)
        times.append(item["time"])
        if item["event"] == "ring":
            report.append(("ring", item["ring_id"], item["nodes"]))
        elif item["event"] == "quorum":
            counts = (item["votes"], item["expected_votes"], item["total_votes"], item["quorum"])
            states = {int(k): v for k, v in item["nodes"].items()}
            report.append(("quorum", item["quorate"], states, counts))
        else:
            report.append(("expected", item["expected_votes"]))
    assert times == sorted(times)
    return report


def test_the_monitor_reports_a_partition_and_heal(
    run_on: StartOn, corosync_healthy_cluster: Cluster
) -> None:
    cluster = corosync_healthy_cluster
    one = cluster.node(1)
    recorder = VotequorumRecorder()  # what corosync reports on node 1, to compare with
    with one.connect(Votequorum) as reference:
        recorder.attach(reference).trackstart(TrackFlags.CURRENT | TrackFlags.CHANGES)
        text = run_on(1, "quorum_monitor.py")
        as_json = run_on(1, "quorum_monitor.py", "--json")
        counted = run_on(1, "quorum_monitor.py", "--json", "--count", "2", "--timeout", "60")
        for program in (text, as_json, counted):
            program.wait_for(r"\bquorum\b")  # the state at start is printed: it watches
        start = ring_of(one)

        cluster.isolate(3)
        cluster.wait_members(1, [1, 2])
        pair = ring_of(one)
        assert counted.finish() == 0  # --count 2: the ring and quorum lines of the cut
        wait_cut_off(cluster, 3)
        cluster.heal()
        for nodeid in (1, 2, 3):
            cluster.wait_members(nodeid, [1, 2, 3])
        whole = ring_of(one)

        def told_of_the_whole_ring() -> bool:
            last = recorder.events[-1:]
            return bool(last) and isinstance(last[0], VotequorumNotify) and last[0].ring_id == whole

        pump([reference], told_of_the_whole_ring, what="the notification of the healed ring")
        try:
            reference.set_expected(4)  # from one node: told everywhere in this order
            reference.set_expected(3)
            pump([reference], lambda: ExpectedVotes(3) in recorder.events, what="expected 3")
        finally:
            if reference.info().expected_votes != 3:
                reference.set_expected(3)

    report = expected_report(recorder.events)
    # What happened: the whole cluster, node 3 dead on node 1's new ring, all back on another.
    everyone = {1: "member", 2: "member", 3: "member"}
    dead3 = {1: "member", 2: "member", 3: "dead"}
    cut = [("ring", f"{pair.nodeid}.{pair.seq}", [1, 2]), ("quorum", True, dead3, (1, 3, 2, 2))]
    assert report[:4] == [
        ("ring", f"{start.nodeid}.{start.seq}", [1, 2, 3]),
        ("quorum", True, everyone, (1, 3, 3, 2)),
        *cut,
    ]
    assert report[-4:] == [
        ("ring", f"{whole.nodeid}.{whole.seq}", [1, 2, 3]),
        ("quorum", True, everyone, (1, 3, 3, 2)),
        ("expected", 4),
        ("expected", 3),
    ]
    for line in report[4:-4]:  # at most the pair's ring formed again before the merge
        assert (line[0] == "ring" and line[2] == [1, 2]) or line == cut[1], line

    # The monitors dispatch on their own time: they have printed everything once the last
    # change (expected votes back to 3) is out.
    text.wait_for(r"expected votes 3$")
    as_json.wait_for(r'"event": "expected", .*"expected_votes": 3\}')
    for program in (text, as_json):
        program.proc.send_signal(signal.SIGTERM)
        assert program.finish() == 0  # Ctrl-C and SIGTERM exit with 0
    assert parse_text(text.lines) == report
    assert parse_json(as_json.lines) == report
    assert parse_json(counted.lines) == report[:4]
