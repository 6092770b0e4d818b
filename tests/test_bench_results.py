"""The bench's statistics (bench/results.py), without a cluster: the interval its notes
give for a median ratio, and the notes that carry it."""

from __future__ import annotations

import math

import pytest
from bench.results import Sample, details, median_interval, ratio_row


def outside_chance(n: int, k: int) -> float:
    """The chance that the population median lies outside the k-th lowest and k-th highest
    of n values: twice P(Binomial(n, 1/2) < k)."""
    return 2 * sum(math.comb(n, i) for i in range(k)) / (1 << n)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_too_few_values_give_no_interval(n: int) -> None:
    # Even the lowest and highest of 5 miss the median 2/32 of the time: more than 5 %.
    assert median_interval([float(i) for i in range(n)]) is None


def test_six_values_give_their_lowest_and_highest() -> None:
    assert median_interval([0.9, 1.2, 0.8, 1.0, 1.1, 0.95]) == (0.8, 1.2)


@pytest.mark.parametrize("n", [6, 7, 11, 21, 41, 100])
def test_the_interval_is_the_narrowest_with_95_percent(n: int) -> None:
    values = [float(i) for i in range(n)]  # the k-th lowest is k - 1
    interval = median_interval(values)
    assert interval is not None
    low, high = interval
    k = int(low) + 1
    assert high == n - k, "symmetric: the k-th lowest and the k-th highest"
    assert outside_chance(n, k) <= 0.05
    assert outside_chance(n, k + 1) > 0.05, "one rank further in would miss the 95 %"


def test_the_values_order_does_not_matter() -> None:
    values = [0.93, 0.71, 1.02, 0.88, 0.97, 0.91, 1.15, 0.85, 0.9, 0.96, 0.89]
    assert median_interval(values) == median_interval(sorted(values)) == (0.85, 1.02)


def test_other_confidences_widen_or_narrow_it() -> None:
    values = [float(i) for i in range(41)]
    assert median_interval(values, confidence=0.99) == (11.0, 29.0)
    assert median_interval(values, confidence=0.95) == (13.0, 27.0)
    assert median_interval(values, confidence=0.5) == (17.0, 23.0)


def samples(ratios: list[float]) -> list[Sample]:
    return [Sample(c=100.0, binding=100.0 * r, floor=100.0) for r in ratios]


def test_a_row_of_six_rounds_or_more_notes_and_keeps_the_interval() -> None:
    row = ratio_row("k", "work", "msg/s", samples([0.9, 1.2, 0.8, 1.0, 1.1, 0.95]))
    assert row.ratio_interval == pytest.approx((0.8, 1.2))
    assert "rounds 0.80 to 1.20, median 95 % in 0.80 to 1.20" in row.note
    # binding ÷ floor is the same ratio here (the floor equals C).
    assert "binding ÷ floor: 0.97 (95 % in 0.80 to 1.20)" in row.note


def test_a_row_of_fewer_rounds_notes_only_their_spread() -> None:
    row = ratio_row("k", "work", "msg/s", samples([0.9, 1.2, 0.8]))
    assert row.ratio_interval is None
    assert row.note == "rounds 0.80 to 1.20; binding ÷ floor: 0.90"
    assert "95 %" not in row.note
    assert details(samples([0.9])) == "binding ÷ floor: 0.90"
