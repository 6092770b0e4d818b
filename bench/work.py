"""The rows of the bench: what each one runs per round, on which nodes, and its figure.

Both sides of a row run the same worker mode with the same arguments, and the figure is
computed here from their result lines the same way. Adding a row is one mode in each of a
service's workers (cpg_bench.c and cpg_bench.py, cmap_bench.c and cmap_bench.py) plus its
entry in :func:`plan`; a new service also gets its entry in ``workers.WORKERS``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import corosync

from .counts import Counts
from .results import (
    Result,
    Row,
    Sample,
    cpu_ratio,
    details,
    events_per_s,
    mb_per_s,
    messages_per_s,
    ops_per_s,
    ratio_row,
)
from .workers import BenchError, Service, Side, Workers

T = TypeVar("T")


def in_order(
    binding_first: bool,
    c: Callable[[], T],
    binding: Callable[[], T],
    floor: Callable[[], T] | None = None,
) -> dict[str, T]:
    """Runs the sides of a row: C, the floor (if given), the binding, in that order or the
    reverse; returns each by side."""
    runs = [("c", c), *([("floor", floor)] if floor else []), ("binding", binding)]
    if binding_first:
        runs.reverse()
    return {side: run() for side, run in runs}


#: Seconds a worker may take to join and say it is ready.
READY_TIMEOUT = 60.0
#: RSS growth (KiB) still called flat.
FLAT_KIB = 2048


def own_cpus() -> tuple[int, int] | None:
    """The CPUs of the row whose client has a CPU of its own: the daemons' and the
    client's, the first two this process may run on; None with fewer than two."""
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[0], cpus[1]) if len(cpus) >= 2 else None


class Work(Protocol):
    """A row of the table."""

    @property
    def key(self) -> str: ...
    #: Rounds the row runs at most (None: every round).
    @property
    def max_rounds(self) -> int | None: ...
    #: Runs the row's two sides, the binding's first when ``binding_first`` (the runner
    #: alternates it between rounds, so that whatever the first run of a pair leaves behind
    #: in the daemons weighs on both sides).
    def measure(self, workers: Workers, binding_first: bool) -> Sample: ...
    def row(self, samples: list[Sample]) -> Row: ...


@dataclass
class Pair:
    """The same worker mode on node 1, C then binding (and, with ``floor``, the floor
    worker between them: the C program calling the binding worker's Python callback)."""

    key: str
    label: str
    unit: str
    args: tuple[str, ...]
    figure: Callable[[Result], float]
    #: Why the binding side cannot run in this build (the row then shows only C).
    missing_binding: str | None = None
    max_rounds: int | None = None
    #: Whose workers run the mode.
    service: Service = "cpg"
    #: The unit of work the CPU ratio is per, in the note.
    per: str = "msg"
    #: Whether the floor worker runs this row too: the batch rows, where the binding's
    #: worker runs Python per batch and per delivered message, as the floor does. (In the
    #: one-mcast rows it runs Python per send too, which the floor's C loop does not.)
    floor: bool = False
    #: Whether the workers run on a CPU of their own (the second), the three daemons on
    #: the first: a client that does not compete with the daemons for CPU.
    own_cpu: bool = False

    def measure(self, workers: Workers, binding_first: bool) -> Sample:
        cpus = own_cpus() if self.own_cpu else None
        if self.own_cpu and cpus is None:
            raise BenchError(f"{self.key} needs two CPUs, and this process may use one")
        client_cpu = cpus[1] if cpus else None

        def run(side: Side) -> Callable[[], Result]:
            return lambda: workers.run(1, side, *self.args, service=self.service, cpu=client_cpu)

        if self.missing_binding:
            raw = {"c": run("c")()}
            return Sample(self.figure(raw["c"]), None, raw)
        floor = run("floor") if self.floor else None
        with workers.daemons_on(cpus[0]) if cpus else contextlib.nullcontext():
            raw = in_order(binding_first, run("c"), run("binding"), floor)
        cpu = cpu_ratio(raw["c"], raw["binding"])
        daemons = cpu_ratio(raw["c"], raw["binding"], of="daemons_cpu_seconds")
        sample = Sample(self.figure(raw["c"]), self.figure(raw["binding"]), raw, cpu, daemons)
        if "floor" in raw:
            sample.floor = self.figure(raw["floor"])
        return sample

    def row(self, samples: list[Sample]) -> Row:
        return ratio_row(self.key, self.label, self.unit, samples, self.missing_binding, self.per)


