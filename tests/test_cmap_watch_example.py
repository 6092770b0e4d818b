"""examples/cmap_watch.py run as a real program inside a one-node cluster's namespace, driven
with corosync-cmapctl: it prints what ``corosync-cmapctl -b -T PREFIX`` prints, and its
options, exit statuses and signals behave as documented."""

from __future__ import annotations

import re
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Protocol

import pytest
from cmap_helpers import cmapctl
from example_processes import EXAMPLES, TIMEOUT, Program

import corosync
from corosync.cmap import ValueType
from corosync.testing import Node


class Watching(Program):
    """cmap_watch.py or ``corosync-cmapctl -T`` running: both print a change as
    ``create> KEY (TYPE) = VALUE``."""

    def changes(self) -> list[str]:
        """The lines that report a change."""
        return [line for line in self.lines if re.match(r"^(create|modify|delete)> ", line)]

    def wait_changes(self, count: int) -> list[str]:
        deadline = time.monotonic() + TIMEOUT
        while len(self.changes()) < count:
            remaining = deadline - time.monotonic()
            if self.eof or remaining <= 0:
                pytest.fail(f"expected {count} changes, got {self.lines!r}")
            self.read(remaining)
        return self.changes()


class Start(Protocol):
    def __call__(self, *args: str) -> Watching: ...


@pytest.fixture
def started() -> Iterator[list[Watching]]:
    """The programs the test started, killed if they still run after it."""
    programs: list[Watching] = []
    yield programs
    for program in programs:
        program.close()


@pytest.fixture
def watch(corosync_node: Node, started: list[Watching]) -> Start:
    """Starts cmap_watch.py on the node with ARGS; waits until it watches (unless it is
    expected to fail: pass ``--no-wait`` first)."""

    def start(*args: str) -> Watching:
        wait = args[:1] != ("--no-wait",)
        args = args if wait else args[1:]
        argv = [sys.executable, str(EXAMPLES / "cmap_watch.py"), *args]
        program = Watching(corosync_node, argv, python=True)
        started.append(program)
        if wait:
            program.wait_for(r"^# watching ")
        return program

    return start


@pytest.fixture
def cmapctl_tracking(corosync_node: Node, started: list[Watching]) -> Start:
    """Starts ``corosync-cmapctl -b ARGS`` (line-buffered) and waits until it tracks."""

    def start(*args: str) -> Watching:
        program = Watching(corosync_node, ["stdbuf", "-oL", "corosync-cmapctl", "-b", *args])
        started.append(program)
        program.wait_for(r'^Type "q" to finish$')
        return program

    return start


def make_changes(node: Node, prefix: str) -> int:
    """A create, modify and delete of every kind of value, with corosync-cmapctl; returns
    how many changes that is."""
    steps = [
        ["-s", prefix + "u32", "u32", "5"],
        ["-s", prefix + "u32", "u32", "6"],
        ["-s", prefix + "u32", "str", "now a string"],
        ["-s", "--", prefix + "i8", "i8", "-128"],
        ["-s", prefix + "u64", "u64", "18446744073709551615"],
        ["-s", prefix + "flt", "flt", "1.5"],
        ["-s", "--", prefix + "dbl", "dbl", "-0.25"],
        ["-s", prefix + "str", "str", "with  spaces and ✓ "],
        ["-d", prefix + "u32"],
        ["-d", prefix + "str"],
    ]
    with tempfile.NamedTemporaryFile() as f:
        f.write(b"\x00\x01bin\\ary\x7f")
        f.flush()
        steps.append(["-s", prefix + "bin", "bin", f.name])
        for step in steps:
            cmapctl(node, *step)
    return len(steps)


def set_then_delete(node: Node, key: str, *values: tuple[str, str]) -> None:
    """With corosync-cmapctl, set `key` to each ``(type name, value)`` in turn, then delete
    it."""
    for type_name, value in values:
        cmapctl(node, "-s", key, type_name, value)
    cmapctl(node, "-d", key)


def test_it_prints_what_cmapctl_prints_for_the_same_changes(
    watch: Start, cmapctl_tracking: Start, corosync_node: Node, prefix: str
) -> None:
    watcher = watch(prefix)
    reference = cmapctl_tracking("-T", prefix)
    count = make_changes(corosync_node, prefix)
    expected = reference.wait_changes(count)
    assert watcher.wait_changes(count) == expected
    assert expected[:3] == [
        f"create> {prefix}u32 (u32) = 5",
        f"modify> {prefix}u32 (u32) = 6",
        f"modify> {prefix}u32 (str) = now a string",
    ]
    assert f"delete> {prefix}u32 (str) = now a string" in expected
    assert expected[-1] == f"create> {prefix}bin (bin) = \\x00\\x01bin\\\\ary\\x7F"


