"""CS_ERR_TRY_AGAIN and the handle's retry_timeout, against a real daemon.

corosync's own flow control refuses a flooding sender for a few milliseconds at a time, too
briefly to test a retry deadline. A stopped daemon (SIGSTOP) reads no requests at all: the
connection's request ring fills after a few messages and every further send is answered
CS_ERR_TRY_AGAIN until the daemon continues. That refusal lasts exactly as long as the test
wants, so both outcomes are deterministic: a refusal that outlasts retry_timeout raises
TryAgainError, and a refusal that ends within it is retried until the message goes through.

The module has a one-node cluster of its own: a stop that outlasted the token timeout would
re-form the ring, and that ring change must not reach other modules' tests."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from conftest import CpgFactory
from cpg_events import joined, pump

import corosync
from corosync.testing import Node

PAYLOAD = b"r" * 65536
# Far more 64 KiB messages than the request ring of a stopped daemon takes (it takes 16).
FLOOD = 200


def state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.001)


@contextmanager
def daemon_stopped(node: Node) -> Iterator[None]:
    pid = node.pid
    assert pid is not None, "the node's daemon is not running"
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_until(lambda: state(pid) == "T", "the daemon to stop")
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def sleeping_in_nanosleep(native_id: int) -> bool:
    """Whether the thread sleeps in nanosleep(2): inside CPG.mcast that is the retry loop's
    backoff and nothing else (64 KiB messages are not fragmented, so libcpg never sleeps)."""
    try:
        with open(f"/proc/self/task/{native_id}/wchan") as f:
            return f.read().endswith("nanosleep")
    except FileNotFoundError:
        return False  # the thread has ended


class Flood(threading.Thread):
    """Sends FLOOD numbered messages on `cpg` in a thread of its own, so that a send that
    never returns cannot hang the test (the daemon is continued in any case)."""

    def __init__(self, cpg: corosync.CPG) -> None:
        super().__init__(daemon=True)
        self.cpg = cpg
        self.sent = 0
        self.failures: list[BaseException] = []
        self.native_id_: int | None = None

    def run(self) -> None:
        self.native_id_ = threading.get_native_id()
        try:
            for i in range(FLOOD):
                self.cpg.mcast(b"%d:" % i, PAYLOAD)
                self.sent += 1
        except BaseException as e:
            self.failures.append(e)

    def retrying(self) -> bool:
        """Refused and waiting to retry."""
        return self.native_id_ is not None and sleeping_in_nanosleep(self.native_id_)


def numbered(count: int) -> list[bytes]:
    return [b"%d:" % i + PAYLOAD for i in range(count)]


@pytest.mark.parametrize("retry_timeout", [0.0, 0.1])
def test_a_refusal_that_outlasts_the_retry_timeout_raises_try_again(
    corosync_node: Node, open_cpg: CpgFactory, group: str, retry_timeout: float
) -> None:
    cpg, recorder = joined(open_cpg, group, retry_timeout=retry_timeout)
    sender = Flood(cpg)
    with daemon_stopped(corosync_node):
        sender.start()
        # The daemon stays stopped until the send gives up: it cannot succeed.
        wait_until(lambda: not sender.is_alive(), "the refused send to give up", timeout=30)
    [error] = sender.failures
    assert isinstance(error, corosync.TryAgainError)
    assert error.code == corosync.CsError.TRY_AGAIN
    assert error.function == "cpg_mcast_joined"
    assert 0 < sender.sent < FLOOD
    # What the ring took before the refusal is delivered once the daemon continues.
    pump([cpg], lambda: len(recorder.messages()) == sender.sent, timeout=60)
    cpg.mcast(b"after")
    pump([cpg], lambda: len(recorder.messages()) == sender.sent + 1)
    assert recorder.messages() == [*numbered(sender.sent), b"after"]


# 1e300 s is cut to a century: a deadline that overflowed the clock would give up at once.
@pytest.mark.parametrize("retry_timeout", [60.0, 1e300])
def test_a_refused_send_is_retried_until_corosync_takes_it(
    corosync_node: Node, open_cpg: CpgFactory, group: str, retry_timeout: float
) -> None:
    cpg, recorder = joined(open_cpg, group, retry_timeout=retry_timeout)
    sender = Flood(cpg)
    with daemon_stopped(corosync_node):
        sender.start()
        # The daemon stays stopped until the sender is refused and waits to retry; a sender
        # that does not retry gives up with TryAgainError instead, and the thread ends.
        wait_until(lambda: sender.retrying() or not sender.is_alive(), "the sender to be refused")
        assert sender.failures == [], "the refused send was not retried"
        assert 0 < sender.sent < FLOOD
    # The daemon continues: the same send goes through, and so does the rest.
    pump([cpg], lambda: len(recorder.messages()) == FLOOD, timeout=60)
    sender.join(60)
    assert sender.failures == []
    assert sender.sent == FLOOD
    assert recorder.messages() == numbered(FLOOD)


def test_a_calls_own_retry_timeout_of_zero_raises_at_once_while_corosync_refuses(
    corosync_node: Node, open_cpg: CpgFactory, group: str
) -> None:
    # The handle would retry for a minute; this one call must not wait at all.
    cpg, recorder = joined(open_cpg, group, retry_timeout=60.0)
    with daemon_stopped(corosync_node):
        sent = 0
        started = time.monotonic()
        with pytest.raises(corosync.TryAgainError):
            for i in range(FLOOD):
                cpg.mcast(b"%d:" % i, PAYLOAD, retry_timeout=0)
                sent += 1
        assert time.monotonic() - started < 10, "a zero retry_timeout waited"
        assert 0 < sent < FLOOD
        with pytest.raises(corosync.TryAgainError) as many:
            cpg.mcast_many([PAYLOAD], retry_timeout=0)
        assert getattr(many.value, "sent", None) == 0
    pump([cpg], lambda: len(recorder.messages()) == sent, timeout=60)
    assert recorder.messages() == numbered(sent)


def test_a_full_send_window_raises_at_once_with_a_calls_retry_timeout_of_zero(
    open_cpg: CpgFactory, group: str
) -> None:
    cpg, recorder = joined(open_cpg, group, retry_timeout=60.0, send_window_messages=1)
    cpg.mcast(b"first")  # fills the window until it is delivered back
    started = time.monotonic()
    with pytest.raises(corosync.TryAgainError, match="send window"):
        cpg.mcast(b"second", retry_timeout=0)
    assert time.monotonic() - started < 10
    pump([cpg], lambda: recorder.messages() == [b"first"])
    cpg.mcast(b"second", retry_timeout=0)  # delivered back: there is room again
    pump([cpg], lambda: recorder.messages() == [b"first", b"second"])


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_a_calls_retry_timeout_must_be_finite_and_not_negative(
    open_cpg: CpgFactory, group: str, bad: float
) -> None:
    cpg, _ = joined(open_cpg, group)
    with pytest.raises(ValueError, match="retry_timeout"):
        cpg.mcast(b"x", retry_timeout=bad)


@pytest.mark.parametrize("service", ["CPG", "CMAP"])
def test_every_handle_tells_its_retry_timeout(corosync_node: Node, service: str) -> None:
    handle = corosync_node.connect(getattr(corosync, service), retry_timeout=2.5)
    assert handle.retry_timeout == 2.5
    handle.close()
    with pytest.raises(corosync.ClosedError):
        handle.retry_timeout  # noqa: B018
