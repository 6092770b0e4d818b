"""The binding side of the bench: the same work as cpg_bench.c, through ``corosync.CPG``.

    cpg_bench.py send SIZE COUNT BATCH [WINDOW]
                                         as cpg_bench.c (BATCH > 1 uses CPG.mcast_many;
                                         WINDOW is the handle's send_window_messages)
    cpg_bench.py sender SIZE COUNT       as cpg_bench.c
    cpg_bench.py recv COUNT              as cpg_bench.c
    cpg_bench.py dispatch COUNT          as cpg_bench.c
    cpg_bench.py rss COUNT               binding only: RSS after 10% of COUNT 64-byte
                                         sends and at the end (the send loop of `send`)
    cpg_bench.py threads THREADS COUNT   binding only: THREADS threads send COUNT 64-byte
                                         messages in all on one handle, one thread dispatches

Run as a script inside a node's namespace (it imports nothing from the bench package).
Every loop keeps the shape of its twin in cpg_bench.c; single-threaded handles use
``retry_timeout=0`` so that CS_ERR_TRY_AGAIN (and a full send window) comes back at once as
TryAgainError, which is dispatched and retried as the C program does. One JSON line of
results on stdout; a failure is a traceback and exit status 1.
"""

from __future__ import annotations

import json
import os
import select
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from corosync import CPG, DispatchFlags, TryAgainError

GROUP = "cpg-bench"
#: Seconds without an event after which a wait gives up.
STALL_SECONDS = 60.0
ALL = DispatchFlags.ALL

McastMany = Callable[[Sequence[bytes]], int]


class Counter:
    """What a deliver callback counts (a slot, not a dict: it is bumped per message)."""

    __slots__ = ("first", "last", "n", "target")

    def __init__(self, target: int = 0) -> None:
        self.n = 0
        self.target = target
        self.first = 0.0
        self.last = 0.0


#: Sends answered with TryAgainError (CS_ERR_TRY_AGAIN, or the send window full).
try_again = Counter()


def fail(message: str) -> NoReturn:
    raise SystemExit(f"cpg_bench.py: {message}")


def positive(text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        fail(f"{name} must be a positive integer, got {text!r}")
    return value


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)


def wait_and_dispatch(cpg: CPG) -> None:
    """Block until the fd is readable, then dispatch what is queued (C: poll + ALL)."""
    if not select.select([cpg.fileno()], [], [], STALL_SECONDS)[0]:
        fail(f"nothing from corosync for {STALL_SECONDS:.0f} s")
    cpg.dispatch(ALL)


def join(cpg: CPG) -> None:
    """Join GROUP and wait for the confchg that reports this process joined."""
    me = cpg.local_address
    joined = False

    def confchg(group: str | bytes, members: Any, left: Any, joined_list: Any) -> None:
        nonlocal joined
        joined = joined or any((a.nodeid, a.pid) == me for a in joined_list)

    cpg.on_confchg = confchg
    cpg.join(GROUP)
    while not joined:
        wait_and_dispatch(cpg)


Deliver = Callable[[str | bytes, int, int, bytes], None]


def own_counter(nodeid_me: int, pid_me: int) -> tuple[Counter, Deliver]:
    """A deliver callback counting the messages of (nodeid_me, pid_me), and its counter.
    The bench's C worker built with BENCH_PYTHON_CALLBACK calls this same callback."""
    own = Counter()

    def deliver(group: str | bytes, nodeid: int, pid: int, message: bytes) -> None:
        if pid == pid_me and nodeid == nodeid_me:
            own.n += 1

    return own, deliver


def count_own(cpg: CPG) -> Counter:
    """Install a deliver callback counting this process's own messages; return its counter."""
    own, cpg.on_deliver = own_counter(*cpg.local_address)
    return own


def mcast_one(cpg: CPG, message: bytes) -> None:
    """Send one message; on TryAgainError dispatch and try again (C: mcast_one)."""
    while True:
        try:
            cpg.mcast(message)
            return
        except TryAgainError:
            try_again.n += 1
            cpg.dispatch(ALL)