def test_exact_follows_the_named_keys_like_cmapctl_t(
    watch: Start, cmapctl_tracking: Start, corosync_node: Node, prefix: str
) -> None:
    watcher = watch("--exact", prefix + "k", prefix + "j")
    reference = cmapctl_tracking("-t", prefix + "k")
    cmapctl(corosync_node, "-s", prefix + "kk", "u8", "1")  # not followed
    cmapctl(corosync_node, "-s", prefix + "k", "u8", "2")
    cmapctl(corosync_node, "-s", prefix + "j", "u8", "3")
    cmapctl(corosync_node, "-d", prefix + "k")
    assert watcher.wait_changes(3) == [
        f"create> {prefix}k (u8) = 2",
        f"create> {prefix}j (u8) = 3",
        f"delete> {prefix}k (u8) = 2",
    ]
    assert reference.wait_changes(2) == [watcher.changes()[0], watcher.changes()[2]]


def test_keys_outside_the_prefix_are_not_reported(
    watch: Start, corosync_node: Node, prefix: str
) -> None:
    watcher = watch(prefix + "in.")
    cmapctl(corosync_node, "-s", prefix + "out", "u8", "1")
    cmapctl(corosync_node, "-s", prefix + "inside", "u8", "1")
    cmapctl(corosync_node, "-s", prefix + "in.marker", "u8", "1")
    assert watcher.wait_changes(1) == [f"create> {prefix}in.marker (u8) = 1"]


def test_old_shows_the_previous_value_of_a_modify(
    watch: Start, corosync_node: Node, prefix: str
) -> None:
    watcher = watch("--old", prefix)
    set_then_delete(corosync_node, prefix + "k", ("u32", "5"), ("dbl", "2.5"))
    assert watcher.wait_changes(3) == [
        f"create> {prefix}k (u32) = 5",
        f"modify> {prefix}k (dbl) = 2.500000 (was (u32) = 5)",
        f"delete> {prefix}k (dbl) = 2.500000",
    ]


def test_events_chooses_the_changes_reported(
    watch: Start, corosync_node: Node, prefix: str
) -> None:
    watcher = watch("--events", "delete,create", prefix)
    set_then_delete(corosync_node, prefix + "k", ("str", "a"), ("str", "b"))
    assert watcher.wait_changes(2) == [
        f"create> {prefix}k (str) = a",
        f"delete> {prefix}k (str) = b",
    ]
    assert watcher.changes() == watcher.wait_changes(2)


def test_list_prints_the_current_keys_first(watch: Start, corosync_node: Node, prefix: str) -> None:
    cmapctl(corosync_node, "-s", prefix + "a", "u16", "7")
    cmapctl(corosync_node, "-s", prefix + "b", "str", "text")
    watcher = watch("--list", prefix)
    assert watcher.lines[:3] == [
        f"= {prefix}a (u16) = 7",
        f"= {prefix}b (str) = text",
        f"# watching prefixes '{prefix}'",
    ]


def test_a_non_utf8_string_is_escaped(watch: Start, cmap: corosync.CMAP, prefix: str) -> None:
    watcher = watch(prefix)
    cmap.set(prefix + "s", b"caf\xe9 \\", ValueType.STRING)
    assert watcher.wait_changes(1) == [f"create> {prefix}s (str) = caf\\xE9 \\\\"]


def test_count_exits_after_that_many_changes(
    watch: Start, corosync_node: Node, prefix: str
) -> None:
    watcher = watch("--count", "2", prefix)
    for value in ("1", "2", "3"):
        cmapctl(corosync_node, "-s", prefix + "k", "u8", value)
    assert watcher.finish() == 0
    assert watcher.changes() == [f"create> {prefix}k (u8) = 1", f"modify> {prefix}k (u8) = 2"]


def test_timeout_before_the_count_exits_with_status_1(watch: Start, prefix: str) -> None:
    watcher = watch("--count", "1", "--timeout", "0.5", prefix)
    assert watcher.finish() == 1
    assert watcher.changes() == []


def test_timeout_without_a_count_exits_with_status_0(watch: Start, prefix: str) -> None:
    assert watch("--timeout", "0.5", prefix).finish() == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_sigterm_and_ctrl_c_exit_cleanly(
    watch: Start, corosync_node: Node, prefix: str, signum: signal.Signals
) -> None:
    watcher = watch(prefix)
    cmapctl(corosync_node, "-s", prefix + "k", "u8", "1")
    watcher.wait_changes(1)
    watcher.proc.send_signal(signum)
    assert watcher.finish() == 0
    assert not any("Traceback" in line for line in watcher.lines), watcher.lines


@pytest.mark.parametrize("bad", ["with space", "semi;colon", "x" * 256])
def test_a_prefix_corosync_cannot_hold_is_a_usage_error(watch: Start, bad: str) -> None:
    watcher = watch("--no-wait", bad)
    assert watcher.finish() == 2
    assert any("usage:" in line for line in watcher.lines), watcher.lines


def test_an_unknown_event_is_a_usage_error(watch: Start, prefix: str) -> None:
    watcher = watch("--no-wait", "--events", "create,rename", prefix)
    assert watcher.finish() == 2
    assert any("rename" in line for line in watcher.lines), watcher.lines


def test_losing_corosync_exits_with_status_1(watch: Start, corosync_node: Node) -> None:
    watcher = watch("test.")
    try:
        corosync_node.cluster.kill(corosync_node.nodeid)
        assert watcher.finish() == 1
        assert any("lost the connection to corosync" in line for line in watcher.lines)
    finally:
        if not corosync_node.alive:
            corosync_node.cluster.restart(corosync_node.nodeid)
