"""Runs the bench: compiles the C workers, starts a three-node cluster, and alternates C
(and the floor worker) and binding through every row for the rounds asked for."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from corosync.testing import Cluster

from .counts import Counts
from .results import Row, Sample
from .table import figure
from .work import Work, plan
from .workers import BenchError, Workers, compile_c


@dataclass(frozen=True)
class Settings:
    rounds: int
    counts: Counts
    #: Seconds any one wait for a worker may take before the bench gives up.
    worker_timeout: float = 300.0
    #: Run only the rows whose key contains one of these (all rows when empty).
    only: tuple[str, ...] = ()


@dataclass
class Report:
    rows: list[Row]
    seconds: float


def _describe(work: Work, sample: Sample, row: Row) -> str:
    c, binding = row.c_label or "C", row.binding_label or "binding"
    floor = "" if sample.floor is None else f"floor {figure(sample.floor, row.unit)}, "
    return (
        f"{work.key}: {c} {figure(sample.c, row.unit)}, {floor}"
        f"{binding} {figure(sample.binding, row.unit)}"
    )


def run(settings: Settings, progress: Callable[[str], None]) -> Report:
    """Run every row for ``settings.rounds`` rounds; ``progress`` gets a line per step."""
    started = time.monotonic()
    works = [
        work
        for work in plan(settings.counts)
        if not settings.only or any(part in work.key for part in settings.only)
    ]
    if not works:
        raise BenchError(f"no row's key contains any of {', '.join(settings.only)}")
    samples: dict[str, list[Sample]] = {work.key: [] for work in works}
    with tempfile.TemporaryDirectory(prefix="corosync-bench-") as tmp:
        build = Path(tmp)
        programs = compile_c(build)
        names = ", ".join(program.name for program in programs.values())
        progress(f"compiled {names}; starting a 3-node cluster")
        with Cluster(3) as cluster:
            workers = Workers(cluster, programs, build, settings.worker_timeout)
            for round_no in range(1, settings.rounds + 1):
                for work in works:
                    done = samples[work.key]
                    if work.max_rounds is not None and len(done) >= work.max_rounds:
                        continue
                    begun = time.monotonic()
                    sample = work.measure(workers, binding_first=round_no % 2 == 0)
                    done.append(sample)
                    seconds = time.monotonic() - begun
                    line = _describe(work, sample, work.row([sample]))
                    progress(f"round {round_no}/{settings.rounds}: {line} ({seconds:.1f} s)")
    return Report([work.row(samples[work.key]) for work in works], time.monotonic() - started)
