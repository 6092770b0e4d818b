"""Votequorum settings of corosync.testing clusters: votes per node, QuorumOptions,
QdeviceOptions, and QuorumStatus's vote fields.

What corosync made of a setting is read back with its own tools inside a node
(``corosync-cmapctl``, ``corosync-quorumtool``), and the quorum device is driven through
libvotequorum via ctypes: never through corosync's Python binding, tested elsewhere. Clusters
are few and shared by a module (each start costs seconds on a small machine).
"""

from __future__ import annotations

import ctypes
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

import corosync.testing
from corosync.testing import (
    Cluster,
    Node,
    QdeviceOptions,
    QdeviceStatus,
    QuorumOptions,
    QuorumStatus,
    config,
    options,
)


@pytest.fixture(scope="module", autouse=True)
def _require_root() -> None:
    if os.geteuid() != 0:
        pytest.fail(
            "tests/test_testing_votequorum.py starts real corosync daemons in network"
            " namespaces and must run as root",
            pytrace=False,
        )


def cmap_quorum(node: Node, prefix: str = "quorum.") -> dict[str, str]:
    """``corosync-cmapctl PREFIX`` on a node: key -> "(type) = value" as corosync holds it."""
    out = node.run(["corosync-cmapctl", prefix], check=True).stdout
    keys: dict[str, str] = {}
    for line in out.splitlines():
        key, _, rest = line.partition(" ")
        keys[key] = rest
    return keys


def status(node: Node) -> QuorumStatus:
    result = node.quorum_status()
    assert result is not None, f"node {node.nodeid} does not answer"
    return result


# --- a quorum device through libvotequorum (ctypes) -------------------------------------

_libvq = ctypes.CDLL("libvotequorum.so.8")
_CS_OK = 1


class RingId(ctypes.Structure):
    """votequorum_ring_id_t, passed by value to votequorum_qdevice_poll."""

    _fields_ = [("nodeid", ctypes.c_uint32), ("seq", ctypes.c_uint64)]


_libvq.votequorum_qdevice_poll.argtypes = [
    ctypes.c_uint64,
    ctypes.c_char_p,
    ctypes.c_uint,
    RingId,
]


class Qdevice:
    """A quorum device registered on one node, as corosync-qdevice would register it."""

    def __init__(self, node: Node, name: str) -> None:
        self.node = node
        self.name = name.encode()
        self.handle = node.connect(self._initialize)
        rc = _libvq.votequorum_qdevice_register(ctypes.c_uint64(self.handle), self.name)
        if rc != _CS_OK:
            _libvq.votequorum_finalize(ctypes.c_uint64(self.handle))
            raise AssertionError(f"votequorum_qdevice_register returned {rc}")

    @staticmethod
    def _initialize() -> int:
        handle = ctypes.c_uint64()
        callbacks = (ctypes.c_void_p * 3)()  # votequorum_callbacks_t: none
        rc = _libvq.votequorum_initialize(ctypes.byref(handle), ctypes.byref(callbacks))
        assert rc == _CS_OK, f"votequorum_initialize returned {rc}"
        return handle.value

    def poll(self, cast_vote: bool = True) -> int:
        """Poll with the node's current ring id (from corosync-quorumtool); return cs_error_t."""
        nodeid, seq = status(self.node).ring_id
        return int(
            _libvq.votequorum_qdevice_poll(self.handle, self.name, cast_vote, RingId(nodeid, seq))
        )

    def close(self) -> None:
        _libvq.votequorum_qdevice_unregister(ctypes.c_uint64(self.handle), self.name)
        _libvq.votequorum_finalize(ctypes.c_uint64(self.handle))


# --- the settings, without a cluster -----------------------------------------------------


