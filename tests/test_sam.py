"""corosync.sam (issue 18) on a one-node cluster: processes supervised and restarted by
corosync's SAM library, each a real program (sam_programs) whose processes' lines the tests
read. A child is restarted with its stored data; the QUIT policy ends the supervisor with the
child's status; event-driven checks keep a child alive or fail it; the warn signal comes
before the kill; the CMAP flag publishes the state; a signal to the supervisor ends its child
too; the fork runs Python's fork hooks. The test process itself never initializes SAM (the
wrong calls are in test_sam_calls.py)."""

from __future__ import annotations

import hashlib
import signal
from collections.abc import Callable, Iterator

import pytest
from sam_programs import StartSam, running, wait_gone, wait_not_running

import corosync
from corosync.testing import Node

Published = Callable[[int], dict[str, object]]


@pytest.fixture
def published(cmap: corosync.CMAP) -> Iterator[Published]:
    """Reads what SAM publishes for a supervisor pid (``resources.process.<pid>.*``, the
    values by the last part of their key); removes what is left of it after the test."""
    pids: set[int] = set()

    def read(pid: int) -> dict[str, object]:
        pids.add(pid)
        prefix = f"resources.process.{pid}."
        return {key.removeprefix(prefix): cmap.get(key).value for key in cmap.keys(prefix)}

    yield read
    for pid in pids:
        for key in list(cmap.keys(f"resources.process.{pid}.")):
            cmap.delete(key)


# --- restart and the stored data -----------------------------------------------------------


def test_a_child_that_stops_its_checks_is_restarted_with_its_stored_data(
    start_sam: StartSam, corosync_node: Node
) -> None:
    program = start_sam(
        corosync_node,
        r"""
        sam.initialize(300, Policy.RESTART)
        sam.data_store(b"stored before register")
        n = registered()
        say(f"instance {n} restored {sam.data_restore()!r} size {sam.data_size()}")
        if n == 1:
            sam.data_store(bytearray(b"from 1 \x00\xff"))
        elif n == 2:
            sam.data_store(memoryview(b"<<ffrroomm  22>>")[2:-2:2])  # not contiguous
            try:
                sam.data_store("a str")
            except TypeError as e:
                say(f"TypeError: {e}")
            say(f"instance 2 kept {sam.data_restore()!r}")
        elif n == 3:
            sam.data_store(None)
            say(f"instance 3 cleared: {sam.data_restore()!r} size {sam.data_size()}")
        else:
            sam.finalize()
            sys.exit(0)
        sam.start()
        hang()
        """,
    )
    assert program.finish() == 0, program.lines
    stored = [b"stored before register", b"from 1 \x00\xff", b"from 2", b""]
    assert program.matching(r"^instance \d+ restored ") == [
        f"instance {n} restored {data!r} size {len(data)}" for n, data in enumerate(stored, 1)
    ]
    assert program.matching("^TypeError: ") == [
        "TypeError: data must be bytes-like or None, not str"
    ]
    assert f"instance 2 kept {b'from 2'!r}" in program.lines
    assert f"instance 3 cleared: {b''!r} size 0" in program.lines
    pids = program.instances()
    assert sorted(pids) == [1, 2, 3, 4]
    assert len(set(pids.values()) | {program.proc.pid}) == 5


def test_megabytes_of_stored_data_reach_the_next_instance(
    start_sam: StartSam, corosync_node: Node
) -> None:
    program = start_sam(
        corosync_node,
        """
        import hashlib

        sam.initialize(300, Policy.RESTART)
        n = registered()
        data = sam.data_restore()
        say(f"instance {n} restored {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
        if n == 2:
            sam.finalize()
            sys.exit(0)
        sam.data_store(bytes(range(256)) * 16384)
        sam.start()
        hang()
        """,
    )
    assert program.finish() == 0, program.lines
    data = bytes(range(256)) * 16384
    assert program.matching(r"^instance 2 restored") == [
        f"instance 2 restored {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}"
    ]


@pytest.mark.parametrize("ending", ["sam.stop()", "sam.finalize()"])
def test_a_child_exiting_while_started_is_restarted_and_one_ending_cleanly_ends_it(
    start_sam: StartSam, corosync_node: Node, ending: str
) -> None:
    program = start_sam(
        corosync_node,
        f"""
        sam.initialize(300, Policy.RESTART)
        n = registered()
        sam.start()
        if n == 1:
            sys.exit(0)  # still started: a failure
        {ending}
        sys.exit(3)
        """,
    )
    assert program.finish() == 3, program.lines
    assert sorted(program.instances()) == [1, 2]


