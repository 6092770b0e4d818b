"""The examples, run as real programs: the README's demo end to end, and cpg_chat.py and
cpg_monitor.py inside the nodes of a real cluster, driven through their stdin and stdout."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

import corosync
from corosync.testing import Cluster, Node, python_env

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TIMEOUT = 20.0


class Running:
    """An example running inside a node's namespace, with its output collected by line."""

    def __init__(self, node: Node, script: str, *args: str) -> None:
        self.proc = node.popen(
            [sys.executable, str(EXAMPLES / script), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=python_env(),
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        self.lines: list[str] = []
        self.partial = b""
        self.eof = False

    def read(self, timeout: float) -> None:
        """Collect the output that arrives within `timeout` seconds."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                return
        data = os.read(self.stdout.fileno(), 65536)
        self.eof = not data
        *complete, self.partial = (self.partial + data).split(b"\n")
        self.lines += [raw.decode() for raw in complete]

    def wait_for(self, pattern: str) -> re.Match[str]:
        """The first output line matching `pattern`, waiting for it up to TIMEOUT seconds."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + TIMEOUT
        while True:
            for line in self.lines:
                if match := regex.search(line):
                    return match
            remaining = deadline - time.monotonic()
            if self.eof or remaining <= 0:
                pytest.fail(f"no line matching {pattern!r} in {self.lines!r}")
            self.read(remaining)

    def type(self, line: str) -> None:
        self.stdin.write(line.encode() + b"\n")
        self.stdin.flush()

    def finish(self, timeout: float = TIMEOUT) -> int:
        """Wait for the exit (collecting all output) and return the exit status."""
        deadline = time.monotonic() + timeout
        while not self.eof and time.monotonic() < deadline:
            self.read(deadline - time.monotonic())
        return self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if not self.stdin.closed:
            self.stdin.close()
        self.stdout.close()


class StartOn(Protocol):
    def __call__(self, nodeid: int, script: str, *args: str) -> Running: ...


@pytest.fixture
def run_on(corosync_cluster: Cluster) -> Iterator[StartOn]:
    """Starts examples on a node of the shared cluster; kills what is left after the test."""
    started: list[Running] = []

    def start(nodeid: int, script: str, *args: str) -> Running:
        running = Running(corosync_cluster.node(nodeid), script, *args)
        started.append(running)
        return running

    yield start
    for running in started:
        running.close()


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
    anna.wait_for(rf"^\*\*\* node 2 pid {bert.proc.pid} is bert$")
    bert.wait_for(rf"^\*\*\* node 1 pid {anna.proc.pid} is anna$")

    anna.type("grüße ✓ from node 1")
    bert.wait_for(r"^\[anna@1\] grüße ✓ from node 1$")
    # Both type at once: each sees both lines, and in the same order as the other.
    for i in range(5):
        anna.type(f"a{i}")
        bert.type(f"b{i}")
    said = re.compile(r"^\[(anna@1|bert@2)\] [ab]\d$")
    for chat in (anna, bert):
        chat.wait_for(r"^\[anna@1\] a4$")
        chat.wait_for(r"^\[bert@2\] b4$")
    orders = [[line for line in chat.lines if said.match(line)] for chat in (anna, bert)]
    assert len(orders[0]) == 10
    assert orders[0] == orders[1]

    # End of input: anna leaves (reason "left") and exits 0.
    anna.stdin.close()
    anna.wait_for(f"you left {group}")
    bert.wait_for(rf"^\*\*\* anna@1 \(pid {anna.proc.pid}\) left {group}: left$")
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