def test_the_options_are_exported_documented_and_frozen() -> None:
    for name in ("QuorumOptions", "QdeviceOptions", "QdeviceStatus"):
        assert name in corosync.testing.__all__
        assert getattr(corosync.testing, name).__doc__
    quorum = QuorumOptions(wait_for_all=True)
    with pytest.raises(AttributeError):
        quorum.wait_for_all = False  # type: ignore[misc]
    assert QuorumOptions(auto_tie_breaker=True, auto_tie_breaker_node=[3, 1]) == QuorumOptions(
        auto_tie_breaker=True, auto_tie_breaker_node=(3, 1)
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"two_node": 1}, TypeError, "two_node must be a bool"),
        ({"wait_for_all": "yes"}, TypeError, "wait_for_all must be a bool or None"),
        ({"expected_votes": 0}, ValueError, "expected_votes must be between 1"),
        ({"expected_votes": 2**32}, ValueError, "expected_votes must be between 1"),
        ({"expected_votes": 2.0}, TypeError, "expected_votes must be an int"),
        ({"last_man_standing_window_ms": 5000}, ValueError, "needs last_man_standing=True"),
        (
            {"last_man_standing": True, "last_man_standing_window_ms": 0},
            ValueError,
            "last_man_standing_window_ms must be between 1",
        ),
        ({"auto_tie_breaker_node": "lowest"}, ValueError, "needs auto_tie_breaker=True"),
        (
            {"auto_tie_breaker": True, "auto_tie_breaker_node": "middle"},
            ValueError,
            "'lowest', 'highest' or a sequence",
        ),
        (
            {"auto_tie_breaker": True, "auto_tie_breaker_node": [1, 1]},
            ValueError,
            "distinct node ids",
        ),
        (
            {"auto_tie_breaker": True, "auto_tie_breaker_node": [0]},
            ValueError,
            "between 1",
        ),
        ({"auto_tie_breaker": True, "auto_tie_breaker_node": 1}, TypeError, "node ids or None"),
        ({"two_node": True, "auto_tie_breaker": True}, ValueError, "cannot be combined"),
        (
            {"allow_downscale": True, "expected_votes": 3},
            ValueError,
            "expected_votes is ignored by corosync while expected votes are tracked",
        ),
        (
            {"expected_votes_tracking": True, "expected_votes": 3},
            ValueError,
            "expected_votes is ignored",
        ),
    ],
)
def test_bad_quorum_options_raise(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        QuorumOptions(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"votes": 0}, ValueError, "qdevice votes must be between 1"),
        ({"votes": True}, TypeError, "qdevice votes must be an int"),
        ({"timeout_ms": -1}, ValueError, "timeout_ms must be between 1"),
        ({"sync_timeout_ms": "30"}, TypeError, "sync_timeout_ms must be an int"),
        ({"model": ""}, ValueError, "model must be a non-empty word"),
        ({"model": "net\n}"}, ValueError, "model must be a non-empty word"),
        ({"model": None}, TypeError, "model must be a str"),
    ],
)
def test_bad_qdevice_options_raise(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        QdeviceOptions(**kwargs)


@pytest.mark.parametrize(
    ("nodes", "kwargs", "error", "message"),
    [
        (3, {"quorum": QuorumOptions(two_node=True)}, ValueError, "exactly 2 nodes, not 3"),
        (1, {"quorum": QuorumOptions(two_node=True)}, ValueError, "exactly 2 nodes, not 1"),
        (3, {"quorum": {"two_node": True}}, TypeError, "quorum must be a QuorumOptions"),
        (3, {"qdevice": 1}, TypeError, "qdevice must be a QdeviceOptions"),
        (3, {"votes": [1, 2, 3]}, TypeError, "votes must be a mapping"),
        (3, {"votes": {4: 1}}, ValueError, "no node 4 in a cluster of 3"),
        (3, {"votes": {"1": 1}}, TypeError, "node ids must be ints"),
        (3, {"votes": {1: -1}}, ValueError, "votes of node 1 must be between 0"),
        (3, {"votes": {1: 1.5}}, TypeError, "votes of node 1 must be an int"),
        (2, {"votes": {1: 0, 2: 0}}, ValueError, "at least one vote"),
        (
            3,
            {"quorum": QuorumOptions(auto_tie_breaker=True, auto_tie_breaker_node=(1, 4))},
            ValueError,
            "auto_tie_breaker_node: no node 4",
        ),
        (
            3,
            {"quorum": QuorumOptions(auto_tie_breaker=True)},
            ValueError,
            "odd number of votes (3) needs wait_for_all=True",
        ),
        (
            3,
            {"quorum": QuorumOptions(last_man_standing=True), "votes": {1: 2}},
            ValueError,
            "last_man_standing needs one vote per node",
        ),
        (
            2,
            {"quorum": QuorumOptions(two_node=True), "qdevice": QdeviceOptions()},
            ValueError,
            "qdevice cannot be combined with two_node",
        ),
        (
            3,
            {"quorum": QuorumOptions(last_man_standing=True), "qdevice": QdeviceOptions()},
            ValueError,
            "qdevice cannot be combined with last_man_standing",
        ),
        (
            4,
            {"quorum": QuorumOptions(auto_tie_breaker=True), "qdevice": QdeviceOptions()},
            ValueError,
            "qdevice cannot be combined with auto_tie_breaker",
        ),
        (
            3,
            {"quorum": QuorumOptions(allow_downscale=True), "qdevice": QdeviceOptions()},
            ValueError,
            "qdevice cannot be combined with allow_downscale",
        ),
        (
            3,
            {"quorum": QuorumOptions(expected_votes=5), "qdevice": QdeviceOptions()},
            ValueError,
            "needs votes= when expected_votes is set",
        ),
        (
            3,
            {"votes": {1: 2}, "qdevice": QdeviceOptions()},
            ValueError,
            "needs votes= when not every node has one vote",
        ),
        (1, {"qdevice": QdeviceOptions()}, ValueError, "1-node cluster needs votes="),
        (
            3,
            {"quorum": QuorumOptions(expected_votes=4), "qdevice": QdeviceOptions(votes=3)},
            ValueError,
            "at least 2 below expected_votes",
        ),
    ],
)
def test_bad_cluster_settings_raise_before_anything_starts(
    nodes: int, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    # Checked before the prerequisites and before any namespace or daemon exists.
    with pytest.raises(error, match=re.escape(message)):
        Cluster(nodes, start=False, **kwargs)


def test_rendering_leaves_defaults_to_corosync() -> None:
    nodes = [config.NodeEntry(i, f"10.0.0.{i}", f"node{i}") for i in (1, 2)]
    plain = config.render(cluster_name="c", nodes=nodes, log_path="/l", state_dir="/s")
    assert "quorum {\n    provider: corosync_votequorum\n}" in plain
    assert "quorum_votes" not in plain
    text = config.render(
        cluster_name="c",
        nodes=nodes,
        log_path="/l",
        state_dir="/s",
        votes={2: 3},
        quorum=QuorumOptions(wait_for_all=False, expected_votes=5),
        qdevice=QdeviceOptions(votes=1, timeout_ms=2000),
    )
    assert "        ring0_addr: 10.0.0.2\n        quorum_votes: 3\n    }" in text
    assert text.count("quorum_votes") == 1
    assert (
        "quorum {\n    provider: corosync_votequorum\n    expected_votes: 5\n"
        "    wait_for_all: 0\n    device {\n        model: python\n        votes: 1\n"
        "        timeout: 2000\n    }\n}"
    ) in text


def test_expected_quorum_follows_votequorums_arithmetic() -> None:
    def expect(members: set[int], votes: dict[int, int], **kw: Any) -> bool | None:
        quorum = kw.pop("quorum", None)
        return options.expect_quorate(members, votes, quorum, kw.pop("qdevice", None), **kw)

    three = {1: 1, 2: 1, 3: 1}
    assert expect({1, 2}, three) is True
    assert expect({1}, three) is False
    assert expect({1}, {1: 3, 2: 1, 3: 1}) is True  # 3 of 5
    assert expect({2, 3}, {1: 3, 2: 1, 3: 1}) is False
    assert expect({1, 2}, {1: 1, 2: 1, 3: 1, 4: 1}) is False  # 2 of 4 is no majority
    high = QuorumOptions(expected_votes=7)
    assert expect({1, 2, 3}, three, quorum=high) is False
    assert expect({1, 2, 3}, three, quorum=QuorumOptions(expected_votes=2)) is True
    # two_node: quorum 1, but wait_for_all (implied) needs both at first.
    two = {1: 1, 2: 1}
    assert expect({1, 2}, two, quorum=QuorumOptions(two_node=True)) is True
    assert expect({1}, two, quorum=QuorumOptions(two_node=True)) is None
    # A device's votes are expected: at a fresh start nobody casts them yet.
    device = QdeviceOptions(votes=1)
    assert expect({1}, {1: 1}, qdevice=device, fresh=True) is False
    assert expect({1}, {1: 1}, qdevice=device) is None
    assert expect({1, 2, 3}, three, qdevice=QdeviceOptions(), fresh=True) is True  # 3 of 5
    wfa = QuorumOptions(wait_for_all=True)
    assert expect({1, 2, 3}, three, quorum=wfa, qdevice=QdeviceOptions(), fresh=True) is False


def test_quorum_status_parses_votes_flags_and_the_qdevice() -> None:
    text = """Quorum information
------------------
Date:             Mon Nov 30 15:35:08 2026
Quorum provider:  corosync_votequorum
Nodes:            2
Node ID:          2
Ring ID:          1.1a
Quorate:          No

Votequorum information
----------------------
Expected votes:   5
Highest expected: 5
Total votes:      2
Quorum:           3 Activity blocked
Flags:            WaitForAll Qdevice

Membership information
----------------------
    Nodeid      Votes    Qdevice Name
         1          1    A,NV,MW node1
         2          1   NA,NV,NMW node2 (local)
         0          0           my device (votes 3)
"""
    parsed = QuorumStatus.parse(text)
    assert parsed == QuorumStatus(
        nodeid=2,
        quorate=False,
        members=frozenset({1, 2}),
        expected_votes=5,
        total_votes=2,
        ring_id=(1, 0x1A),
        highest_expected=5,
        quorum=3,
        flags=frozenset({"WaitForAll", "Qdevice"}),
        votes={1: 1, 2: 1},
        qdevice=QdeviceStatus(
            name="my device",
            votes=3,
            registered=True,
            alive=False,
            cast_vote=False,
            master_wins=False,
        ),
    )
    assert parsed.wait_for_all and parsed.qdevice_registered and not parsed.two_node
    with pytest.raises(ValueError, match="unexpected corosync-quorumtool output"):
        QuorumStatus.parse(text.replace("Quorum:           3", "Quorum:           x"))


# --- clusters: one class each, so that each cluster stops when its tests are done ------


@pytest.fixture(scope="class")
def weighted() -> Iterator[Cluster]:
    with Cluster(3, votes={1: 3}) as cluster:
        yield cluster


class TestVotes:
    """3 nodes, node 1 with 3 votes: 5 in all, quorum 3."""

    def test_votes_render_as_quorum_votes(self, weighted: Cluster) -> None:
        keys = cmap_quorum(weighted.node(2), "nodelist.node.")
        assert keys["nodelist.node.0.quorum_votes"] == "(u32) = 3"
        assert "nodelist.node.1.quorum_votes" not in keys  # corosync's default of 1
        assert weighted.votes == {1: 3, 2: 1, 3: 1}
        got = status(weighted.node(3))
        counts = (got.expected_votes, got.highest_expected, got.total_votes, got.quorum)
        assert counts == (5, 5, 5, 3)
        assert got.votes == {1: 3, 2: 1, 3: 1}
        assert got.quorate and got.flags == {"Quorate"}

    def test_the_node_with_the_majority_of_votes_stays_quorate_alone(
        self, weighted: Cluster
    ) -> None:
        assert weighted.expect_quorate([1]) is True
        assert weighted.expect_quorate([2, 3]) is False
        weighted.kill(2)
        weighted.kill(3)
        weighted.wait_members(1, [1], timeout=20)
        weighted.wait_quorate(1, timeout=20)
        alone = status(weighted.node(1))
        assert (alone.quorate, alone.total_votes, alone.quorum) == (True, 3, 3)
        # restart() knows the votes: node 2 comes back into a quorate pair...
        weighted.restart(2)
        assert status(weighted.node(2)).quorate
        # ...which without node 1 is 1 vote of 5.
        weighted.kill(1)
        weighted.wait_members(2, [2], timeout=20)
        weighted.wait_quorate(2, quorate=False, timeout=20)
        weighted.reset()
        assert all(status(n).quorate for n in weighted.nodes)


@pytest.fixture(scope="class")
def two_node() -> Iterator[Cluster]:
    with Cluster(2, quorum=QuorumOptions(two_node=True)) as cluster:
        yield cluster


class TestTwoNode:
    def test_two_node_renders_and_implies_wait_for_all(self, two_node: Cluster) -> None:
        keys = cmap_quorum(two_node.node(1))
        assert keys["quorum.two_node"] == "(u8) = 1"
        assert "quorum.wait_for_all" not in keys  # left to corosync, which turns it on
        got = status(two_node.node(1))
        assert {"2Node", "WaitForAll", "Quorate"} <= got.flags
        assert got.two_node and got.wait_for_all
        assert (got.expected_votes, got.quorum) == (2, 1)

    def test_two_node_keeps_quorum_when_one_node_dies(self, two_node: Cluster) -> None:
        two_node.kill(2)
        two_node.wait_members(1, [1], timeout=20)
        got = status(two_node.node(1))
        assert got.quorate and got.quorum == 1
        two_node.restart(2)
        assert all(status(n).quorate for n in two_node.nodes)


@pytest.fixture(scope="class")
def combined() -> Iterator[Cluster]:
    quorum = QuorumOptions(
        wait_for_all=True,
        last_man_standing=True,
        last_man_standing_window_ms=20000,
        auto_tie_breaker=True,
        auto_tie_breaker_node=(2, 1),
        allow_downscale=True,
    )
    with Cluster(2, quorum=quorum) as cluster:
        yield cluster


class TestOtherOptions:
    """2 nodes with wait_for_all, last_man_standing, auto_tie_breaker (votequorum(5): they
    combine) and allow_downscale."""

    def test_options_render_as_corosync_reads_them(self, combined: Cluster) -> None:
        keys = cmap_quorum(combined.node(1))
        assert keys == {
            "quorum.provider": "(str) = corosync_votequorum",
            "quorum.wait_for_all": "(u8) = 1",
            "quorum.last_man_standing": "(u8) = 1",
            "quorum.last_man_standing_window": "(u32) = 20000",
            "quorum.auto_tie_breaker": "(u8) = 1",
            "quorum.auto_tie_breaker_node": "(str) = 2 1",
            "quorum.allow_downscale": "(u8) = 1",
        }
        runtime = cmap_quorum(combined.node(1), "runtime.votequorum.")
        assert runtime["runtime.votequorum.atb_type"] == "(u32) = 3"  # ATB_LIST: list read
        got = status(combined.node(2))
        flags = {"Quorate", "WaitForAll", "LastManStanding", "AutoTieBreaker", "AllowDownscale"}
        assert got.flags == flags
        assert got.wait_for_all and got.last_man_standing and got.auto_tie_breaker
        assert got.allow_downscale and not got.two_node and not got.qdevice_registered

    def test_auto_tie_breaker_keeps_the_half_with_the_tie_breaker(self, combined: Cluster) -> None:
        assert combined.expect_quorate([2]) is None  # up to the tie breaker: not predicted
        combined.partition([1], [2])  # node 2 is first in auto_tie_breaker_node
        combined.wait_members(1, [1], timeout=20)
        combined.wait_members(2, [2], timeout=20)
        combined.wait_quorate(2, timeout=20)
        combined.wait_quorate(1, quorate=False, timeout=20)
        combined.reset()


@pytest.fixture(scope="class")
def unreachable() -> Iterator[Cluster]:
    quorum = QuorumOptions(wait_for_all=True, expected_votes=7)
    with Cluster(3, quorum=quorum) as cluster:
        yield cluster


class TestUnreachableQuorum:
    """3 nodes of 1 vote with wait_for_all and expected_votes 7 (quorum 4): never quorate."""

    def test_start_waits_for_the_membership_only(self, unreachable: Cluster) -> None:
        # start() returned: every node is a member, and inquorate, as the settings say.
        assert unreachable.expect_quorate([1, 2, 3]) is False
        for node in unreachable.nodes:
            got = status(node)
            assert got.members == {1, 2, 3}
            assert not got.quorate
            assert (got.expected_votes, got.highest_expected, got.total_votes) == (7, 7, 3)
            assert got.quorum == 4
            assert got.flags == {"WaitForAll"}

    def test_wait_for_all_and_expected_votes_render(self, unreachable: Cluster) -> None:
        keys = cmap_quorum(unreachable.node(1))
        assert keys["quorum.wait_for_all"] == "(u8) = 1"
        assert keys["quorum.expected_votes"] == "(u32) = 7"
        out = unreachable.node(2).run(["corosync-quorumtool", "-s"], check=False).stdout
        assert re.search(r"^Expected votes:\s+7$", out, re.M), out
        assert re.search(r"^Flags:\s+WaitForAll\s*$", out, re.M), out

    def test_restart_and_reset_wait_for_an_inquorate_membership(self, unreachable: Cluster) -> None:
        unreachable.restart(3)
        assert status(unreachable.node(3)).members == {1, 2, 3}
        unreachable.kill(2)
        unreachable.reset()
        assert all(status(n).members == {1, 2, 3} for n in unreachable.nodes)


@pytest.fixture(scope="class")
def with_device() -> Iterator[Cluster]:
    device = QdeviceOptions(votes=1, timeout_ms=2000, sync_timeout_ms=3000)
    with Cluster(1, qdevice=device) as cluster:
        yield cluster


class TestQdevice:
    """1 node of 1 vote and a device of 1 vote: quorum 2, so quorate only with the device."""

    def test_the_section_renders_and_the_cluster_starts_inquorate(
        self, with_device: Cluster
    ) -> None:
        keys = cmap_quorum(with_device.node(1), "quorum.device.")
        assert keys == {
            "quorum.device.model": "(str) = python",
            "quorum.device.votes": "(u32) = 1",
            "quorum.device.timeout": "(u32) = 2000",
            "quorum.device.sync_timeout": "(u32) = 3000",
        }
        got = status(with_device.node(1))
        assert (got.quorate, got.expected_votes, got.total_votes, got.quorum) == (False, 2, 1, 2)
        assert got.qdevice is None

    def test_a_polling_device_makes_the_node_quorate(self, with_device: Cluster) -> None:
        node = with_device.node(1)
        device = Qdevice(node, "pydevice")
        try:
            assert device.poll() == _CS_OK
            with_device.wait_quorate(1, timeout=10)
            assert device.poll() == _CS_OK  # timeout_ms starts again: room to look
            got = status(node)
            assert got.qdevice_registered and got.total_votes == 2
            assert got.qdevice == QdeviceStatus(
                name="pydevice",
                votes=1,
                registered=True,
                alive=True,
                cast_vote=True,
                master_wins=False,
            )
            # No poll within timeout_ms: the vote is lost, and so is quorum.
            with_device.wait_quorate(1, quorate=False, timeout=10)
            lost = status(node)
            assert lost.qdevice is not None
            assert (lost.qdevice.alive, lost.qdevice.cast_vote, lost.total_votes) == (
                False,
                False,
                1,
            )
        finally:
            device.close()
        assert status(node).qdevice is None