# --- the QUIT policy ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ending", "state_left"),
    [("sam.stop()", None), ("sam.finalize()", None), ("pass  # still started", "failed")],
    ids=["stopped", "finalized", "started"],
)
def test_under_quit_the_supervisor_exits_with_the_status_of_its_child(
    start_sam: StartSam,
    corosync_node: Node,
    published: Published,
    ending: str,
    state_left: str | None,
) -> None:
    program = start_sam(
        corosync_node,
        f"""
        sam.initialize(300, Policy.QUIT | Policy.CMAP)
        n = registered()
        sam.start()
        sam.hc_send()
        {ending}
        sys.exit(40 + n)
        """,
    )
    assert program.finish() == 41, program.lines
    assert list(program.instances()) == [1]
    # A clean end removes the keys; a failure leaves state "failed".
    keys = published(program.proc.pid)
    assert keys.get("state") == state_left, keys
    if state_left is None:
        assert keys == {}


def test_under_quit_a_child_that_stops_its_checks_ends_the_supervisor(
    start_sam: StartSam, corosync_node: Node, published: Published
) -> None:
    program = start_sam(
        corosync_node,
        """
        sam.initialize(300, Policy.QUIT | Policy.CMAP)
        n = registered()
        sam.start()
        say(f"instance {n} started")
        command()
        hang()
        """,
    )
    pid = program.wait_instance(1)
    program.wait_for("^instance 1 started$")
    keys = published(program.proc.pid)
    assert (keys["state"], keys["recovery"], keys["poll_period"]) == ("running", "quit", 300)
    program.type("hang")
    # The warn signal (SIGTERM) kills it: libsam's exit status for a child killed by a signal.
    assert program.finish() == 0, program.lines
    assert list(program.instances()) == [1]
    wait_gone(pid)
    assert published(program.proc.pid)["state"] == "failed"


# --- event-driven health checks and the warn signal ---------------------------------------


def test_a_health_check_callback_keeps_a_child_alive_until_it_fails(
    start_sam: StartSam, corosync_node: Node
) -> None:
    program = start_sam(
        corosync_node,
        """
        sam.initialize(300, Policy.RESTART)
        n = registered()
        if n == 3:
            sam.finalize()
            sys.exit(0)
        asked = 0

        def check():
            global asked
            asked += 1
            say(f"instance {n} check {asked}")
            if asked <= 3:
                return None if asked % 2 else True
            if n == 1:
                raise RuntimeError("instance 1's check fails")
            return False

        sam.set_hc_callback(lambda: False)  # replaced by the next call
        sam.set_hc_callback(check)
        sam.start()
        hang()  # no hc_send: the callback's checks alone
        """,
    )
    assert program.finish() == 0, program.lines
    assert sorted(program.instances()) == [1, 2, 3]
    for n in (1, 2):
        # Passed three times (once per interval): still the same instance; failed once, and
        # never asked again.
        assert program.matching(rf"^instance {n} check") == [
            f"instance {n} check {i}" for i in (1, 2, 3, 4)
        ]
        assert program.index(f"^instance {n} check 4$") < program.index(rf"^instance {n + 1} pid")
    # The exception went to sys.unraisablehook, whose default prints it on stderr.
    unraisable = program.index(r"^Exception ignored in: <function check at ")
    raised = program.index(r"^RuntimeError: instance 1's check fails$")
    assert program.index("^instance 1 check 4$") < unraisable < raised
    assert raised < program.index(r"^instance 2 pid")
    assert len(program.matching("^Exception ignored in")) == 1


def test_a_health_check_callback_that_takes_longer_than_the_interval_fails_the_check(
    start_sam: StartSam, corosync_node: Node
) -> None:
    program = start_sam(
        corosync_node,
        """
        sam.initialize(300, Policy.RESTART)
        n = registered()
        if n == 2:
            sam.finalize()
            sys.exit(0)

        def check():
            say(f"instance {n} check")
            time.sleep(3600)

        sam.set_hc_callback(check)
        sam.start()
        hang()
        """,
    )
    assert program.finish() == 0, program.lines
    assert sorted(program.instances()) == [1, 2]
    assert program.index("^instance 1 check$") < program.index(r"^instance 2 pid")


