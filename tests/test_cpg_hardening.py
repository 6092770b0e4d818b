"""CPG defects found by review and AddressSanitizer, each against a real one-node cluster:
rejoining from the confchg of one's own leave, ONE dispatch that ran no callback, a sender
that never dispatches, a handle inherited by a forked child, and errno failures."""

from __future__ import annotations

import asyncio
import ctypes
import errno
import gc
import os
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable

import pytest
from conftest import CpgFactory
from cpg_events import Recorder, joined, pump

import corosync
from corosync import DispatchFlags, aio
from corosync.cpg import Address, Reason
from corosync.testing import Node, python_env


def own_leave(left: list[Address]) -> bool:
    return any(a.pid == os.getpid() and a.reason == Reason.LEAVE for a in left)


class TestRejoin:
    def test_rejoining_from_the_confchg_of_ones_own_leave_works(
        self, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg, recorder = joined(open_cpg, group)
        rejoined: list[bool] = []

        def on_confchg(
            g: str | bytes, members: list[Address], left: list[Address], joined: list[Address]
        ) -> None:
            recorder.on_confchg(g, members, left, joined)
            if own_leave(left) and not rejoined:
                cpg.join(group)  # the natural pattern: leave, then come back at once
                rejoined.append(True)

        cpg.on_confchg = on_confchg
        cpg.leave(group)
        pump([cpg], lambda: len(recorder.confchgs(group)) == 3, what="leave, then rejoin")
        assert rejoined == [True]
        last = recorder.confchgs(group)[-1]
        assert [(a.pid, a.reason) for a in last.joined] == [(os.getpid(), Reason.JOIN)]
        cpg.mcast(b"back")
        pump([cpg], lambda: recorder.messages(group) == [b"back"])
        assert [a.pid for a in cpg.membership(group)] == [os.getpid()]

    def test_rejoining_and_leaving_in_a_loop_from_callbacks(
        self, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg, recorder = joined(open_cpg, group)
        rounds: list[int] = []

        def on_confchg(
            g: str | bytes, members: list[Address], left: list[Address], joined: list[Address]
        ) -> None:
            recorder.on_confchg(g, members, left, joined)
            if own_leave(left) and len(rounds) < 5:
                rounds.append(1)
                cpg.join(group)
            elif any(a.pid == os.getpid() for a in joined) and len(rounds) < 5:
                cpg.leave(group)

        cpg.on_confchg = on_confchg
        cpg.leave(group)
        pump([cpg], lambda: len(rounds) == 5 and len(recorder.confchgs(group)) == 11)
        assert [a.pid for a in cpg.membership(group)] == [os.getpid()]


class TestDispatchOne:
    def test_one_runs_a_callback_even_for_a_fragmented_message(
        self, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg, recorder = joined(open_cpg, group)
        cpg.mcast(b"x" * (3 << 20))  # about four fragments
        cpg.dispatch(DispatchFlags.ONE)
        assert recorder.messages() == [b"x" * (3 << 20)]

    def test_one_nonblocking_never_runs_two_callbacks(
        self, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg, recorder = joined(open_cpg, group)
        cpg.mcast(b"x" * (3 << 20))
        cpg.mcast(b"small")
        seen: list[int] = []
        while len(recorder.messages()) < 2:
            before = len(recorder.events)
            select.select([cpg], [], [], 10)
            cpg.dispatch(DispatchFlags.ONE_NONBLOCKING)
            seen.append(len(recorder.events) - before)
        assert max(seen) == 1
        assert recorder.messages() == [b"x" * (3 << 20), b"small"]


def churning_member(node: Node, group: str) -> subprocess.Popen[bytes]:
    """A process that joins and leaves `group` over and over (a confchg every few ms) until
    it is terminated; it prints a line once it has joined the first time."""
    program = (
        "import sys, time\n"
        "import corosync\n"
        "first = True\n"
        "while True:\n"
        "    with corosync.CPG() as cpg:\n"  # closing it leaves the group
        "        cpg.join(sys.argv[1])\n"
        "        if first:\n"
        "            print('churning', flush=True)\n"
        "            first = False\n"
        "        time.sleep(0.003)\n"
    )
    churner = node.popen(
        [sys.executable, "-c", program, group], stdout=subprocess.PIPE, env=python_env()
    )
    assert churner.stdout is not None and churner.stdout.readline() == b"churning\n"
    return churner


def send_blocking(cpg: corosync.CPG, messages: list[bytes]) -> None:
    for message in messages:
        cpg.mcast(message)
        cpg.dispatch(DispatchFlags.ALL)


def send_from_asyncio(cpg: corosync.CPG, messages: list[bytes]) -> None:
    async def send() -> None:
        for message in messages:
            await aio.mcast(cpg, message)  # with retry_timeout=0 underneath

    asyncio.run(send())


class TestFragmentedSends:
    @pytest.mark.parametrize("send", [send_blocking, send_from_asyncio])
    def test_a_large_message_is_sent_whole_through_confchgs(
        self,
        open_cpg: CpgFactory,
        group: str,
        corosync_node: Node,
        send: Callable[[corosync.CPG, list[bytes]], None],
    ) -> None:
        # corosync refuses the rest of a fragmented send (CS_ERR_INTERRUPT) when the group's
        # membership changes during it; the message is sent again whole, and arrives once.
        cpg, recorder = joined(open_cpg, group)
        churner = churning_member(corosync_node, group)
        # 8 x 3 MiB: under the 32 MiB send window, which a thread that sends without
        # dispatching in between would fill (then TryAgainError, as documented).
        big = [bytes([i]) * (3 << 20) for i in range(8)]
        try:
            send(cpg, big)
            pump([cpg], lambda: len(recorder.messages()) == len(big), timeout=60)
        finally:
            churner.terminate()
            churner.communicate()
        assert recorder.messages() == big
        # The membership did change while they were sent.
        assert len(recorder.confchgs(group)) > 4


def daemon_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class TestSendWindow:
    def test_a_sender_that_never_dispatches_cannot_grow_the_daemon(
        self, corosync_node: Node, open_cpg: CpgFactory, group: str
    ) -> None:
        assert corosync_node.pid is not None
        cpg, recorder = joined(open_cpg, group, retry_timeout=0.5)
        payload = b"p" * 65536
        before = daemon_rss_kib(corosync_node.pid)
        sent = 0
        with pytest.raises(corosync.TryAgainError) as info:
            for _ in range(4000):  # 250 MiB: far more than the window lets through
                cpg.mcast(payload)
                sent += 1
        assert info.value.function == "cpg_mcast_joined"
        assert cpg.flow_control_enabled
        grown_mib = (daemon_rss_kib(corosync_node.pid) - before) / 1024
        assert sent * len(payload) <= cpg.send_window_bytes
        # corosync keeps a few copies of a queued message (totem, the IPC event queue): the
        # bound is a small multiple of the window, against 250 MiB and more without one.
        assert grown_mib < 4 * cpg.send_window_bytes / (1 << 20) + 32
        # Every accepted message arrives once the sender dispatches, and the window opens.
        pump([cpg], lambda: len(recorder.messages()) == sent, timeout=60)
        assert not cpg.flow_control_enabled
        cpg.mcast(b"after")
        pump([cpg], lambda: len(recorder.messages()) == sent + 1)

    def test_the_message_window_holds_small_messages_too(
        self, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg, recorder = joined(open_cpg, group, retry_timeout=0, send_window_messages=10)
        for i in range(10):
            cpg.mcast(b"%d" % i)
        with pytest.raises(corosync.TryAgainError):
            cpg.mcast(b"one too many")
        pump([cpg], lambda: len(recorder.messages()) == 10)
        cpg.mcast(b"10")
        pump([cpg], lambda: len(recorder.messages()) == 11)
        assert recorder.messages() == [b"%d" % i for i in range(11)]

    def test_a_callback_may_send_into_the_room_its_own_delivered_message_made(
        self, open_cpg: CpgFactory, group: str
    ) -> None:
        # An echo: each message back frees its room in the window at once, inside the C
        # dispatch call that delivers it, not once that call has returned.
        cpg, recorder = joined(open_cpg, group, retry_timeout=0, send_window_messages=4)
        record = recorder.on_deliver

        def echo(group_name: str | bytes, nodeid: int, pid: int, message: bytes) -> None:
            record(group_name, nodeid, pid, message)
            if message.startswith(b"m"):
                cpg.mcast(b"r" + message[1:])  # TryAgainError if the window were still full

        cpg.on_deliver = echo
        sent = [b"m%d" % i for i in range(4)]
        for message in sent:
            cpg.mcast(message)
        pump([cpg], lambda: len(recorder.messages()) == 8)
        assert recorder.messages() == sent + [b"r%d" % i for i in range(4)]

    def test_a_message_larger_than_the_byte_window_goes_when_nothing_is_outstanding(
        self, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg, recorder = joined(open_cpg, group, retry_timeout=0, send_window_bytes=1024)
        cpg.mcast(b"b" * 4096)
        with pytest.raises(corosync.TryAgainError):
            cpg.mcast(b"c")
        pump([cpg], lambda: len(recorder.messages()) == 1)
        cpg.mcast(b"c")
        pump([cpg], lambda: len(recorder.messages()) == 2)

    def test_a_sender_waits_for_another_thread_to_dispatch(
        self, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg, recorder = joined(open_cpg, group, send_window_messages=4)
        count = 200
        dispatcher = threading.Thread(
            target=lambda: pump([cpg], lambda: len(recorder.messages()) == count, timeout=60)
        )
        dispatcher.start()
        for i in range(count):
            cpg.mcast(b"%d" % i)
        dispatcher.join()
        assert recorder.messages() == [b"%d" % i for i in range(count)]

    @pytest.mark.parametrize(
        ("option", "value"),
        [("send_window_messages", 0), ("send_window_bytes", 0), ("send_window_messages", -1)],
    )
    def test_a_window_below_one_raises_value_error(
        self, open_cpg: CpgFactory, option: str, value: int
    ) -> None:
        with pytest.raises(ValueError, match=option):
            open_cpg(**{option: value})

    def test_close_wakes_a_sender_waiting_for_the_window(
        self, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg, _ = joined(open_cpg, group, send_window_messages=1, retry_timeout=600)
        cpg.mcast(b"fills the window")
        outcome: list[BaseException] = []

        def send() -> None:
            try:
                cpg.mcast(b"waits")
            except BaseException as e:
                outcome.append(e)

        sender = threading.Thread(target=send)
        sender.start()
        while cpg.flow_control_enabled is False:  # the sender is waiting for the window
            time.sleep(0.01)
        cpg.close()
        sender.join(30)
        assert not sender.is_alive()
        assert len(outcome) == 1 and isinstance(outcome[0], corosync.ClosedError)


def stopped(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "T"


def ran_while_stuck(pid: int, finished: threading.Event) -> int:
    """For a second, how many of this thread's 10 ms turns at running Python came while the
    daemon `pid` was stopped and another thread, stuck behind it, had not `finished`. Were
    the GIL held where that thread is stuck, none would until the watchdog continued the
    daemon."""
    ran = 0
    for _ in range(100):
        time.sleep(0.01)
        if stopped(pid) and not finished.is_set():
            ran += 1
    return ran


class TestFinalizeWithoutTheGil:
    def test_collecting_a_handle_of_a_stalled_daemon_does_not_stop_other_threads(
        self, corosync_node: Node, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = corosync_node.connect(corosync.CPG)
        cpg.join(group)
        ref = weakref.ref(cpg)
        holder = [cpg]
        del cpg
        with stopped_daemon_ctx(corosync_node) as pid:
            finished = threading.Event()

            def collect() -> None:
                holder.clear()  # the last reference: finalizes while the daemon is stopped
                finished.set()

            thread = threading.Thread(target=collect)
            thread.start()
            # The other thread is stuck in cpg_finalize meanwhile.
            assert ran_while_stuck(pid, finished) > 50
        thread.join(30)
        assert finished.is_set() and ref() is None


class TestSendingToAStalledDaemon:
    # libqb sends the daemon a byte per request on a socket that holds a few hundred unread
    # ones (278 with Linux's default buffer), then tries again without pause until the
    # daemon reads one. The send window's default (8192) lets far more go. The binding asks
    # the socket first and treats a full one as corosync's TRY_AGAIN.
    COUNT = 600

    def _joined(self, cpg: corosync.CPG, group: str) -> Recorder:
        recorder = Recorder()
        recorder.attach(cpg)
        cpg.join(group)
        pump([cpg], lambda: bool(recorder.confchgs()))
        return recorder

    def test_a_sender_waiting_for_a_stopped_daemon_does_not_stop_other_threads(
        self, corosync_node: Node, group: str
    ) -> None:
        with corosync_node.connect(corosync.CPG, retry_timeout=60) as cpg:
            recorder = self._joined(cpg, group)
            with stopped_daemon_ctx(corosync_node) as pid:
                sent = 0
                finished = threading.Event()

                def send() -> None:
                    nonlocal sent
                    try:
                        for i in range(self.COUNT):
                            cpg.mcast(b"%d" % i)
                            sent += 1
                    finally:
                        finished.set()

                thread = threading.Thread(target=send)
                thread.start()
                ran = ran_while_stuck(pid, finished)
                waited_at = sent
                assert ran > 50
                # It waited: the daemon had not read what came before.
                assert 0 < waited_at < self.COUNT, waited_at
            thread.join(30)  # the daemon goes on: the send's retries get through
            assert finished.is_set() and sent == self.COUNT
            # Nothing was lost: every message comes back, in order.
            pump([cpg], lambda: len(recorder.messages()) == self.COUNT)
            assert recorder.messages() == [b"%d" % i for i in range(self.COUNT)]

    @pytest.mark.parametrize("how", ["mcast", "mcast_many"])
    def test_sending_to_a_stopped_daemon_raises_try_again_instead_of_waiting_for_good(
        self, corosync_node: Node, group: str, how: str
    ) -> None:
        messages = [b"%d" % i for i in range(self.COUNT)]
        with corosync_node.connect(corosync.CPG, retry_timeout=0.2) as cpg:
            recorder = self._joined(cpg, group)
            with stopped_daemon_ctx(corosync_node):
                with pytest.raises(corosync.TryAgainError) as refused:
                    if how == "mcast":
                        for sent, message in enumerate(messages):  # noqa: B007
                            cpg.mcast(message)
                    else:
                        cpg.mcast_many(messages)
                if how == "mcast_many":
                    sent = refused.value.sent  # type: ignore[attr-defined]
                # Refused once the socket was nearly full, not at the send window's end.
                assert 0 < sent < self.COUNT, sent
            # The daemon goes on: the rest goes, and everything arrives once, in order.
            cpg.mcast_many(messages[sent:])
            pump([cpg], lambda: len(recorder.messages()) == self.COUNT)
            assert recorder.messages() == messages

    def test_aio_mcast_to_a_stopped_daemon_leaves_the_event_loop_running(
        self, corosync_node: Node, group: str
    ) -> None:
        messages = [b"%d" % i for i in range(self.COUNT)]
        with corosync_node.connect(corosync.CPG, retry_timeout=60) as cpg:
            recorder = self._joined(cpg, group)
            with stopped_daemon_ctx(corosync_node) as pid:

                async def run() -> tuple[int, int]:
                    sent = 0

                    async def send() -> None:
                        nonlocal sent
                        for message in messages:
                            await aio.mcast(cpg, message)
                            sent += 1

                    task = asyncio.create_task(send())
                    # The loop runs other tasks while the sender waits for the daemon.
                    turns = 0
                    for _ in range(50):
                        await asyncio.sleep(0.01)
                        turns += stopped(pid) and not task.done()
                    waited_at = sent
                    os.kill(pid, signal.SIGCONT)
                    await asyncio.wait_for(task, 30)
                    return turns, waited_at

                turns, waited_at = asyncio.run(run())
            assert turns > 25
            assert 0 < waited_at < self.COUNT, waited_at
            pump([cpg], lambda: len(recorder.messages()) == self.COUNT)
            assert recorder.messages() == messages


def stopped_daemon_ctx(node: Node) -> _StoppedDaemon:
    return _StoppedDaemon(node)


class _StoppedDaemon:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.watchdog: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> int:
        pid = self.node.pid
        assert pid is not None
        self.pid = pid
        self.watchdog = subprocess.Popen(["sh", "-c", f"sleep 20; kill -CONT {pid}"])
        os.kill(pid, signal.SIGSTOP)
        return pid

    def __exit__(self, *exc: object) -> None:
        os.kill(self.pid, signal.SIGCONT)
        assert self.watchdog is not None
        self.watchdog.kill()
        self.watchdog.wait()


class TestFork:
    @pytest.mark.parametrize("how", ["close", "collect", "use"])
    def test_a_forked_child_leaves_the_parents_connections_alone(
        self, corosync_node: Node, group: str, how: str
    ) -> None:
        recorder = Recorder()
        cpg = recorder.attach(corosync_node.connect(corosync.CPG))
        cpg.join(group)
        pump([cpg], lambda: bool(recorder.confchgs()))
        recorder.events.clear()
        child = os.fork()
        if child == 0:  # the child: exits with 0 only if the inherited handle behaved
            code = 1
            try:
                if how == "close":
                    cpg.close()
                    code = 0
                elif how == "collect":
                    ref = weakref.ref(cpg)
                    del cpg
                    gc.collect()
                    code = 0 if ref() is None else 2
                else:
                    assert cpg.closed
                    try:
                        cpg.mcast(b"from the child")
                    except corosync.ClosedError as e:
                        code = 0 if "fork" in str(e) else 3
            finally:
                os._exit(code)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        # The parent's handle still works: same membership, messages still flow.
        assert [a.pid for a in cpg.membership(group)] == [os.getpid()]
        cpg.mcast(b"parent")
        pump([cpg], lambda: recorder.messages() == [b"parent"])
        cpg.close()

    def test_a_child_forked_while_a_callback_runs_can_close_its_copy(
        self, corosync_node: Node, group: str
    ) -> None:
        # The parent's dispatching thread holds the handle's mutex at the fork: the child's
        # copy of that mutex stays locked forever, so closing must not take it.
        in_callback, release = threading.Event(), threading.Event()

        def deliver(g: str | bytes, nodeid: int, pid: int, message: bytes) -> None:
            in_callback.set()
            release.wait(30)

        cpg = corosync_node.connect(corosync.CPG, on_deliver=deliver)
        cpg.join(group)
        cpg.mcast(b"hold the mutex")
        dispatcher = threading.Thread(target=cpg.dispatch, args=(DispatchFlags.BLOCKING,))
        dispatcher.start()
        try:
            assert in_callback.wait(30)
            child = os.fork()
            if child == 0:
                try:
                    cpg.close()
                    os._exit(0 if cpg.closed else 1)
                finally:
                    os._exit(2)
            # A child that deadlocked would never exit: it gets 30 s, then SIGKILL.
            deadline = time.monotonic() + 30
            while (done := os.waitpid(child, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            if done[0] == 0:
                os.kill(child, signal.SIGKILL)
                os.waitpid(child, 0)
                pytest.fail("the forked child hung closing its copy of the handle")
            assert os.waitstatus_to_exitcode(done[1]) == 0
            assert [a.pid for a in cpg.membership(group)] == [os.getpid()]
        finally:
            release.set()
            cpg.close()  # ends the blocking dispatch
            dispatcher.join(30)
        assert not dispatcher.is_alive()


def drop_cap_sys_admin_in_this_thread() -> None:
    """Clears CAP_SYS_ADMIN from the calling thread's effective set (capabilities are per
    thread), so that setns(2) fails with EPERM in it."""
    libc = ctypes.CDLL(None, use_errno=True)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [(name, ctypes.c_uint32) for name in ("effective", "permitted", "inheritable")]

    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3
    assert libc.capget(ctypes.byref(header), data) == 0, os.strerror(ctypes.get_errno())
    data[0].effective &= ~(1 << 21)  # CAP_SYS_ADMIN
    assert libc.capset(ctypes.byref(header), data) == 0, os.strerror(ctypes.get_errno())


class TestOsErrors:
    def test_a_failed_setns_raises_os_error_with_its_errno(
        self, corosync_node: Node, group: str
    ) -> None:
        # The handle lives in the node's network namespace; joining from a thread elsewhere
        # opens the group's connection back there with setns, which this thread may not.
        cpg = corosync_node.connect(corosync.CPG)
        outcome: list[BaseException] = []

        def join() -> None:
            drop_cap_sys_admin_in_this_thread()
            try:
                cpg.join(group)
            except BaseException as e:
                outcome.append(e)

        try:
            thread = threading.Thread(target=join)
            thread.start()
            thread.join(30)
            assert len(outcome) == 1
            assert isinstance(outcome[0], PermissionError)  # OSError chooses it for EPERM
            assert not isinstance(outcome[0], corosync.CorosyncError)
            assert outcome[0].errno == errno.EPERM
            assert "setns" in str(outcome[0])
        finally:
            cpg.close()
