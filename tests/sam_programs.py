"""Programs that use corosync.sam, run as real processes inside a node's network namespace
(test helpers).

SAM is one per process and ``sam.register()`` forks, so the test process never initializes it:
every SAM call that can change state runs in one of these programs, and the tests read what
its processes print. A program is :data:`PRELUDE` followed by a test's script; the process
that runs it becomes SAM's supervisor at ``registered()``, and the supervisor and all its
children share one output pipe (stdout and stderr), read by line as for the examples."""

from __future__ import annotations

import os
import re
import signal
import sys
import textwrap
import time
from typing import Protocol

import pytest
from example_processes import TIMEOUT, Program

from corosync.testing import Node

#: What every program starts with: its imports and a few words the scripts share.
PRELUDE = '''\
import os
import select
import signal
import sys
import time

from corosync import sam
from corosync.sam import RecoveryPolicy as Policy


def say(text):
    """One line, in one write: the processes share the pipe."""
    sys.stdout.write(text + "\\n")
    sys.stdout.flush()


def say_in_handler(text):
    """say() for signal handlers, straight to the fd: the handler may run inside say()."""
    os.write(sys.stdout.fileno(), (text + "\\n").encode())


def registered():
    """sam.register(), announced by the child: its instance number, pid and supervisor."""
    n = sam.register()
    say(f"instance {n} pid {os.getpid()} supervisor {os.getppid()}")
    return n


def send_checks_forever():
    while True:
        sam.hc_send()
        time.sleep(0.05)


def hang():
    """No more health checks: the supervisor's warn signal and SIGKILL end this process."""
    while True:
        time.sleep(1)


def command():
    """The next line on stdin (one at a time), with a health check every 50 ms meanwhile
    when started."""
    while not select.select([sys.stdin], [], [], 0.05)[0]:
        if sam.state() is sam.State.STARTED:
            sam.hc_send()
    return sys.stdin.readline().strip()

'''

INSTANCE = re.compile(r"^instance (\d+) pid (\d+) supervisor (\d+)$")


class SamProgram(Program):
    """:data:`PRELUDE` + ``script`` (dedented) run by Python inside ``node``'s namespace;
    ``proc.pid`` is the supervisor's pid once the script has called ``registered()``.

    Its stdout is buffered, as for any program writing to a pipe, whatever this process's
    PYTHONUNBUFFERED says (unbuffered, print() writes a line and its newline apart, and the
    lines of the processes would mix)."""

    def __init__(self, node: Node, script: str, *args: str) -> None:
        source = PRELUDE + textwrap.dedent(script)
        # env(1) execs Python in place: the program's pid stays the supervisor's.
        argv = ["env", "-u", "PYTHONUNBUFFERED", sys.executable, "-c", source, *args]
        super().__init__(node, argv, python=True)

    def instances(self) -> dict[int, int]:
        """The pid of every instance announced so far, by instance number; each announced
        its supervisor, which must be the program's first process."""
        found: dict[int, int] = {}
        for line in self.lines:
            if match := INSTANCE.match(line):
                n, pid, supervisor = (int(group) for group in match.groups())
                assert supervisor == self.proc.pid, line
                found[n] = pid
        return found

    def wait_instance(self, n: int) -> int:
        """The pid of instance ``n``, waiting for its announcement."""
        self.wait_for(rf"^instance {n} pid \d+ supervisor \d+$")
        return self.instances()[n]

    def index(self, pattern: str) -> int:
        """Where the first line matching ``pattern`` is in :attr:`lines` (waiting for it)."""
        self.wait_for(pattern)
        regex = re.compile(pattern)
        return next(i for i, line in enumerate(self.lines) if regex.search(line))

    def matching(self, pattern: str) -> list[str]:
        """The lines so far that match ``pattern``."""
        regex = re.compile(pattern)
        return [line for line in self.lines if regex.search(line)]

    def close(self) -> None:
        # The supervisor first, so that it starts no new child; then whatever child is left
        # (one that ignores the SIGTERM its supervisor's death sends it).
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pid in self.instances().values():
            if running(pid):
                os.kill(pid, signal.SIGKILL)
        super().close()


class StartSam(Protocol):
    """Starts a SAM program on a node (the ``start_sam`` fixture)."""

    def __call__(self, node: Node, script: str, *args: str) -> SamProgram: ...


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (an orphan's zombie waits for
    whatever reaps orphans here)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except FileNotFoundError:
        return False
    return stat[stat.rfind(b")") + 2 :][:1] != b"Z"


def wait_gone(pid: int) -> None:
    """Wait until process ``pid`` no longer exists (reaped: ``os.kill(pid, 0)`` raises
    ProcessLookupError); fail after TIMEOUT seconds."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"process {pid} still exists after {TIMEOUT} s")
        time.sleep(0.05)


def wait_not_running(pid: int) -> None:
    """Wait until process ``pid`` has ended (gone, or a zombie); fail after TIMEOUT seconds."""
    deadline = time.monotonic() + TIMEOUT
    while running(pid):
        if time.monotonic() > deadline:
            pytest.fail(f"process {pid} still runs after {TIMEOUT} s")
        time.sleep(0.05)