@dataclass
class Receive:
    """A receiver on node 1 (C, then the binding) counts the 64-byte messages that C
    senders on nodes 1, 2 and 3 send at once, first delivery to last."""

    key: str
    label: str
    per_sender: int
    unit: str = "msg/s"
    max_rounds: int | None = None

    def _receive(self, workers: Workers, side: Side) -> Result:
        receiver = workers.start(1, side, "recv", str(3 * self.per_sender))
        receiver.expect("ready", READY_TIMEOUT)
        senders = [workers.start(n, "c", "sender", "64", str(self.per_sender)) for n in (1, 2, 3)]
        for sender in senders:
            sender.expect("ready", READY_TIMEOUT)
        for sender in senders:
            sender.go()
        for sender in senders:
            sender.result(workers.timeout)
            sender.finish(workers.timeout)
        result = receiver.result(workers.timeout)
        receiver.finish(workers.timeout)
        return result

    def measure(self, workers: Workers, binding_first: bool) -> Sample:
        raw = in_order(
            binding_first,
            lambda: self._receive(workers, "c"),
            lambda: self._receive(workers, "binding"),
        )
        return Sample(messages_per_s(raw["c"]), messages_per_s(raw["binding"]), raw)

    def row(self, samples: list[Sample]) -> Row:
        return ratio_row(self.key, self.label, self.unit, samples)


@dataclass
class Dispatch:
    """A worker on node 1 (C, then the binding) sends itself ``count`` messages without
    dispatching, then times dispatching them all. A C witness in the same group on the
    same node says when they are all queued: corosync hands each message to every local
    member at once, so once the witness has them all, so has the worker's queue."""

    key: str
    label: str
    count: int
    unit: str = "events/s"
    max_rounds: int | None = None

    def _dispatch(self, workers: Workers, side: Side) -> Result:
        witness = workers.start(1, "c", "recv", str(self.count))
        witness.expect("ready", READY_TIMEOUT)
        worker = workers.start(1, side, "dispatch", str(self.count))
        worker.expect("sent", workers.timeout)
        witness.result(workers.timeout)
        worker.go()
        result = worker.result(workers.timeout)
        worker.finish(workers.timeout)
        witness.finish(workers.timeout)
        return result

    def measure(self, workers: Workers, binding_first: bool) -> Sample:
        raw = in_order(
            binding_first,
            lambda: self._dispatch(workers, "c"),
            lambda: self._dispatch(workers, "binding"),
        )
        cpu = cpu_ratio(raw["c"], raw["binding"])
        return Sample(events_per_s(raw["c"]), events_per_s(raw["binding"]), raw, cpu)

    def row(self, samples: list[Sample]) -> Row:
        return ratio_row(self.key, self.label, self.unit, samples)


@dataclass
class Rss:
    """Binding only: RSS growth from 10% of ``count`` 64-byte send+self-deliver messages
    to the end. Once, whatever the rounds: it is a leak check, not a ratio."""

    key: str
    label: str
    count: int
    unit: str = "KiB"
    max_rounds: int | None = 1

    def measure(self, workers: Workers, binding_first: bool) -> Sample:
        result = workers.run(1, "binding", "rss", str(self.count))
        growth = float(result["rss_end_kib"] - result["rss_first_kib"])
        return Sample(None, growth, {"binding": result})

    def row(self, samples: list[Sample]) -> Row:
        growth = max(s.binding or 0.0 for s in samples)
        flat = "yes" if growth <= FLAT_KIB else "no"
        return Row(
            key=self.key,
            work=self.label,
            unit=self.unit,
            c=None,
            binding=growth,
            ratio=None,
            note=f"flat within {FLAT_KIB // 1024} MiB: {flat}",
            samples=samples,
        )


