"""The CMAP stats map on a real one-node cluster: it lists stats.* keys with the types
corosync-cmapctl prints, its counters grow while CPG traffic flows, and writing a
stats.clear.* key clears them."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from cmap_helpers import TYPE_NAMES, cmapctl, parse_cmapctl
from conftest import CmapFactory, CpgFactory
from cpg_events import Recorder, pump

import corosync
from corosync.cmap import CmapMap, TypedValue, ValueType
from corosync.testing import Node

PID = os.getpid()
CPG_SERVICE = 2  # runtime.services.cpg.service_id
CMAP_SERVICE = 0


@pytest.fixture
def stats(open_cmap: CmapFactory) -> corosync.CMAP:
    return open_cmap(map=CmapMap.STATS)


def counter(stats: corosync.CMAP, key: str) -> int:
    value = stats.get(key)
    assert value.type in (ValueType.UINT32, ValueType.UINT64), value
    assert isinstance(value.value, int)
    return value.value


def connection_keys(stats: corosync.CMAP, service: int) -> list[str]:
    """The ``stats.ipcs.service<N>.<pid>.<connection>.`` prefixes of this process."""
    prefix = f"stats.ipcs.service{service}.{PID}."
    return sorted({key.rsplit(".", 1)[0] + "." for key in stats.keys(prefix)})


def send_and_deliver(cpg: corosync.CPG, recorder: Recorder, count: int) -> None:
    before = len(recorder.messages())
    for i in range(count):
        cpg.mcast(b"traffic %d" % i)
    pump([cpg], lambda: len(recorder.messages()) == before + count, what=f"{count} messages")


def joined_cpg(open_cpg: CpgFactory) -> tuple[corosync.CPG, Recorder]:
    recorder = Recorder()
    cpg = recorder.attach(open_cpg())
    group = f"stats-{uuid.uuid4().hex[:12]}"
    cpg.join(group)
    pump([cpg], lambda: bool(recorder.confchgs(group)), what="the join")
    return cpg, recorder


class TestListing:
    def test_the_stats_map_lists_stats_keys_only(self, stats: corosync.CMAP) -> None:
        keys = list(stats)
        assert len(keys) > 50
        assert all(key.startswith("stats.") for key in keys)
        for known in ("stats.srp.mcast_tx", "stats.srp.orf_token_rx", "stats.pg.msg_reserved"):
            assert known in keys
        assert len(stats) == len(keys)

    def test_its_values_have_the_types_cmapctl_prints(
        self, stats: corosync.CMAP, corosync_node: Node
    ) -> None:
        printed = {
            p.key: p.type_name
            for p in parse_cmapctl(cmapctl(corosync_node, "-m", "stats", "stats.srp."))
        }
        items = dict(stats.items("stats.srp."))
        assert sorted(items) == sorted(printed)
        for key, value in items.items():
            assert TYPE_NAMES[value.type] == printed[key], key

    def test_its_own_connection_is_listed(self, stats: corosync.CMAP) -> None:
        [connection] = connection_keys(stats, CMAP_SERVICE)
        # The name of the process (as the kernel truncates it) owning the connection.
        with open(f"/proc/{PID}/comm") as f:
            comm = f.read().strip()
        assert stats.get(connection + "procname") == TypedValue(ValueType.STRING, comm)

    def test_get_of_a_key_that_is_no_statistic_raises_not_exist_error(
        self, stats: corosync.CMAP
    ) -> None:
        with pytest.raises(corosync.NotExistError):
            stats.get("stats.srp.no_such_counter")
        with pytest.raises(corosync.NotExistError):
            stats.get("totem.cluster_name")


class TestCounters:
    def test_totem_counters_grow_while_cpg_traffic_flows(
        self, stats: corosync.CMAP, open_cpg: CpgFactory
    ) -> None:
        cpg, recorder = joined_cpg(open_cpg)
        before = counter(stats, "stats.srp.mcast_tx")
        send_and_deliver(cpg, recorder, 200)
        assert counter(stats, "stats.srp.mcast_tx") > before
        # Messages were delivered back to this node, so it received some too.
        assert counter(stats, "stats.srp.mcast_rx") > 0

    def test_the_cpg_connections_request_counter_counts_every_message(
        self, stats: corosync.CMAP, open_cpg: CpgFactory
    ) -> None:
        cpg, recorder = joined_cpg(open_cpg)
        # A CPG handle of this binding may hold more than one connection to corosync.
        connections = connection_keys(stats, CPG_SERVICE)
        assert connections
        before = {c: counter(stats, c + "requests") for c in connections}
        send_and_deliver(cpg, recorder, 100)
        grown = [counter(stats, c + "requests") - before[c] for c in connections]
        assert max(grown) >= 100, grown
        assert sum(counter(stats, c + "dispatched") for c in connections) >= 100

    def test_a_closed_connection_leaves_the_map(
        self, stats: corosync.CMAP, open_cpg: CpgFactory
    ) -> None:
        cpg, _ = joined_cpg(open_cpg)
        connections = connection_keys(stats, CPG_SERVICE)
        assert connections and all(c + "requests" in stats for c in connections)
        cpg.close()
        # corosync tears a connection down when it notices the disconnect.
        deadline = time.monotonic() + 10
        while connection_keys(stats, CPG_SERVICE) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert connection_keys(stats, CPG_SERVICE) == []
        assert not any(c + "requests" in stats for c in connections)


class TestClearing:
    def test_stats_clear_ipc_clears_the_connection_counters(
        self, stats: corosync.CMAP, open_cmap: CmapFactory
    ) -> None:
        busy = open_cmap()
        for _ in range(20):
            busy.get("totem.cluster_name")
        # This process's two CMAP connections: `stats` and `busy`.
        connections = connection_keys(stats, CMAP_SERVICE)
        assert len(connections) == 2
        before = {key: counter(stats, key + "requests") for key in connections}
        assert min(before.values()) >= 20
        stats.set("stats.clear.ipc", 1)
        after = {key: counter(stats, key + "requests") for key in connections}
        assert all(after[key] < 5 for key in connections), (before, after)

    def test_stats_clear_totem_restarts_the_totem_counters(
        self, stats: corosync.CMAP, open_cpg: CpgFactory
    ) -> None:
        cpg, recorder = joined_cpg(open_cpg)
        send_and_deliver(cpg, recorder, 50)
        before = counter(stats, "stats.srp.mcast_tx")
        assert before > 0
        stats["stats.clear.totem"] = 1
        assert counter(stats, "stats.srp.mcast_tx") < before
