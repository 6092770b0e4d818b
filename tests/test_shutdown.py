"""The interpreter exits cleanly while daemon threads are inside the binding: blocked in
dispatch, sending, or running a callback that releases the GIL. (Python 3.11-3.13 end such
threads with pthread_exit during finalization, which aborts a careless extension.)"""

from __future__ import annotations

import subprocess
import sys

import pytest

from corosync.testing import Node, python_env

PROGRAM = """
import sys, threading, time
import corosync

mode = sys.argv[1]
slow = (lambda *args: time.sleep(0.005)) if mode == "slow-callback" else (lambda *args: None)
cpg = corosync.CPG(on_deliver=slow)
cpg.join("shutdown-" + mode)
threading.Thread(
    target=cpg.dispatch, args=(corosync.DispatchFlags.BLOCKING,), daemon=True
).start()

def send() -> None:
    while True:
        cpg.mcast(b"x" * 100)

if mode != "idle":
    threading.Thread(target=send, daemon=True).start()
time.sleep(0.3)
print("exiting", flush=True)
"""


@pytest.mark.parametrize("mode", ["idle", "sending", "slow-callback"])
def test_exit_with_daemon_threads_in_the_binding_is_clean(corosync_node: Node, mode: str) -> None:
    for attempt in range(10):
        process = corosync_node.popen(
            [sys.executable, "-c", PROGRAM, mode],
            env=python_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, f"attempt {attempt}: exit {process.returncode}\n{err}"
        assert out == "exiting\n"
