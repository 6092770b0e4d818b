"""A three-node corosync cluster on one machine: a chat, a monitor, and a node crash.

Run it as root (it creates network namespaces), from a checkout with the extension built::

    PYTHONPATH=src/python python3 examples/demo.py

It starts a real 3-node cluster with ``corosync.testing.Cluster(3)`` (one corosync daemon in
its own network namespace per node), then runs real processes inside the nodes:

* node 1: ``cpg_monitor.py --group demo``, which watches the group and the totem ring;
* node 2: ``cpg_chat.py --name alice``; node 3: ``cpg_chat.py --name bob``.

alice and bob each type a line (fed on their standard input) and read the other's. Then
node 3's daemon is killed (SIGKILL, a crash): alice and the monitor report bob's departure
with the reason "node down" and the ring shrinking to nodes 1 and 2; bob's chat loses its
daemon. Finally alice types Ctrl-D (end of input) and leaves. Every output line is shown
prefixed by its node and program. Exit status 0 when every expected line was seen, else 1
with the list of what was missing. Everything is cleaned up on exit.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from corosync.testing import Cluster, Node, python_env

HERE = Path(__file__).resolve().parent
GROUP = "demo"
#: Seconds to wait for any one expected line (a crash is noticed after ~2 s with token 1 s).
EXPECT_TIMEOUT = 15.0
#: ... once something was missing: what depends on it is unlikely to come, so don't linger.
EXPECT_TIMEOUT_AFTER_MISS = 3.0


class Program:
    """An example script running inside a node's namespace; its output lines, as they come."""

    def __init__(self, node: Node, script: str, *args: str) -> None:
        self.label = f"node {node.nodeid} {script.removeprefix('cpg_').removesuffix('.py')}"
        self.proc = node.popen(
            [sys.executable, str(HERE / script), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(python_env(), PYTHONUNBUFFERED="1"),
        )
        self.lines: list[str] = []
        self.partial = b""

    def type(self, line: str) -> None:
        """Feed one line to the program's standard input, echoing it here."""
        print(f"{self.label:>14} < {line}", flush=True)
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def end_input(self) -> None:
        print(f"{self.label:>14} < (end of input)", flush=True)
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def take(self, data: bytes) -> None:
        *complete, self.partial = (self.partial + data).split(b"\n")
        for raw in complete:
            line = raw.decode(errors="replace")
            self.lines.append(line)
            print(f"{self.label:>14} | {line}", flush=True)


class Demo:
    """Runs the programs, shows their output and checks the lines it expects."""

    def __init__(self) -> None:
        self.programs: list[Program] = []
        self.selector = selectors.DefaultSelector()
        self.missing: list[str] = []

    def start(self, node: Node, script: str, *args: str) -> Program:
        program = Program(node, script, *args)
        assert program.proc.stdout is not None
        self.selector.register(program.proc.stdout, selectors.EVENT_READ, program)
        self.programs.append(program)
        return program

    def pump(self, timeout: float) -> None:
        """Show whatever output arrives within `timeout` seconds."""
        for key, _ in self.selector.select(timeout):
            program: Program = key.data
            data = os.read(key.fd, 65536)
            if data:
                program.take(data)
            else:
                self.selector.unregister(key.fileobj)
                if program.partial:
                    program.take(b"\n")

    def timeout(self) -> float:
        return EXPECT_TIMEOUT_AFTER_MISS if self.missing else EXPECT_TIMEOUT

    def expect(self, program: Program, pattern: str, what: str) -> bool:
        """Wait until `program` printed a line matching `pattern`; else note `what`."""
        deadline = time.monotonic() + self.timeout()
        regex = re.compile(pattern)
        while not any(regex.search(line) for line in program.lines):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.missing.append(f"{program.label}: {what} (no line matching {pattern!r})")
                return False
            self.pump(remaining)
        return True

    def expect_exit(self, program: Program, status: int, what: str) -> None:
        deadline = time.monotonic() + self.timeout()
        while program.proc.poll() is None and time.monotonic() < deadline:
            self.pump(0.1)
        self.pump(0.1)
        if program.proc.returncode != status:
            got = program.proc.returncode
            self.missing.append(f"{program.label}: {what} (exit status {got}, not {status})")

    def stop_all(self) -> None:
        for program in self.programs:
            if program.proc.poll() is None:
                program.proc.kill()
            program.proc.wait()
            if program.proc.stdin is not None and not program.proc.stdin.closed:
                program.proc.stdin.close()
            assert program.proc.stdout is not None
            program.proc.stdout.close()
        self.selector.close()


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def scenario(cluster: Cluster, demo: Demo) -> None:
    step("node 1: cpg_monitor.py watches the group and the ring")
    monitor = demo.start(cluster.node(1), "cpg_monitor.py", "--group", GROUP)
    demo.expect(monitor, rf"confchg {GROUP}: joined 1/\d+ \(joined\)", "its own join")
    demo.expect(monitor, r"totem ring \d+\.\d+: members \[1, 2, 3\]", "the ring at start")

    step("node 2: alice joins the chat; node 3: bob joins the chat")
    alice = demo.start(cluster.node(2), "cpg_chat.py", "--group", GROUP, "--name", "alice")
    demo.expect(alice, rf"you joined {GROUP} as alice on node 2", "alice's join")
    bob = demo.start(cluster.node(3), "cpg_chat.py", "--group", GROUP, "--name", "bob")
    demo.expect(bob, rf"you joined {GROUP} as bob on node 3", "bob's join")
    demo.expect(alice, r"node 3 pid \d+ is bob", "bob introducing himself")
    demo.expect(bob, r"node 2 pid \d+ is alice", "alice introducing herself")
    demo.expect(monitor, r"joined 3/\d+ \(joined\)", "bob's join")

    step("alice and bob talk")
    alice.type("hello from node 2")
    demo.expect(bob, r"^\[alice@2\] hello from node 2$", "alice's line")
    demo.expect(alice, r"^\[alice@2\] hello from node 2$", "alice's own line, in order")
    demo.expect(monitor, rf"deliver {GROUP} from 2/\d+: .*hello from node 2", "alice's message")
    bob.type("hi alice, node 3 here")
    demo.expect(alice, r"^\[bob@3\] hi alice, node 3 here$", "bob's line")
    demo.expect(monitor, rf"deliver {GROUP} from 3/\d+", "bob's message")

    step("node 3 crashes: its corosync daemon is killed with SIGKILL")
    cluster.kill(3)
    demo.expect(alice, rf"bob@3 \(pid \d+\) left {GROUP}: node down", "bob leaving: node down")
    demo.expect(monitor, r"totem ring \d+\.\d+: members \[1, 2\]", "the ring shrinking")
    demo.expect(monitor, r"left 3/\d+ \(node down\)", "bob leaving: node down")
    demo.expect(bob, r"lost the connection to corosync", "bob's chat losing its daemon")
    demo.expect_exit(bob, 1, "bob's chat exiting with status 1")

    step("alice ends her input (Ctrl-D) and leaves")
    alice.end_input()
    demo.expect(alice, rf"you left {GROUP}", "alice's own leave")
    demo.expect(monitor, r"left 2/\d+ \(left\)", "alice leaving")
    demo.expect_exit(alice, 0, "alice's chat exiting with status 0")

    step("the monitor is stopped (SIGINT, as by Ctrl-C)")
    monitor.proc.send_signal(signal.SIGINT)
    demo.expect_exit(monitor, 0, "the monitor exiting with status 0")


def main() -> int:
    started = time.monotonic()
    step("starting a 3-node corosync cluster, one network namespace per node")
    with Cluster(3) as cluster:
        print(f"    {cluster.name}: nodes {', '.join(n.address for n in cluster.nodes)}")
        print(f"    quorate with 3 members after {time.monotonic() - started:.1f} s")
        demo = Demo()
        try:
            scenario(cluster, demo)
        finally:
            demo.stop_all()
    elapsed = time.monotonic() - started
    if demo.missing:
        print(f"\nFAILED after {elapsed:.1f} s; missing:", file=sys.stderr)
        for what in demo.missing:
            print(f"  - {what}", file=sys.stderr)
        return 1
    print(f"\nOK: every expected line was seen ({elapsed:.1f} s, cluster cleaned up)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
