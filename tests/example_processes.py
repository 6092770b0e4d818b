"""Running programs (the examples, corosync-cmapctl) inside a node's namespace as real
processes, driving them through stdin and collecting their output by line (test helpers)."""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import sys
import time
from pathlib import Path
from typing import Protocol

import pytest

from corosync.testing import Node, python_env

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TIMEOUT = 20.0


class Program:
    """A program running inside a node's namespace, its output (stdout and stderr) collected
    by line. With `python`, it runs with the environment that finds this corosync package."""

    def __init__(self, node: Node, argv: list[str], *, python: bool = False) -> None:
        self.proc = node.popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=python_env() if python else None,
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


class Running(Program):
    """An example (``examples/SCRIPT ARGS``) running inside a node's namespace."""

    def __init__(self, node: Node, script: str, *args: str) -> None:
        super().__init__(node, [sys.executable, str(EXAMPLES / script), *args], python=True)


class StartOn(Protocol):
    """Starts an example on node `nodeid` (the ``run_on`` fixture)."""

    def __call__(self, nodeid: int, script: str, *args: str) -> Running: ...


def introduced(a: Running, a_nick: str, a_node: int, b: Running, b_nick: str, b_node: int) -> None:
    """Wait until each of two chats has learnt the other's nick."""
    a.wait_for(rf"^\*\*\* node {b_node} pid {b.proc.pid} is {b_nick}$")
    b.wait_for(rf"^\*\*\* node {a_node} pid {a.proc.pid} is {a_nick}$")


def end_input_and_leave(chat: Running, who: str, seen_by: Running, group: str) -> None:
    """Close `chat`'s stdin and wait until it says it left `group` and `seen_by` reports that
    `who` (``anna@1``) left with the reason "left"."""
    chat.stdin.close()
    chat.wait_for(f"you left {group}")
    seen_by.wait_for(rf"^\*\*\* {re.escape(who)} \(pid {chat.proc.pid}\) left {group}: left$")


def type_at_once(a: Running, a_who: str, b: Running, b_who: str) -> list[list[str]]:
    """Two chats type five lines each at once (``a0`` … ``a4`` and ``b0`` … ``b4``); once
    each has shown the last line of both, the lines of the two as each shows them, in its
    order. `a_who` and `b_who` are how the chats name the two (``anna@1``)."""
    for i in range(5):
        a.type(f"a{i}")
        b.type(f"b{i}")
    said = re.compile(rf"^\[({re.escape(a_who)}|{re.escape(b_who)})\] [ab]\d$")
    for chat in (a, b):
        chat.wait_for(rf"^\[{re.escape(a_who)}\] a4$")
        chat.wait_for(rf"^\[{re.escape(b_who)}\] b4$")
    return [[line for line in chat.lines if said.match(line)] for chat in (a, b)]
