"""The order audit (tests/order_audit.py) on a real three-node cluster: members stream
numbered messages while nodes are killed and restarted and the cluster is partitioned and
healed, twice; then under a degraded network (5 % loss and 20 ms of delay on every node's
link). Each node runs twins: a member using the binding and one calling libcpg directly.

On a clean network the audit must find corosync's promise kept: no mismatch, nothing lost.
On the lossy one, corosync itself does not keep all of it: when rings re-form during
recovery, a node at times skips some of a sender's messages (or a join) that the others
delivered, though the sender stayed in its view. The libcpg twins show the same lapses, and
the daemons' logs show why (a message asked for again and again, then the token lost in
RECOVERY twice); see docs/cpg.md. So there the test requires what still holds (one total
order, no message from outside the ring) and that every binding member had exactly the events
its libcpg twin had: the binding adds and loses nothing, whatever corosync does."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from order_audit import AuditReport, MemberLog, audit, run_audit

from corosync.config import Config
from corosync.testing import Cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster(3, token_ms=1000) as c:
        yield c


def _looked_at_real_traffic(report: AuditReport, members: int) -> None:
    print(report.summary())
    for mismatch in report.mismatches:
        print(mismatch)
    # Real traffic in several configurations, and every pair of twins compared on it.
    assert report.messages_sent > 500 and report.configurations >= 5, report.summary()
    assert report.members == members and report.twins == members // 2, report.summary()
    assert report.twin_events > 500, report.summary()


def test_virtual_synchrony_holds_through_kills_partitions_and_heals(
    cluster: Cluster, tmp_path: Path
) -> None:
    report = run_audit(cluster, tmp_path, cycles=2, twins=True)
    assert report.faults == Counter({"node kills": 2, "partitions": 2})
    _looked_at_real_traffic(report, members=10)
    assert report.mismatches == [], report.summary()
    # Members moved on together and their epochs were compared.
    assert report.compared >= 4, report.summary()


def _tolerating_loss(text: str) -> str:
    # With token 1000 ms corosync gives knet a ping every 250 ms and a 500 ms pong timeout
    # (token / knet_pong_count: exec/totemconfig.c, totem_calc_knet_ping_timers), so two lost
    # pings in a row take a link down. At 5 % loss each way that is every few seconds on one
    # of the six directed pairs, and the links' flapping kept a restarted node from rejoining
    # within two minutes in a CI run. A 2 s timeout needs eight lost pings in a row; the
    # token's own 1 s timeout still finds a dead node. corosync.conf(5): set the pair together.
    config = Config(text)
    config.set("totem.interface.0.knet_ping_interval", 250)
    config.set("totem.interface.0.knet_ping_timeout", 2000)
    return config.text()


def test_the_binding_delivers_what_libcpg_does_on_a_lossy_slow_network(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.reset()
    # Kept for the module's later rewrites; this is the module's last cluster test.
    cluster.reconfigure(edit=_tolerating_loss)
    for nodeid in (1, 2, 3):
        cluster.degrade(nodeid, loss=0.05, delay=0.02)
    try:
        # Rings re-form slowly there: a CI run saw the two nodes of a partition retransmit
        # for the whole minute the views had, then re-form.
        report = run_audit(cluster, tmp_path, cycles=1, settle=3.0, twins=True, timeout=120.0)
    finally:
        cluster.heal()
    # (Also counted there: configurations whose views stayed short of a member.)
    assert report.faults["node kills"] == 1 and report.faults["partitions"] == 1, report
    _looked_at_real_traffic(report, members=8)
    held = report.of_kinds("binding vs libcpg", "one order", "ring order")
    assert held == [], report.summary()


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


def test_the_audit_finds_twins_that_differ() -> None:
    both: list[object] = ["c", ["1/1", "1/2"]]
    binding = MemberLog.parse(_log("1/1", both, ["d", "1/1", 1], ["d", "1/2", 1], ["end"]))
    libcpg = MemberLog.parse(_log("1/2", both, ["d", "1/2", 1], ["d", "1/1", 1], ["end"]))
    report = audit([binding, libcpg], Counter(), twins=[(0, 1)])
    assert report.of_kinds("binding vs libcpg") != [], report.mismatches
    # The binding member lost the last message though both lived to the end.
    short = MemberLog.parse(_log("1/1", both, ["d", "1/1", 1], ["end"]))
    longer = MemberLog.parse(_log("1/2", both, ["d", "1/1", 1], ["d", "1/2", 1], ["end"]))
    report = audit([short, longer], Counter(), twins=[(0, 1)])
    assert [m for m in report.of_kinds("binding vs libcpg") if "lived to the end" in m]


def test_twins_that_agree_pass_though_their_ends_differ() -> None:
    ring: list[object] = ["t", [1, 4], [1, 2]]
    both: list[object] = ["c", ["1/1", "1/2", "2/3"]]
    shared: list[list[object]] = [["d", "2/3", 1], ["t", [1, 8], [1, 2]], ["d", "1/1", 1]]
    binding = MemberLog.parse(_log("1/1", ring, both, *shared, ["end"]))
    # libcpg reported the ring again after its join (the ring at the join), and saw the
    # binding member end (a confchg) before its own end.
    libcpg = MemberLog.parse(_log("1/2", ring, both, ring, *shared, ["c", ["1/2"]], ["end"]))
    report = audit([binding, libcpg], Counter(), twins=[(0, 1)])
    assert report.mismatches == [] and report.twin_events == 4, report


def test_the_audit_finds_a_message_from_outside_the_ring() -> None:
    a = MemberLog.parse(
        _log("1/1", ["t", [1, 8], [1, 2]], ["c", ["1/1"]], ["t", [1, 12], [1]], ["d", "2/2", 5])
    )
    report = audit([a], Counter())
    assert [m.split(":")[0] for m in report.mismatches] == ["ring order"], report.mismatches
