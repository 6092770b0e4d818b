"""Votes and quorum options on real clusters, seen through Quorum and Votequorum: a node with 2
votes keeps the partition it is in quorate; two_node keeps a lone survivor quorate while
wait_for_all (which two_node implies) keeps a freshly started node inquorate until it has seen
the other; and a Python quorum device on a three-node cluster registers, polls with the ring
id of on_nodelist, casts its votes (info() and corosync-quorumtool show them), keeps the
partition it is in quorate, is refused a stale ring id, loses its votes when it stops polling,
is renamed, sets master_wins and unregisters. Each class starts a cluster of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from quorum_helpers import (
    DEAD,
    MEMBER,
    Qdevice,
    VotequorumRecorder,
    eventually,
    pump,
    ring_of,
    status,
    statuses,
)

import corosync
from corosync import CsError, TrackFlags
from corosync.quorum import Quorum
from corosync.testing import Cluster, QdeviceOptions, QdeviceStatus, QuorumOptions
from corosync.votequorum import InfoFlag, Votequorum, VotequorumNotify

DEVICE = InfoFlag.QDEVICE_REGISTERED | InfoFlag.QDEVICE_ALIVE | InfoFlag.QDEVICE_CAST_VOTE


def infos(cluster: Cluster, nodeids: tuple[int, ...]) -> dict[int, tuple[bool, int, int]]:
    """(quorate, total votes, quorum) of each node, by Votequorum.info() on the node."""
    got = {}
    for nodeid in nodeids:
        with cluster.node(nodeid).connect(Votequorum) as vq:
            info = vq.info()
        got[nodeid] = (InfoFlag.QUORATE in info.flags, info.total_votes, info.quorum)
    return got


@pytest.fixture(scope="class")
def weighted() -> Iterator[Cluster]:
    with Cluster(3, votes={1: 2}) as cluster:  # 4 votes, quorum 3
        yield cluster


class TestTwoVotes:
    def test_the_node_with_two_votes_keeps_its_partition_quorate(self, weighted: Cluster) -> None:
        assert infos(weighted, (1, 2, 3)) == dict.fromkeys((1, 2, 3), (True, 4, 3))
        with weighted.node(1).connect(Votequorum) as vq:
            assert [vq.info(n).votes for n in (1, 2, 3)] == [2, 1, 1]
        weighted.partition([1, 2], [3])
        weighted.wait_members(1, [1, 2])
        weighted.wait_members(3, [3])
        weighted.wait_quorate(3, quorate=False)
        assert infos(weighted, (1, 2, 3)) == {1: (True, 3, 3), 2: (True, 3, 3), 3: (False, 1, 3)}
        # Two nodes without it: 2 votes of 4. Alone it has 2 too: nobody is quorate.
        weighted.partition([1], [2, 3])
        weighted.wait_members(2, [2, 3])
        weighted.wait_members(1, [1])
        weighted.wait_quorate(1, quorate=False)
        weighted.wait_quorate(2, quorate=False)
        assert infos(weighted, (1, 2, 3)) == {1: (False, 2, 3), 2: (False, 2, 3), 3: (False, 2, 3)}
        for nodeid in (1, 2, 3):
            with weighted.node(nodeid).connect(Quorum) as quorum:
                assert quorum.quorate is False


@pytest.fixture(scope="class")
def pair() -> Iterator[Cluster]:
    with Cluster(2, quorum=QuorumOptions(two_node=True)) as cluster:
        yield cluster


class TestTwoNode:
    """votequorum(5): two_node makes quorum 1 of 2 votes and turns wait_for_all on."""

    def test_a_lone_survivor_stays_quorate(self, pair: Cluster) -> None:
        recorder = VotequorumRecorder()
        with pair.node(1).connect(Votequorum) as vq:
            recorder.attach(vq).trackstart(TrackFlags.CHANGES_ONLY)
            info = vq.info()
            flags = InfoFlag.TWO_NODE | InfoFlag.WAIT_FOR_ALL | InfoFlag.QUORATE
            assert (info.flags, info.expected_votes, info.total_votes, info.quorum) == (
                flags,
                2,
                2,
                1,
            )
            pair.kill(2)
            pump([vq], lambda: bool(recorder.notifies()), what="the loss of node 2")
            ring = ring_of(pair.node(1))
            assert recorder.notifies() == [
                VotequorumNotify(True, ring, statuses({1: MEMBER, 2: DEAD}))
            ]
            alone = vq.info()
            assert (alone.flags, alone.total_votes, alone.quorum) == (flags, 1, 1)
        assert status(pair.node(1)).quorate

    def test_wait_for_all_keeps_a_fresh_node_inquorate_until_it_saw_the_other(
        self, pair: Cluster
    ) -> None:
        if pair.node(2).alive:
            pair.kill(2)
        pair.restart(1)  # a fresh start, alone: it waits for all
        recorder = VotequorumRecorder()
        with pair.node(1).connect(Votequorum) as vq, pair.node(1).connect(Quorum) as quorum:
            recorder.attach(vq).trackstart(TrackFlags.CHANGES_ONLY)
            info = vq.info()
            assert info.flags == InfoFlag.TWO_NODE | InfoFlag.WAIT_FOR_ALL  # not QUORATE
            assert (info.total_votes, info.quorum, quorum.quorate) == (1, 1, False)
            assert not status(pair.node(1)).quorate
            pair.restart(2)
            pump([vq], lambda: bool(recorder.notifies()), what="node 2 joining")
            ring = ring_of(pair.node(1))
            assert recorder.notifies() == [
                VotequorumNotify(True, ring, statuses({1: MEMBER, 2: MEMBER}))
            ]
            assert quorum.quorate is True


@pytest.fixture(scope="class")
def with_device() -> Iterator[Cluster]:
    # The device's votes: nodes - 1 = 2, so 5 expected and quorum 3: the device's node
    # alone has 3 with it, the other two nodes only 2.
    options = QdeviceOptions(timeout_ms=2000, sync_timeout_ms=3000)
    with Cluster(3, qdevice=options) as cluster:
        yield cluster


@pytest.fixture
def qdevice(with_device: Cluster) -> Iterator[Qdevice]:
    """A quorum device on node 1 of the whole device cluster; unregistered after the test."""
    with_device.reset()
    device = Qdevice(with_device.node(1), "pydevice")
    yield device
    device.close()


class TestQdevice:
    def test_a_device_registers_casts_its_votes_is_renamed_and_unregisters(
        self, with_device: Cluster, qdevice: Qdevice
    ) -> None:
        one, two = with_device.node(1), with_device.node(2)
        vq = qdevice.handle
        assert (vq.info().flags, vq.info().qdevice_votes) == (InfoFlag.QUORATE, 2)
        qdevice.register()
        registered = vq.info()
        assert registered.flags == InfoFlag.QUORATE | InfoFlag.QDEVICE_REGISTERED
        assert (registered.qdevice_name, registered.total_votes) == ("pydevice", 3)
        assert status(one).qdevice == QdeviceStatus("pydevice", 2, True, False, False, False)
        assert "Qdevice" in status(one).flags

        qdevice.cast()  # polls with the ring id from on_nodelist: the current one
        eventually(lambda: DEVICE in vq.info().flags, "the device to cast its vote")
        cast = vq.info()
        assert (cast.qdevice_votes, cast.total_votes, cast.quorum) == (2, 5, 3)
        assert qdevice.ring == ring_of(one) and qdevice.errors == []
        shown = status(one)
        assert (shown.total_votes, shown.expected_votes) == (5, 5)
        assert shown.qdevice == QdeviceStatus("pydevice", 2, True, True, True, False)
        # Another node knows the device but counts its votes only where it is registered.
        other = status(two)
        assert other.total_votes == 3
        assert other.qdevice is not None and other.qdevice.name == "pydevice"
        assert not other.qdevice.registered

        vq.qdevice_master_wins("pydevice", True)
        assert InfoFlag.QDEVICE_MASTER_WINS in vq.info().flags
        assert status(one).qdevice == QdeviceStatus("pydevice", 2, True, True, True, True)
        qdevice.rename("renamed")  # polls go on under the new name
        eventually(lambda: vq.info().qdevice_name == "renamed", "the new name")
        eventually(
            lambda: status(two).qdevice == QdeviceStatus("renamed", 2, False, False, False, False),
            "node 2 to know the new name",
        )
        assert qdevice.errors == []

        qdevice.cast(None)  # stops polling: the vote lasts timeout_ms (2 s)
        eventually(lambda: not InfoFlag.QDEVICE_ALIVE & vq.info().flags, "the vote to time out")
        lost = vq.info()
        assert lost.flags & DEVICE == InfoFlag.QDEVICE_REGISTERED
        assert lost.total_votes == 3 and status(one).total_votes == 3

        vq.qdevice_unregister("renamed")
        assert not InfoFlag.QDEVICE_REGISTERED & vq.info().flags
        eventually(
            lambda: status(one).qdevice is None and status(two).qdevice is None,
            "the device to be gone",
        )

    def test_the_device_keeps_its_partition_quorate_and_a_stale_ring_id_is_refused(
        self, with_device: Cluster, qdevice: Qdevice
    ) -> None:
        vq = qdevice.handle
        qdevice.register()
        qdevice.cast()
        eventually(lambda: DEVICE in vq.info().flags, "the device to cast its vote")
        stale = qdevice.ring
        assert stale is not None
        with_device.partition([1], [2, 3])
        with_device.wait_members(1, [1])
        with_device.wait_members(2, [2, 3])
        # The device polled with the new ring id at once (corosync waits for that poll).
        assert qdevice.ring == ring_of(with_device.node(1)) != stale
        alone = vq.info()
        assert InfoFlag.QUORATE | DEVICE in alone.flags
        assert (alone.votes, alone.total_votes, alone.quorum) == (1, 3, 3)
        for nodeid in (2, 3):  # 2 votes of 5
            with_device.wait_quorate(nodeid, quorate=False)
        with pytest.raises(corosync.MessageError) as info:
            vq.qdevice_poll("pydevice", True, stale)
        assert (info.value.code, info.value.function) == (
            CsError.MESSAGE_ERROR,
            "votequorum_qdevice_poll",
        )
        qdevice.cast(None)  # the vote times out, and with it node 1's quorum
        with_device.wait_quorate(1, quorate=False, timeout=10)
        assert vq.info().flags & (InfoFlag.QUORATE | DEVICE) == InfoFlag.QDEVICE_REGISTERED
