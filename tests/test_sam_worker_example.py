"""examples/sam_worker.py run as a real program on a one-node cluster: it crashes on purpose
(or hangs) and corosync's SAM brings it back, each instance starting from the counter the
previous one stored, until the last instance ends cleanly with status 0."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from example_processes import TIMEOUT, Running

import corosync
from corosync.testing import Node

# Short, for the tests: an instance works for half a second (sending a check every 250 ms).
FAST = ["--crash-after", "0.5", "--interval", "1000"]


@pytest.fixture
def start_worker(corosync_node: Node) -> Iterator[Callable[..., Running]]:
    """Starts sam_worker.py with the given arguments on the one-node cluster's node; kills what
    is left of it after the test."""
    workers: list[Running] = []

    def start(*args: str) -> Running:
        workers.append(Running(corosync_node, "sam_worker.py", *FAST, *args))
        return workers[-1]

    yield start
    for worker in workers:
        worker.close()


def counters(lines: list[str], instances: int) -> list[int]:
    """The counter each instance ended at, checking that the lines are exactly what the worker
    prints: each instance starts from where the previous one ended."""
    ends = [int(m.group(1)) for line in lines if (m := re.search(r" at counter (\d+)$", line))]
    expected = []
    for n, end in enumerate(ends, 1):
        start = ends[n - 2] if n > 1 else 0
        last = "done" if n == instances else "crashing"
        expected += [f"instance {n}: counter {start}", f"instance {n}: {last} at counter {end}"]
    assert lines == expected
    return ends


def test_the_worker_comes_back_with_its_counter_after_each_crash(
    start_worker: Callable[..., Running],
) -> None:
    worker = start_worker("--instances", "3")
    assert worker.finish() == 0, worker.lines
    ends = counters(worker.lines, 3)
    assert len(ends) == 3
    assert 0 < ends[0] < ends[1] < ends[2]


def test_a_hanging_worker_is_restarted_and_its_state_is_in_cmap(
    start_worker: Callable[..., Running], cmap: corosync.CMAP
) -> None:
    worker = start_worker("--instances", "2", "--hang", "--cmap")
    prefix = f"resources.process.{worker.proc.pid}."
    worker.wait_for("^instance 1: counter 0$")
    assert cmap.get(prefix + "recovery").value == "restart"
    deadline = time.monotonic() + TIMEOUT
    while cmap.get(prefix + "state").value != "running":
        assert time.monotonic() < deadline, "the worker's state never became 'running'"
        time.sleep(0.05)
    assert worker.finish() == 0, worker.lines
    ends = counters(worker.lines, 2)
    assert 0 < ends[0] < ends[1]
    assert list(cmap.keys(prefix)) == []  # a clean end removes them