def test_the_warn_signal_comes_before_the_kill(start_sam: StartSam, corosync_node: Node) -> None:
    program = start_sam(
        corosync_node,
        """
        sam.initialize(300, Policy.RESTART)
        n = registered()

        def warned(signum, frame):
            say_in_handler(f"instance {n} got {signal.Signals(signum).name}")

        signal.signal(signal.SIGUSR1, warned)
        if n == 1:
            sam.set_warn_signal(signal.SIGUSR1)  # kept by the supervisor for later instances
        if n == 3:
            sam.finalize()
            sys.exit(0)
        sam.start()
        hang()  # the handler returns: SIGKILL follows
        """,
    )
    assert program.finish() == 0, program.lines
    assert sorted(program.instances()) == [1, 2, 3]
    assert program.matching("got SIGUSR") == ["instance 1 got SIGUSR1", "instance 2 got SIGUSR1"]
    order = [
        program.index("^instance 1 got SIGUSR1$"),
        program.index(r"^instance 2 pid"),
        program.index("^instance 2 got SIGUSR1$"),
        program.index(r"^instance 3 pid"),
    ]
    assert order == sorted(order)


# --- the CMAP flag ------------------------------------------------------------------------


def test_cmap_shows_the_state_and_mark_failed_leaves_it_failed(
    start_sam: StartSam, corosync_node: Node, published: Published
) -> None:
    program = start_sam(
        corosync_node,
        """
        sam.initialize(500, Policy.RESTART | Policy.CMAP)
        registered()
        for i in range(1, 100):
            line = command()
            getattr(sam, line)()
            say(f"{i}: {line} done")
        """,
    )
    pid = program.wait_instance(1)
    supervisor = program.proc.pid
    assert published(supervisor) == {"recovery": "restart", "poll_period": 500, "state": "stopped"}
    program.type("start")
    program.wait_for("^1: start done$")
    keys = published(supervisor)
    assert keys["state"] == "running"
    assert isinstance(keys["last_updated"], int) and keys["last_updated"] > 0
    program.type("stop")
    program.wait_for("^2: stop done$")
    assert published(supervisor)["state"] == "stopped"
    program.type("start")
    program.wait_for("^3: start done$")
    assert published(supervisor)["state"] == "running"

    # The supervisor kills it and quits, RESTART or not.
    program.type("mark_failed")
    assert program.finish() == 0, program.lines  # the child was killed by a signal
    assert list(program.instances()) == [1]
    wait_gone(pid)
    assert published(supervisor)["state"] == "failed"


# --- stopping the supervisor --------------------------------------------------------------


@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name
)
def test_a_signal_to_the_supervisor_ends_it_and_its_child(
    start_sam: StartSam, corosync_node: Node, published: Published, signum: signal.Signals
) -> None:
    program = start_sam(
        corosync_node,
        """
        sam.initialize(500, Policy.RESTART | Policy.CMAP)
        n = registered()
        sam.start()
        say(f"instance {n} started")
        send_checks_forever()
        """,
    )
    pid = program.wait_instance(1)
    program.wait_for("^instance 1 started$")
    assert published(program.proc.pid)["state"] == "running"
    program.proc.send_signal(signum)
    assert program.finish() == 128 + signum, program.lines
    assert list(program.instances()) == [1]  # no new child
    wait_gone(pid)
    assert published(program.proc.pid) == {}


def test_a_second_signal_kills_a_child_that_ignores_the_first(
    start_sam: StartSam, corosync_node: Node
) -> None:
    program = start_sam(
        corosync_node,
        """
        sam.initialize(500, Policy.RESTART)
        n = registered()
        signal.signal(signal.SIGTERM, lambda *_: say_in_handler(f"instance {n} ignores SIGTERM"))
        sam.start()
        say(f"instance {n} started")
        send_checks_forever()
        """,
    )
    pid = program.wait_instance(1)
    program.wait_for("^instance 1 started$")
    program.proc.send_signal(signal.SIGTERM)
    program.wait_for("^instance 1 ignores SIGTERM$")
    assert running(pid)
    program.proc.send_signal(signal.SIGTERM)
    assert program.finish() == 128 + signal.SIGTERM, program.lines
    assert list(program.instances()) == [1]
    wait_gone(pid)