@dataclass
class Threads:
    """Binding vs binding: ``thread_count`` threads sending 64-byte messages on one shared
    handle while another thread dispatches, against one thread sending and dispatching
    (the binding side of the 64 B send row), measured one after the other."""

    key: str
    label: str
    count: int
    thread_count: int
    unit: str = "msg/s"
    max_rounds: int | None = None

    def measure(self, workers: Workers, binding_first: bool) -> Sample:
        # The binding side is the threads run here.
        sides = in_order(
            binding_first,
            lambda: workers.run(1, "binding", "send", "64", str(self.count), "1"),
            lambda: workers.run(1, "binding", "threads", str(self.thread_count), str(self.count)),
        )
        single, threads = sides["c"], sides["binding"]
        raw = {"single": single, "threads": threads}
        cpu = cpu_ratio(single, threads)
        return Sample(messages_per_s(single), messages_per_s(threads), raw, cpu)

    def row(self, samples: list[Sample]) -> Row:
        row = ratio_row(self.key, self.label, self.unit, samples, note="")
        holds = "yes" if row.ratio is not None and row.ratio >= 1.0 else "no"
        rest = details(samples, reference="1 thread")
        claim = "claim ≥ 1.0 (no call holds the GIL while it waits)"
        row.note = f"threads ÷ 1 thread; {claim}: {holds}"
        row.note += f"; {rest}" if rest else ""
        row.c_label = "1 thread"
        row.binding_label = f"{self.thread_count} threads"
        return row


def size_name(size: int) -> str:
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit}"
    return f"{size} B"


def plan(counts: Counts) -> list[Work]:
    """Every row, in table order."""
    rows: list[Work] = []
    for size, n in counts.send.items():
        rows.append(
            Pair(
                key=f"send-{size}",
                label=f"CPG send+self-deliver {size_name(size)}, 1 mcast/msg",
                unit="msg/s" if size < 64 << 10 else "MB/s",
                args=("send", str(size), str(n), "1"),
                figure=messages_per_s if size < 64 << 10 else mb_per_s,
            )
        )
    has_many = hasattr(corosync.CPG, "mcast_many")
    for size, n in counts.batch.items():
        rows.append(
            Pair(
                key=f"batch-{size}",
                label=f"CPG send+self-deliver {size_name(size)}, batches of {counts.batch_size}",
                unit="msg/s",
                args=("send", str(size), str(n), str(counts.batch_size)),
                figure=messages_per_s,
                missing_binding=None if has_many else "CPG.mcast_many not in this build",
                floor=True,
            )
        )
    if own_cpus() is not None:
        rows.append(
            Pair(
                key="batch-64-own-cpu",
                label=f"CPG send+self-deliver 64 B, batches of {counts.batch_size}, client on "
                f"a CPU of its own, window {counts.own_cpu_window:,} (both)",
                unit="msg/s",
                args=(
                    "send",
                    "64",
                    str(counts.own_cpu),
                    str(counts.batch_size),
                    str(counts.own_cpu_window),
                ),
                figure=messages_per_s,
                missing_binding=None if has_many else "CPG.mcast_many not in this build",
                own_cpu=True,
            )
        )
    rows.append(
        Receive(
            key="recv",
            label="CPG receive 64 B from 3 C senders on 3 nodes",
            per_sender=counts.recv_per_sender,
        )
    )
    rows.append(
        Dispatch(
            key="dispatch",
            label=f"CPG dispatch of {counts.dispatch:,} queued events, no-op callback",
            count=counts.dispatch,
        )
    )
    rows.append(
        Rss(
            key="rss",
            label=f"RSS growth over {counts.rss:,} 64 B send+self-deliver (binding only)",
            count=counts.rss,
        )
    )
    rows.append(
        Threads(
            key="threads",
            label=f"CPG 64 B: {counts.thread_count} sending threads + 1 dispatching, "
            "vs 1 thread (binding)",
            count=counts.threads,
            thread_count=counts.thread_count,
        )
    )
    for op, what in (("get", "1 key"), ("set", "1 key, a new value each time")):
        rows.append(
            Pair(
                key=f"cmap-{op}",
                label=f"CMAP {op} round trips, UINT32, {what}",
                unit="ops/s",
                args=(f"cmap_{op}", str(counts.cmap)),
                figure=ops_per_s,
                service="cmap",
                per="op",
            )
        )
    return rows