def send_each(cpg: CPG, own: Counter, message: bytes, count: int) -> None:
    """One mcast, one dispatch, COUNT times; then wait for the last own delivery."""
    target = own.n + count
    for _ in range(count):
        mcast_one(cpg, message)
        cpg.dispatch(ALL)
    while own.n < target:
        wait_and_dispatch(cpg)


def send_batched(cpg: CPG, own: Counter, message: bytes, count: int, batch: int) -> None:
    """mcast_many of BATCH messages, one dispatch, ...; then wait for the last delivery."""
    mcast_many: McastMany | None = getattr(cpg, "mcast_many", None)
    if mcast_many is None:
        fail("this corosync binding has no CPG.mcast_many")
    target = own.n + count
    full = [message] * batch
    sent = 0
    while sent < count:
        pending = full if count - sent >= batch else full[: count - sent]
        while pending:
            try:
                done = mcast_many(pending)
            except TryAgainError as e:
                try_again.n += 1
                done = int(getattr(e, "sent", 0))
                cpg.dispatch(ALL)
            pending = pending[done:]
            sent += done
        cpg.dispatch(ALL)
    while own.n < target:
        wait_and_dispatch(cpg)


def send_loop(mode: str, cpg: CPG, own: Counter, size: int, count: int, batch: int) -> None:
    message = b"x" * size
    start, cpu_start = time.perf_counter(), time.process_time()
    if batch == 1:
        send_each(cpg, own, message, count)
    else:
        send_batched(cpg, own, message, count, batch)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    emit(
        {
            "mode": mode,
            "messages": count,
            "bytes": count * size,
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
            "try_again": try_again.n,
            # The CPUs it may run on: the row whose client has a CPU of its own checks it.
            "cpus": sorted(os.sched_getaffinity(0)),
        }
    )


def wait_for_line() -> None:
    if not sys.stdin.readline():
        fail("stdin closed before the go line")


def mode_send(args: list[str]) -> None:
    if len(args) not in (3, 4):
        fail("usage: send SIZE COUNT BATCH [WINDOW]")
    size, count = positive(args[0], "SIZE"), positive(args[1], "COUNT")
    batch = positive(args[2], "BATCH")
    window = positive(args[3], "WINDOW") if len(args) == 4 else None
    handle = (
        CPG(retry_timeout=0)
        if window is None
        else CPG(retry_timeout=0, send_window_messages=window)
    )
    with handle as cpg:
        own = count_own(cpg)
        join(cpg)
        send_loop("send", cpg, own, size, count, batch)


def mode_sender(args: list[str]) -> None:
    if len(args) != 2:
        fail("usage: sender SIZE COUNT")
    size, count = positive(args[0], "SIZE"), positive(args[1], "COUNT")
    with CPG(retry_timeout=0) as cpg:
        own = count_own(cpg)
        join(cpg)
        emit({"event": "ready"})
        wait_for_line()
        send_loop("sender", cpg, own, size, count, 1)


def mode_recv(args: list[str]) -> None:
    if len(args) != 1:
        fail("usage: recv COUNT")
    counter = Counter(positive(args[0], "COUNT"))

    def deliver(group: str | bytes, nodeid: int, pid: int, message: bytes) -> None:
        counter.n += 1
        if counter.n == 1:
            counter.first = time.perf_counter()
        if counter.n == counter.target:
            counter.last = time.perf_counter()

    with CPG(retry_timeout=0) as cpg:
        cpg.on_deliver = deliver
        join(cpg)
        emit({"event": "ready"})
        while counter.n < counter.target:
            wait_and_dispatch(cpg)
        seconds = counter.last - counter.first
        emit({"mode": "recv", "messages": counter.target, "seconds": seconds})
        # Stay a member until told (see cpg_bench.c).
        sys.stdin.read()