def test_a_child_gets_sigterm_when_its_supervisor_dies(
    start_sam: StartSam, corosync_node: Node
) -> None:
    # The interval is far longer than the test: the supervisor's own warn signal cannot be
    # what the child gets.
    program = start_sam(
        corosync_node,
        """
        sam.initialize(600000, Policy.RESTART)
        n = registered()

        def on_sigterm(signum, frame):
            say_in_handler(f"instance {n} got SIGTERM, parent now {os.getppid()}")
            os._exit(0)

        signal.signal(signal.SIGTERM, on_sigterm)
        sam.start()
        say(f"instance {n} started")
        hang()
        """,
    )
    pid = program.wait_instance(1)
    program.wait_for("^instance 1 started$")
    program.proc.kill()
    program.proc.wait()
    parent = program.wait_for(r"^instance 1 got SIGTERM, parent now (\d+)$").group(1)
    assert int(parent) != program.proc.pid
    wait_not_running(pid)  # an orphan: whatever reaps orphans here reaps it


# --- the fork -----------------------------------------------------------------------------


def test_register_refuses_to_fork_while_another_thread_runs(
    start_sam: StartSam, corosync_node: Node
) -> None:
    program = start_sam(
        corosync_node,
        """
        import threading

        sam.initialize(300, Policy.QUIT)
        release = threading.Event()
        helper = threading.Thread(target=release.wait, name="helper-thread")
        helper.start()
        try:
            sam.register()
        except RuntimeError as e:
            say(f"{type(e).__name__}: {e}")
        say(f"state {sam.state().name}")
        release.set()
        helper.join()
        n = registered()  # usable once the thread is gone
        say(f"instance {n} state {sam.state().name}")
        sys.exit(0)
        """,
    )
    assert program.finish() == 0, program.lines
    assert program.lines[0] == (
        "RuntimeError: sam.register() forks, and other Python threads are running: helper-thread"
    )
    assert program.lines[1] == "state INITIALIZED"
    assert list(program.instances()) == [1]
    assert program.lines[-1] == "instance 1 state REGISTERED"


def test_fork_hooks_run_in_the_supervisor_and_each_child_and_atexit_only_in_children(
    start_sam: StartSam, corosync_node: Node
) -> None:
    program = start_sam(
        corosync_node,
        """
        import atexit

        os.register_at_fork(
            before=lambda: say(f"before fork in {os.getpid()}"),
            after_in_parent=lambda: say(f"after fork in parent {os.getpid()}"),
            after_in_child=lambda: say(f"after fork in child {os.getpid()}"),
        )
        atexit.register(lambda: say(f"atexit in {os.getpid()}"))
        sam.initialize(300, Policy.RESTART)
        n = registered()
        sam.start()
        if n == 1:
            sys.exit(0)  # still started: a failure, and a second fork
        sam.finalize()
        sys.exit(0)
        """,
    )
    assert program.finish() == 0, program.lines
    supervisor, pids = program.proc.pid, program.instances()
    assert sorted(pids) == [1, 2]
    assert program.matching(f"fork in (parent )?{supervisor}$") == 2 * [
        f"before fork in {supervisor}",
        f"after fork in parent {supervisor}",
    ]
    assert program.matching("^after fork in child") == [
        f"after fork in child {pids[1]}",
        f"after fork in child {pids[2]}",
    ]
    assert program.matching("^atexit") == [f"atexit in {pids[1]}", f"atexit in {pids[2]}"]
    # Each child runs its hook before register() returns to it; the second fork follows the
    # first child's exit.
    assert program.index(f"^after fork in child {pids[1]}$") < program.index(r"^instance 1 pid")
    assert program.index(f"^after fork in child {pids[2]}$") < program.index(r"^instance 2 pid")
    second_fork = [i for i, line in enumerate(program.lines) if line.startswith("before fork")][1]
    assert program.index(f"^atexit in {pids[1]}$") < second_fork


def test_register_flushes_what_was_printed_before_it(
    start_sam: StartSam, corosync_node: Node
) -> None:
    program = start_sam(
        corosync_node,
        """
        print("printed before register")  # stdout is a pipe: buffered, not written yet
        sam.initialize(300, Policy.RESTART)
        n = registered()
        sam.start()
        if n == 1:
            sys.exit(0)
        sam.finalize()
        sys.exit(0)
        """,
    )
    assert program.finish() == 0, program.lines
    assert sorted(program.instances()) == [1, 2]
    # Not copied into each child's buffer, to be written again at its exit.
    assert program.matching("^printed before register$") == ["printed before register"]
    assert program.lines[0] == "printed before register"
