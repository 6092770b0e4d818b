"""What the rounds produce: a :class:`Sample` per row and round, a :class:`Row` per row
(medians over the rounds), and the figures computed from a worker's result line."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .workers import BenchError

#: A worker's result line.
Result = dict[str, Any]


@dataclass
class Sample:
    """One round of a row: the C (or reference) figure, the binding's, and what the
    workers printed, by side."""

    c: float | None
    binding: float | None
    raw: dict[str, Result] = field(default_factory=dict)
    #: The binding worker's process CPU time per unit of work ÷ the C (or reference)
    #: worker's, when both measured it: less shaken than wall time by a busy machine.
    cpu: float | None = None
    #: The same for the cluster's daemons (all three, while the workers ran): how much more
    #: work corosync does per message when the binding is its client.
    daemons_cpu: float | None = None
    #: The floor worker's figure (the C program calling the binding worker's Python
    #: callback), in the rows that run it.
    floor: float | None = None


@dataclass
class Row:
    """One line of the table; figures are medians over the rounds, ``None`` is "—"."""

    key: str
    work: str
    unit: str
    c: float | None
    binding: float | None
    ratio: float | None
    note: str = ""
    #: Printed before a figure when its column is not C, or not the binding alone.
    c_label: str = ""
    binding_label: str = ""
    samples: list[Sample] = field(default_factory=list)
    #: The median of the rounds' floor ÷ C, in the rows that run the floor worker: the
    #: best ratio a Python binding running the same callback reaches on this machine.
    floor_ratio: float | None = None
    #: Where the median of ``ratio`` lies with 95 % confidence (:func:`median_interval`),
    #: from 6 rounds on.
    ratio_interval: tuple[float, float] | None = None


def _rate(result: Result, amount: str, scale: float = 1.0) -> float:
    seconds = float(result["seconds"])
    if seconds <= 0:
        raise BenchError(f"a worker timed its work as {seconds} s: {result!r}")
    return float(result[amount]) / seconds / scale


def messages_per_s(result: Result) -> float:
    return _rate(result, "messages")


def mb_per_s(result: Result) -> float:
    return _rate(result, "bytes", 1e6)


def events_per_s(result: Result) -> float:
    return _rate(result, "events")


def ops_per_s(result: Result) -> float:
    return _rate(result, "ops")


def cpu_ratio(reference: Result, measured: Result, of: str = "cpu_seconds") -> float | None:
    """CPU time per message (or event, or op) of ``measured`` ÷ that of ``reference``; ``of``
    names the result's CPU figure (the worker's own, or ``daemons_cpu_seconds``)."""

    def per_unit(result: Result) -> float | None:
        units = result.get("messages") or result.get("events") or result.get("ops")
        cpu = result.get(of)
        return float(cpu) / float(units) if cpu and units else None

    a, b = per_unit(reference), per_unit(measured)
    return b / a if a and b else None


def median(values: Iterable[float | None]) -> float | None:
    """The median of the values present, or None if there are none."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


#: The confidence of the interval the notes give for a median ratio.
CONFIDENCE = 0.95


def median_interval(
    values: Sequence[float], confidence: float = CONFIDENCE
) -> tuple[float, float] | None:
    """An interval that holds the median of the rounds' population with at least
    ``confidence``, whatever their distribution: the k-th lowest and k-th highest value,
    with the largest k for which the chance of a median outside them (twice the binomial
    tail P(Binomial(n, 1/2) < k)) stays within 1 - confidence. None when no k does: with
    fewer than 6 values at 95 %, as rounds of this bench need. Single rounds here spread by
    ±15 % and more, so a median of 3 tells little on its own; this says how little."""
    n = len(values)
    tail = 0.0  # P(Binomial(n, 1/2) < k)
    k = 0
    while k < n // 2:
        below = tail + math.comb(n, k) / (1 << n)
        if 2 * below > 1 - confidence:
            break
        tail, k = below, k + 1
    if k == 0:
        return None
    ordered = sorted(values)
    return ordered[k - 1], ordered[n - k]


def interval_text(values: Sequence[float]) -> str:
    """``95 % in A to B`` for :func:`median_interval` of ``values``; empty without one."""
    interval = median_interval(values)
    if interval is None:
        return ""
    return f"{CONFIDENCE * 100:.0f} % in {interval[0]:.2f} to {interval[1]:.2f}"


def ratios(samples: list[Sample]) -> list[float]:
    """Each round's binding ÷ C, for the rounds that have both."""
    return [s.binding / s.c for s in samples if s.binding is not None and s.c]


def floor_ratios(samples: list[Sample]) -> list[float]:
    """Each round's floor ÷ C, for the rounds that have both."""
    return [s.floor / s.c for s in samples if s.floor is not None and s.c]


def binding_floor_ratios(samples: list[Sample]) -> list[float]:
    """Each round's binding ÷ floor, for the rounds that have both."""
    return [s.binding / s.floor for s in samples if s.binding is not None and s.floor]


def spread(samples: list[Sample]) -> str:
    """How far the rounds' ratios went, e.g. ``rounds 0.48 to 0.55``, and from 6 rounds on
    the median's interval (:func:`median_interval`), e.g. ``median 95 % in 0.50 to 0.53``;
    empty for one round."""
    values = ratios(samples)
    if len(values) < 2:
        return ""
    text = f"rounds {min(values):.2f} to {max(values):.2f}"
    interval = interval_text(values)
    return f"{text}, median {interval}" if interval else text


def details(samples: list[Sample], reference: str = "C", per: str = "msg") -> str:
    """The note of a ratio row: how far the rounds' ratios went, and the median CPU ratios
    of the workers and of the daemons (CPU time per ``per``, the row's unit of work)."""
    parts = [spread(samples)]
    of_floor = binding_floor_ratios(samples)
    if of_floor:
        text = f"binding ÷ floor: {statistics.median(of_floor):.2f}"
        interval = interval_text(of_floor)
        parts.append(f"{text} ({interval})" if interval else text)
    cpu = median(s.cpu for s in samples)
    if cpu is not None:
        parts.append(f"CPU/{per} ÷ {reference}: {cpu:.2f}")
    daemons = median(s.daemons_cpu for s in samples)
    if daemons is not None:
        parts.append(f"daemons' CPU/{per} ÷ {reference}: {daemons:.2f}")
    return "; ".join(part for part in parts if part)


def ratio_row(
    key: str, work: str, unit: str, samples: list[Sample], note: str | None = None, per: str = "msg"
) -> Row:
    """Medians of each column, and the median of the per-round ratios binding ÷ C (each
    round's two figures were measured one right after the other). The note is
    :func:`details` (CPU time per ``per``) unless one is given."""
    values = ratios(samples)
    return Row(
        key=key,
        work=work,
        unit=unit,
        c=median([s.c for s in samples]),
        binding=median([s.binding for s in samples]),
        ratio=median(values),
        note=details(samples, per=per) if note is None else note,
        samples=samples,
        floor_ratio=median(floor_ratios(samples)),
        ratio_interval=median_interval(values),
    )
