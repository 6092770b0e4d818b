"""examples/async_chat.py as a real program inside the nodes of a real cluster, talking with
examples/cpg_chat.py both ways: nicks, lines in one order on both, leaves, a killed member,
input from a file, SIGINT and SIGTERM, and the loss of corosync."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import uuid

import pytest
from example_processes import (
    EXAMPLES,
    TIMEOUT,
    Running,
    StartOn,
    end_input_and_leave,
    introduced,
    type_at_once,
)

from corosync.testing import Cluster, Node, python_env


@pytest.fixture
def group() -> str:
    return f"async-chat-{uuid.uuid4().hex[:12]}"


def test_async_chat_and_cpg_chat_talk_both_ways(run_on: StartOn, group: str) -> None:
    anna = run_on(1, "async_chat.py", "--group", group, "--name", "anna")
    anna.wait_for(rf"^\*\*\* you joined {group} as anna on node 1 \(1 member\(s\)\)$")
    bert = run_on(2, "cpg_chat.py", "--group", group, "--name", "bert")
    bert.wait_for(rf"^\*\*\* you joined {group} as bert on node 2 \(2 member\(s\)\)$")
    anna.wait_for(rf"^\*\*\* node 2 pid {bert.proc.pid} joined {group}$")
    introduced(anna, "anna", 1, bert, "bert", 2)

    anna.type("grüße ✓ from asyncio")
    for chat in (anna, bert):
        chat.wait_for(r"^\[anna@1\] grüße ✓ from asyncio$")
    bert.type("hello from select")
    for chat in (anna, bert):
        chat.wait_for(r"^\[bert@2\] hello from select$")

    # Both type at once: each sees both lines, and in the same order as the other.
    orders = type_at_once(anna, "anna@1", bert, "bert@2")
    assert len(orders[0]) == 10
    assert orders[0] == orders[1]

    # cpg_chat's end of input: the asyncio chat reports the leave.
    end_input_and_leave(bert, "bert@2", anna, group)
    assert bert.finish() == 0

    # The asyncio chat's end of input: it leaves and exits 0.
    anna.stdin.close()
    anna.wait_for(rf"^\*\*\* you left {group}$")
    assert anna.finish() == 0


def test_cpg_chat_sees_the_async_chat_join_speak_and_leave(run_on: StartOn, group: str) -> None:
    carl = run_on(3, "cpg_chat.py", "--group", group, "--name", "carl")
    carl.wait_for(f"you joined {group}")
    dora = run_on(2, "async_chat.py", "--group", group, "--name", "dora")
    dora.wait_for(rf"^\*\*\* you joined {group} as dora on node 2 \(2 member\(s\)\)$")
    introduced(carl, "carl", 3, dora, "dora", 2)
    # A last line without its newline is sent at the end of input too.
    dora.stdin.write(b"first\n\n   \nlast words")
    dora.stdin.close()
    carl.wait_for(r"^\[dora@2\] first$")
    carl.wait_for(r"^\[dora@2\] last words$")
    carl.wait_for(rf"^\*\*\* dora@2 \(pid {dora.proc.pid}\) left {group}: left$")
    assert dora.finish() == 0
    # Blank lines are not sent.
    assert [line for line in carl.lines if line.startswith("[dora@2]")] == [
        "[dora@2] first",
        "[dora@2] last words",
    ]


def test_async_chat_reports_a_killed_member_as_process_down(run_on: StartOn, group: str) -> None:
    erik = run_on(3, "async_chat.py", "--group", group, "--name", "erik")
    erik.wait_for(f"you joined {group}")
    fern = run_on(2, "cpg_chat.py", "--group", group, "--name", "fern")
    introduced(erik, "erik", 3, fern, "fern", 2)
    fern.proc.kill()
    erik.wait_for(rf"^\*\*\* fern@2 \(pid {fern.proc.pid}\) left {group}: process down$")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_makes_the_async_chat_leave_and_exit_0(
    run_on: StartOn, group: str, signum: signal.Signals
) -> None:
    gina = run_on(1, "async_chat.py", "--group", group, "--name", "gina")
    gina.wait_for(f"you joined {group}")
    hugo = run_on(3, "cpg_chat.py", "--group", group, "--name", "hugo")
    introduced(gina, "gina", 1, hugo, "hugo", 3)
    gina.proc.send_signal(signum)
    gina.wait_for(rf"^\*\*\* you left {group}$")
    hugo.wait_for(rf"^\*\*\* gina@1 \(pid {gina.proc.pid}\) left {group}: left$")
    assert gina.finish() == 0


def test_async_chat_reads_input_from_a_regular_file(
    run_on: StartOn, corosync_cluster: Cluster, group: str
) -> None:
    # epoll cannot watch a regular file: the chat reads it without the loop's reader.
    ivan = run_on(2, "cpg_chat.py", "--group", group, "--name", "ivan")
    ivan.wait_for(f"you joined {group}")
    with tempfile.TemporaryFile() as lines:
        lines.write("one\ntwo ✓\nthree".encode())
        lines.seek(0)
        proc = corosync_cluster.node(1).popen(
            [sys.executable, str(EXAMPLES / "async_chat.py"), "--group", group, "--name", "jo"],
            stdin=lines,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=python_env(),
        )
        output, _ = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, output
    for line in ("one", "two ✓", "three"):
        ivan.wait_for(rf"^\[jo@1\] {line}$")
        assert f"[jo@1] {line}\n" in output
    ivan.wait_for(rf"^\*\*\* jo@1 \(pid {proc.pid}\) left {group}: left$")
    assert f"*** you left {group}\n" in output


def test_async_chat_exits_1_when_corosync_is_lost(corosync_node: Node, group: str) -> None:
    # This module's one-node cluster, whose daemon the test kills (and starts again).
    kate = Running(corosync_node, "async_chat.py", "--group", group, "--name", "kate")
    try:
        kate.wait_for(f"you joined {group}")
        corosync_node.cluster.kill(corosync_node.nodeid)
        kate.wait_for(r"^\*\*\* lost the connection to corosync: ")
        assert kate.finish() == 1
    finally:
        kate.close()
        corosync_node.cluster.restart(corosync_node.nodeid)
