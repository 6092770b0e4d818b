"""The examples, run as real programs: the README's demo end to end, and cpg_chat.py and
cpg_monitor.py inside the nodes of a real cluster, driven through their stdin and stdout."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid

import pytest
from example_processes import EXAMPLES, StartOn, end_input_and_leave, introduced, type_at_once

import corosync
from corosync.testing import Cluster, python_env


@pytest.fixture
def group() -> str:
    return f"examples-{uuid.uuid4().hex[:12]}"


def test_demo_shows_the_chat_and_the_crash_of_node_3() -> None:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo.py")],
        capture_output=True,
        text=True,
        timeout=120,
        env=python_env(),
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    for pattern in [
        r"^ *node 3 chat \| \[alice@2\] hello from node 2$",
        r"^ *node 2 chat \| \[bob@3\] hi alice, node 3 here$",
        r"^ *node 1 monitor \| .* deliver demo from 2/\d+: \d+ bytes b'\{\"chat\":1,\"type\":\"say",
        r"^ *node 2 chat \| \*\*\* bob@3 \(pid \d+\) left demo: node down$",
        r"^ *node 1 monitor \| .* totem ring \d+\.\d+: members \[1, 2\]$",
        r"^ *node 1 monitor \| .* confchg demo: left 3/\d+ \(node down\); members 1/\d+, 2/\d+$",
        r"^ *node 3 chat \| \*\*\* lost the connection to corosync",
        r"^ *node 1 monitor \| .* confchg demo: left 2/\d+ \(left\); members 1/\d+$",
        r"^OK: every expected line was seen",
    ]:
        assert re.search(pattern, output, re.MULTILINE), f"{pattern!r} not in:\n{output}"


def test_chat_lines_reach_every_node_in_one_order(run_on: StartOn, group: str) -> None:
    anna = run_on(1, "cpg_chat.py", "--group", group, "--name", "anna")
    anna.wait_for(f"you joined {group} as anna on node 1")
    bert = run_on(2, "cpg_chat.py", "--group", group, "--name", "bert")
    bert.wait_for(rf"you joined {group} as bert on node 2 \(2 member\(s\)\)")
    introduced(anna, "anna", 1, bert, "bert", 2)

    anna.type("grüße ✓ from node 1")
    bert.wait_for(r"^\[anna@1\] grüße ✓ from node 1$")
    # Both type at once: each sees both lines, and in the same order as the other.
    orders = type_at_once(anna, "anna@1", bert, "bert@2")
    assert len(orders[0]) == 10
    assert orders[0] == orders[1]

    # End of input: anna leaves (reason "left") and exits 0.
    end_input_and_leave(anna, "anna@1", bert, group)
    assert anna.finish() == 0


def test_chat_reports_a_killed_member_as_process_down(run_on: StartOn, group: str) -> None:
    carl = run_on(3, "cpg_chat.py", "--group", group, "--name", "carl")
    carl.wait_for(f"you joined {group}")
    dora = run_on(2, "cpg_chat.py", "--group", group, "--name", "dora")
    carl.wait_for(r"is dora$")
    dora.wait_for(r"is carl$")
    dora.proc.kill()
    carl.wait_for(rf"^\*\*\* dora@2 \(pid {dora.proc.pid}\) left {group}: process down$")
    # SIGTERM leaves the group like end of input does.
    carl.proc.send_signal(signal.SIGTERM)
    carl.wait_for(f"you left {group}")
    assert carl.finish() == 0


def test_monitor_lists_groups_and_reports_joins_and_messages_as_json(
    run_on: StartOn, corosync_cluster: Cluster, group: str
) -> None:
    listed = f"{group}-listed"
    with corosync_cluster.node(2).connect(corosync.CPG) as member:
        member.join(listed)
        monitor = run_on(3, "cpg_monitor.py", "--json", "--group", group, "--count", "4")
        monitor.wait_for(f'"event": "confchg".*"group": "{group}"')
        with corosync_cluster.node(1).connect(corosync.CPG) as sender:
            sender.join(group)
            sender.mcast(b"\x00\xffbinary")
            assert monitor.finish() == 0
    events = [json.loads(line) for line in monitor.lines]
    assert events[0]["event"] == "groups"
    assert events[0]["nodeid"] == 3
    assert events[0]["groups"][listed] == [[2, os.getpid()]]
    rest = events[1:]
    assert sorted(e["event"] for e in rest) == ["confchg", "confchg", "deliver", "totem"]
    totem = next(e for e in rest if e["event"] == "totem")
    assert totem["members"] == [1, 2, 3]
    confchgs = [e for e in rest if e["event"] == "confchg"]
    assert [c["joined"][0]["nodeid"] for c in confchgs] == [3, 1]
    assert confchgs[1]["joined"] == [{"nodeid": 1, "pid": os.getpid(), "reason": "JOIN"}]
    deliver = next(e for e in rest if e["event"] == "deliver")
    assert (deliver["group"], deliver["nodeid"], deliver["pid"]) == (group, 1, os.getpid())
    assert bytes.fromhex(deliver["hex"]) == b"\x00\xffbinary"


def test_monitor_fails_when_the_timeout_expires_before_the_count(run_on: StartOn) -> None:
    monitor = run_on(1, "cpg_monitor.py", "--count", "1", "--timeout", "1")
    assert monitor.finish() == 1
    assert re.search(r"groups on node 1: \d+ group\(s\)", monitor.lines[0])