def mode_dispatch(args: list[str]) -> None:
    if len(args) != 1:
        fail("usage: dispatch COUNT")
    count = positive(args[0], "COUNT")
    counter = Counter()

    def deliver(group: str | bytes, nodeid: int, pid: int, message: bytes) -> None:
        counter.n += 1

    message = b"x" * 64
    # The send window must hold every message: none is dispatched until all were sent.
    window_bytes = max(32 << 20, 2 * count * len(message))
    with CPG(
        retry_timeout=0, send_window_messages=2 * count, send_window_bytes=window_bytes
    ) as cpg:
        cpg.on_deliver = deliver
        join(cpg)
        for _ in range(count):
            while True:
                try:
                    cpg.mcast(message)
                    break
                except TryAgainError:  # not dispatching is the point: wait out corosync
                    try_again.n += 1
                    time.sleep(0.001)
        emit({"event": "sent"})
        wait_for_line()
        start, cpu_start = time.perf_counter(), time.process_time()
        while counter.n < count:
            wait_and_dispatch(cpg)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        result = {"mode": "dispatch", "events": count, "seconds": seconds}
        emit({**result, "cpu_seconds": cpu_seconds, "try_again": try_again.n})


def rss_kib() -> int:
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") // 1024


def mode_rss(args: list[str]) -> None:
    if len(args) != 1:
        fail("usage: rss COUNT")
    count = positive(args[0], "COUNT")
    first = max(1, count // 10)
    message = b"x" * 64
    with CPG(retry_timeout=0) as cpg:
        own = count_own(cpg)
        join(cpg)
        send_each(cpg, own, message, first)
        at_first = rss_kib()
        send_each(cpg, own, message, count - first)
        at_end = rss_kib()
    emit({"mode": "rss", "messages": count, "rss_first_kib": at_first, "rss_end_kib": at_end})


def mode_threads(args: list[str]) -> None:
    if len(args) != 2:
        fail("usage: threads THREADS COUNT")
    threads, count = positive(args[0], "THREADS"), positive(args[1], "COUNT")
    message = b"x" * 64
    errors: list[BaseException] = []
    # Senders wait for the dispatcher when the send window is full: a generous timeout.
    with CPG(retry_timeout=30.0) as cpg:
        own = count_own(cpg)
        join(cpg)
        start_line = threading.Barrier(threads + 1)

        def guarded(work: Callable[[], None]) -> Callable[[], None]:
            def run() -> None:
                try:
                    work()
                except BaseException as e:
                    errors.append(e)
                    start_line.abort()

            return run

        def dispatcher() -> None:
            while own.n < count and not errors:
                if select.select([cpg.fileno()], [], [], 1.0)[0]:
                    cpg.dispatch(ALL)

        def sender(n: int) -> Callable[[], None]:
            def send() -> None:
                start_line.wait()
                for _ in range(n):
                    cpg.mcast(message)

            return send

        shares = [count // threads + (i < count % threads) for i in range(threads)]
        workers = [threading.Thread(target=guarded(sender(n))) for n in shares]
        dispatching = threading.Thread(target=guarded(dispatcher))
        dispatching.start()
        for w in workers:
            w.start()
        try:
            start_line.wait()
        except threading.BrokenBarrierError:
            pass
        start, cpu_start = time.perf_counter(), time.process_time()
        for w in [*workers, dispatching]:
            w.join()
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        if errors:
            raise errors[0]
    result = {"mode": "threads", "threads": threads, "messages": count, "seconds": seconds}
    emit({**result, "cpu_seconds": cpu_seconds})


MODES: dict[str, Callable[[list[str]], None]] = {
    "send": mode_send,
    "sender": mode_sender,
    "recv": mode_recv,
    "dispatch": mode_dispatch,
    "rss": mode_rss,
    "threads": mode_threads,
}


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in MODES:
        fail(f"usage: cpg_bench.py {'|'.join(MODES)} ARGS...")
    MODES[argv[0]](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
