"""What the receive path's shortcuts must never show: a message reuses the bytes object of
the previous one only when nobody kept it, and a busy group cannot starve another."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

import pytest
from conftest import CpgFactory
from cpg_events import joined, pump

import corosync
from corosync.testing import Node

LARGE = 256 * 1024


def payload(tag: int, size: int = LARGE) -> bytes:
    return bytes([tag]) * size


#: One byte (CPython's shared objects, never reused), small (pymalloc's), 512 B and up
#: (malloc's), large.
REUSED_SIZES = [1, 64, 512, 1024, LARGE]


@pytest.mark.parametrize("size", REUSED_SIZES)
def test_a_kept_message_is_never_overwritten(open_cpg: CpgFactory, group: str, size: int) -> None:
    cpg, recorder = joined(open_cpg, group)  # the recorder keeps every message
    for tag in range(4):
        cpg.mcast(payload(tag, size))
    pump([cpg], lambda: len(recorder.messages()) == 4)
    assert recorder.messages() == [payload(tag, size) for tag in range(4)]


@pytest.mark.parametrize("size", REUSED_SIZES)
def test_a_message_kept_through_a_view_is_never_overwritten(
    open_cpg: CpgFactory, group: str, size: int
) -> None:
    views: list[memoryview] = []
    cpg, _ = joined(open_cpg, group)
    cpg.on_deliver = lambda _g, _n, _p, message: views.append(memoryview(message)[:16])
    for tag in range(4):
        cpg.mcast(payload(tag, size))
    pump([cpg], lambda: len(views) == 4)
    assert [bytes(v) for v in views] == [payload(tag, min(16, size)) for tag in range(4)]


@pytest.mark.parametrize("size", [*REUSED_SIZES, 1024 * 1024 + 1])
def test_a_dropped_message_hashed_in_its_callback_leaves_no_stale_hash(
    open_cpg: CpgFactory, group: str, size: int
) -> None:
    # The callback hashes each message and drops it: if its bytes object were reused with
    # the first message's cached hash, later messages would hash (and compare in dicts) wrong.
    seen: list[tuple[int, int, int]] = []

    def deliver(_group: str | bytes, _nodeid: int, _pid: int, message: bytes) -> None:
        seen.append((message[0], hash(message), id(message)))

    cpg, _ = joined(open_cpg, group)
    cpg.on_deliver = deliver
    for tag in range(6):
        cpg.mcast(payload(tag, size))
    pump([cpg], lambda: len(seen) == 6)
    assert [(tag, h) for tag, h, _ in seen] == [(tag, hash(payload(tag, size))) for tag in range(6)]


def test_a_busy_group_does_not_starve_another_on_the_same_handle(
    open_cpg: CpgFactory, group: str, corosync_node: Node
) -> None:
    busy, quiet = group + "-busy", group + "-quiet"
    cpg, recorder = joined(open_cpg, busy)
    cpg.join(quiet)
    pump([cpg], lambda: len(recorder.confchgs()) == 2)
    with quiet_group_witness(corosync_node, quiet) as witnessed:
        pump([cpg], lambda: len(recorder.confchgs()) == 3)  # the witness joined
        cpg.mcast_many([b"busy"] * 2000, group=busy)
        cpg.mcast(b"quiet", group=quiet)
        witnessed()
    while len(recorder.messages()) < 2001:
        cpg.dispatch(corosync.DispatchFlags.ONE)
    # The quiet group's message comes long before the busy group's backlog has drained.
    assert recorder.messages().index(b"quiet") < 1000


@contextlib.contextmanager
def quiet_group_witness(node: Node, group: str) -> Iterator[Callable[[], None]]:
    """A forked process in `group` (corosync refuses a second join by one process) whose
    receipt of b"quiet" tells that everything sent before it is queued for this process
    too: corosync delivers all groups' messages in one total order. Yields a function that
    waits for that receipt."""
    ready_r, ready_w = os.pipe()
    got_r, got_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        status = 1
        try:
            os.close(ready_r)
            os.close(got_r)
            child, recorded = joined(lambda: node.connect(corosync.CPG), group)
            os.write(ready_w, b"r")
            pump([child], lambda: b"quiet" in recorded.messages(), timeout=60)
            os.write(got_w, b"g")
            status = 0
        finally:
            os._exit(status)
    os.close(ready_w)
    os.close(got_w)
    try:
        assert os.read(ready_r, 1) == b"r", "the witness could not join"
        yield lambda: None if os.read(got_r, 1) == b"g" else pytest.fail("no witness receipt")
    finally:
        os.close(ready_r)
        os.close(got_r)
        os.waitpid(pid, 0)
