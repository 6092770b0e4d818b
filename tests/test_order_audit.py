"""The order audit (tests/order_audit.py) on a real three-node cluster: members stream
numbered messages while nodes are killed and restarted and the cluster is partitioned and
healed, twice; then under a degraded network (5 % loss and 20 ms of delay on every node's
link). Both must show corosync's promise kept: no mismatch, nothing lost."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from order_audit import AuditReport, MemberLog, audit, run_audit

from corosync.testing import Cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster(3, token_ms=1000) as c:
        yield c


def _passes(report: AuditReport, compared: int) -> None:
    print(report.summary())
    assert report.mismatches == [], report.summary()
    # The audit looked at real traffic in several configurations.
    assert report.messages_sent > 500 and report.configurations >= 5, report.summary()
    # Members moved on together and their epochs were compared (fewer on a lossy network,
    # where configurations change more often and fewer members share the next one).
    assert report.compared >= compared, report.summary()


def test_virtual_synchrony_holds_through_kills_partitions_and_heals(
    cluster: Cluster, tmp_path: Path
) -> None:
    report = run_audit(cluster, tmp_path, cycles=2)
    assert report.faults == Counter({"node kills": 2, "partitions": 2})
    _passes(report, compared=4)


def test_it_holds_on_a_lossy_slow_network(cluster: Cluster, tmp_path: Path) -> None:
    cluster.reset()
    for nodeid in (1, 2, 3):
        cluster.degrade(nodeid, loss=0.05, delay=0.02)
    try:
        report = run_audit(cluster, tmp_path, cycles=1, settle=3.0)
    finally:
        cluster.heal()
    _passes(report, compared=1)


def _log(me: str, *events: list[object]) -> list[str]:
    import json

    return [json.dumps(e) + "\n" for e in [["me", me], *events]]


def test_the_audit_finds_a_reordering() -> None:
    a = MemberLog.parse(_log("1/1", ["c", ["1/1", "2/2"]], ["d", "1/1", 1], ["d", "2/2", 1]))
    b = MemberLog.parse(_log("2/2", ["c", ["1/1", "2/2"]], ["d", "2/2", 1], ["d", "1/1", 1]))
    report = audit([a, b], Counter())
    assert any(m.startswith("one order") for m in report.mismatches), report.mismatches


def test_the_audit_finds_a_gap_and_a_lost_message() -> None:
    a = MemberLog.parse(
        _log("1/1", ["c", ["1/1", "2/2"]], ["s", 1], ["s", 2], ["d", "1/1", 1], ["end"])
    )
    b = MemberLog.parse(
        _log("2/2", ["c", ["1/1", "2/2"]], ["d", "1/1", 1], ["d", "1/1", 3], ["end"])
    )
    report = audit([a, b], Counter())
    kinds = sorted(m.split(":")[0] for m in report.mismatches)
    assert "FIFO" in kinds and "nothing lost" in kinds, report.mismatches


def test_the_audit_finds_different_views_and_sets_of_one_configuration() -> None:
    a = MemberLog.parse(
        _log("1/1", ["c", ["1/1", "2/2"]], ["d", "1/1", 1], ["d", "1/1", 2], ["end"])
    )
    b = MemberLog.parse(_log("2/2", ["c", ["2/2"]], ["d", "1/1", 1], ["end"]))
    report = audit([a, b], Counter())
    kinds = sorted(m.split(":")[0] for m in report.mismatches)
    assert kinds == ["one view", "same messages"], report.mismatches


def test_the_audit_finds_a_message_from_outside_the_ring() -> None:
    a = MemberLog.parse(
        _log("1/1", ["t", [1, 8], [1, 2]], ["c", ["1/1"]], ["t", [1, 12], [1]], ["d", "2/2", 5])
    )
    report = audit([a], Counter())
    assert [m.split(":")[0] for m in report.mismatches] == ["ring order"], report.mismatches
