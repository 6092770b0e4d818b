"""corosync.testing gives back everything a cluster owns: /dev/shm files of daemons that died
on their own, programs started on nodes.

Real daemons, root needed; like tests/test_testing_harness.py these tests observe the cluster
from outside (``/proc``, ``/dev/shm``, the lock files), not through the binding.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from corosync.testing import Cluster, python_env
from corosync.testing._resources import shm_entries


def _state(pid: int) -> str:
    """The one-letter state of process ``pid`` from /proc ('' once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return ""
    return stat[stat.rindex(b")") + 2 :][:1].decode()


def _wait_until(condition: object, what: str, timeout: float = 10.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_close_removes_shm_of_a_daemon_that_died_on_its_own() -> None:
    cluster = Cluster(1)
    try:
        pid = cluster.node(1).pid
        assert pid is not None
        assert shm_entries(pid), "expected the daemon's blackbox files in /dev/shm"
        # A crash the harness did not cause: it must notice it by itself. Wait for the
        # zombie without asking the harness anything, so that close() is what reaps it.
        os.kill(pid, signal.SIGKILL)
        _wait_until(lambda: _state(pid) == "Z", f"daemon {pid} to be a zombie")
    finally:
        cluster.close()
    assert shm_entries(pid) == [], f"/dev/shm files of daemon {pid} left behind"


def test_node_alive_notices_a_crash_and_removes_its_shm() -> None:
    with Cluster(1) as cluster:
        node = cluster.node(1)
        pid = node.pid
        assert pid is not None and shm_entries(pid)
        os.kill(pid, signal.SIGKILL)
        _wait_until(lambda: not node.alive, f"the harness to notice daemon {pid} died")
        assert shm_entries(pid) == []


def test_close_stops_programs_started_on_a_node() -> None:
    with Cluster(1) as cluster:
        node = cluster.node(1)
        # One that exits on SIGTERM, one that must be SIGKILLed, one that already exited.
        polite = node.popen(["sleep", "600"])
        stubborn = node.popen(["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"])
        done = node.popen(["true"])
        done.wait(timeout=10)
        # sh sets the trap before its loop: until then SIGTERM would still kill it.
        _wait_until(lambda: _ignores_sigterm(stubborn.pid), "the shell to ignore SIGTERM")
    assert polite.returncode == -signal.SIGTERM
    assert stubborn.returncode == -signal.SIGKILL
    assert done.returncode == 0
    for proc in (polite, stubborn):
        assert _state(proc.pid) == "", f"process {proc.pid} still exists"


def _ignores_sigterm(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    ignored = int(next(s for s in status.splitlines() if s.startswith("SigIgn:")).split()[1], 16)
    return bool(ignored & (1 << (signal.SIGTERM - 1)))


def test_garbage_collection_stops_programs_started_on_a_node() -> None:
    cluster = Cluster(1)
    proc = cluster.node(1).popen(["sleep", "600"], stdout=subprocess.DEVNULL)
    finalizer = cluster._finalizer
    del cluster
    # The finalizer is what both garbage collection and atexit run.
    finalizer()
    assert not finalizer.alive
    assert proc.returncode == -signal.SIGTERM


# For the scripts below: until `ip netns exec` has exec'd sleep, the program's command line
# is ip's, and a check that the sleep is gone would pass for the wrong reason.
WAIT_FOR_SLEEP = (
    "import time\n"
    "while open(f'/proc/{proc.pid}/cmdline', 'rb').read() != b'sleep\\x00600\\x00':\n"
    "    time.sleep(0.01)\n"
)


def test_interpreter_exit_stops_programs_started_on_a_node(tmp_path: Path) -> None:
    script = tmp_path / "leave_it_running.py"
    script.write_text(
        "import subprocess\n"
        "from corosync.testing import Cluster\n"
        "cluster = Cluster(1)\n"
        "# Not on our pipes: a survivor holding them open would hang subprocess.run.\n"
        "quiet = {'stdout': subprocess.DEVNULL, 'stderr': subprocess.DEVNULL}\n"
        "proc = cluster.node(1).popen(['sleep', '600'], **quiet)\n"
        f"{WAIT_FOR_SLEEP}"
        "print(proc.pid, flush=True)\n"
        "# No close(): the cluster is still referenced when the interpreter exits.\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script)], env=python_env(), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    pid = int(proc.stdout)
    # Gone, or its pid already reused by a process that is not that sleep.
    assert _cmdline(pid) != b"sleep\x00600\x00", f"program {pid} outlived the interpreter"


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_programs_of_a_killed_test_process_are_stopped_by_the_next_cluster(
    tmp_path: Path,
) -> None:
    script = tmp_path / "die_hard.py"
    script.write_text(
        "import os, subprocess\n"
        "from corosync.testing import Cluster\n"
        "cluster = Cluster(1)\n"
        "quiet = {'stdout': subprocess.DEVNULL, 'stderr': subprocess.DEVNULL}\n"
        "proc = cluster.node(1).popen(['sleep', '600'], **quiet)\n"
        f"{WAIT_FOR_SLEEP}"
        "print(proc.pid, flush=True)\n"
        "os.kill(os.getpid(), 9)  # no close(), no finalizer, no atexit\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script)], env=python_env(), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == -9, proc.stderr
    pid = int(proc.stdout)
    assert _cmdline(pid) == b"sleep\x00600\x00", "the program should have survived its owner"
    try:
        # A new cluster reclaims what dead holders of subnet locks left behind.
        with Cluster(1):
            pass
        assert _cmdline(pid) != b"sleep\x00600\x00", f"program {pid} was not reclaimed"
    finally:
        if _cmdline(pid) == b"sleep\x00600\x00":
            os.kill(pid, signal.SIGKILL)
