"""CPG across a real three-node cluster: one total order for concurrent senders, and the
membership changes of leaving processes, killed processes, killed nodes and partitions."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
from cpg_events import Recorder, pump

import corosync
from corosync.cpg import Address, Reason
from corosync.testing import Cluster, Node, python_env

PID = os.getpid()
NODES = (1, 2, 3)

OpenOn = Callable[[int], tuple[corosync.CPG, Recorder]]


@pytest.fixture
def group() -> str:
    return f"cluster-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def open_on(corosync_cluster: Cluster) -> Iterator[OpenOn]:
    """Opens a recorded CPG handle on node i; closes every one after the test."""
    handles: list[corosync.CPG] = []

    def factory(nodeid: int) -> tuple[corosync.CPG, Recorder]:
        recorder = Recorder()
        handle = corosync_cluster.node(nodeid).connect(corosync.CPG)
        handles.append(handle)
        return recorder.attach(handle), recorder

    yield factory
    for handle in handles:
        handle.close()


def join_everywhere(
    open_on: OpenOn, group: str, nodes: tuple[int, ...] = NODES
) -> dict[int, tuple[corosync.CPG, Recorder]]:
    """One handle per node joined to `group`, each having seen every other join."""
    handles = {n: open_on(n) for n in nodes}
    for cpg, _ in handles.values():
        cpg.join(group)

    def everyone_sees_everyone() -> bool:
        for _, recorder in handles.values():
            changes = recorder.confchgs(group)
            if not changes or len(changes[-1].members) != len(nodes):
                return False
        return True

    pump([c for c, _ in handles.values()], everyone_sees_everyone, what="all joins")
    return handles


def cpgs(handles: dict[int, tuple[corosync.CPG, Recorder]]) -> list[corosync.CPG]:
    return [c for c, _ in handles.values()]


def test_each_handle_talks_to_its_own_node(open_on: OpenOn) -> None:
    assert [open_on(n)[0].local_nodeid for n in NODES] == [1, 2, 3]


def test_membership_is_the_same_on_every_node(open_on: OpenOn, group: str) -> None:
    handles = join_everywhere(open_on, group)
    for cpg, recorder in handles.values():
        assert sorted((a.nodeid, a.pid) for a in cpg.membership(group)) == [(n, PID) for n in NODES]
        assert sorted((m.nodeid, m.pid) for m in cpg.groups(group=group)) == [
            (n, PID) for n in NODES
        ]
        joins = [a for change in recorder.confchgs(group) for a in change.joined]
        assert all(a.reason == Reason.JOIN for a in joins)


def test_concurrent_senders_are_delivered_in_one_order_everywhere(
    open_on: OpenOn, group: str
) -> None:
    handles = join_everywhere(open_on, group)
    per_sender = 400

    def send(nodeid: int) -> None:
        cpg, _ = handles[nodeid]
        for i in range(per_sender):
            cpg.mcast(b"%d:%d:" % (nodeid, i), os.urandom(i % 64))

    senders = [threading.Thread(target=send, args=(n,)) for n in NODES]
    for thread in senders:
        thread.start()
    total = per_sender * len(NODES)
    try:
        pump(
            cpgs(handles),
            lambda: all(len(r.messages(group)) >= total for _, r in handles.values()),
            timeout=120,
            what=f"{total} messages on every node",
        )
    finally:
        for thread in senders:
            thread.join()
    sequences = [r.delivered(group) for _, r in handles.values()]
    first = sequences[0]
    assert len(first) == total
    for other in sequences[1:]:
        assert other == first, "nodes disagree on the order of delivery"
    for nodeid in NODES:
        mine = [d for d in first if d.nodeid == nodeid]
        assert all(d.pid == PID for d in mine)
        numbers = [int(d.message.split(b":")[1]) for d in mine]
        assert numbers == list(range(per_sender)), "a sender's messages out of order"
        assert all(d.message.startswith(b"%d:" % nodeid) for d in mine)


@pytest.mark.parametrize("size", [1, 1024 * 1024, 3 * 1024 * 1024 + 11])
def test_messages_cross_nodes_whole_and_binary_safe(open_on: OpenOn, group: str, size: int) -> None:
    handles = join_everywhere(open_on, group)
    payload = bytes(range(256)) + os.urandom(size)
    handles[2][0].mcast(payload)
    pump(
        cpgs(handles),
        lambda: all(r.messages(group) for _, r in handles.values()),
        timeout=60,
    )
    # Nothing more of it comes later (a second copy, or the rest of a fragmented send that
    # libcpg gave up on and sent again whole): the sender's next message follows all of it.
    handles[2][0].mcast(b"next")
    pump(
        cpgs(handles),
        lambda: all(b"next" in r.messages(group) for _, r in handles.values()),
        timeout=60,
    )
    for _, recorder in handles.values():
        delivered, after = recorder.delivered(group)
        assert (delivered.nodeid, delivered.pid) == (2, PID)
        assert delivered.message == payload
        assert after.message == b"next"


def test_a_leaving_process_is_reported_with_reason_leave(open_on: OpenOn, group: str) -> None:
    handles = join_everywhere(open_on, group)
    handles[3][0].leave(group)
    expected = [Address(3, PID, Reason.LEAVE)]
    pump(
        cpgs(handles),
        lambda: all(r.confchgs(group)[-1].left == expected for _, r in handles.values()),
        what="the leave on every node",
    )
    for nodeid in (1, 2):
        last = handles[nodeid][1].confchgs(group)[-1]
        assert sorted(a.nodeid for a in last.members) == [1, 2]


def spawn_member(node: Node, group: str) -> subprocess.Popen[str]:
    """A separate process on `node` that joins `group` and waits to be killed."""
    code = (
        "import sys, time, corosync\n"
        "cpg = corosync.CPG()\n"
        "cpg.join(sys.argv[1])\n"
        "print('joined', flush=True)\n"
        "time.sleep(120)\n"
    )
    process = node.popen(
        [sys.executable, "-c", code, group], stdout=subprocess.PIPE, text=True, env=python_env()
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "joined"
    return process


def test_a_killed_process_is_reported_with_reason_procdown(
    corosync_cluster: Cluster, open_on: OpenOn, group: str
) -> None:
    handles = join_everywhere(open_on, group, nodes=(1, 2))
    member = spawn_member(corosync_cluster.node(3), group)
    try:
        pump(
            cpgs(handles),
            lambda: all(len(r.confchgs(group)[-1].members) == 3 for _, r in handles.values()),
            what="the other process's join",
        )
        member.kill()
    finally:
        member.kill()
        member.wait()
    expected = [Address(3, member.pid, Reason.PROCDOWN)]
    pump(
        cpgs(handles),
        lambda: all(r.confchgs(group)[-1].left == expected for _, r in handles.values()),
        what="the process-down confchg",
    )


def test_a_killed_node_is_reported_with_reason_nodedown_and_its_clients_fail(
    corosync_healthy_cluster: Cluster, open_on: OpenOn, group: str
) -> None:
    handles = join_everywhere(open_on, group)
    doomed, _ = handles.pop(3)
    failures: list[corosync.LibraryError] = []

    def dispatch_until_lost() -> None:
        try:
            doomed.dispatch(corosync.DispatchFlags.BLOCKING)
        except corosync.LibraryError as e:
            failures.append(e)

    blocked = threading.Thread(target=dispatch_until_lost)
    blocked.start()
    corosync_healthy_cluster.kill(3)
    blocked.join(30)
    assert not blocked.is_alive(), "a blocking dispatch outlived its daemon"
    assert len(failures) == 1 and failures[0].function == "cpg_dispatch"

    expected = [Address(3, PID, Reason.NODEDOWN)]
    pump(
        cpgs(handles),
        lambda: all(
            r.confchgs(group) and r.confchgs(group)[-1].left == expected
            for _, r in handles.values()
        ),
        timeout=30,
        what="the node-down confchg",
    )
    totem = handles[1][1].totem_confchgs()
    assert totem and totem[-1].members == [1, 2]

    # Every call on a handle whose daemon died fails at once, and close still works.
    with pytest.raises(corosync.LibraryError):
        doomed.mcast(b"lost")
    with pytest.raises(corosync.LibraryError):
        doomed.membership(group)
    assert doomed.local_nodeid == 3  # asked once at connect: it needs no daemon
    with pytest.raises(corosync.LibraryError):
        doomed.join(group + "-other")
    doomed.close()
    assert doomed.closed


def test_a_partition_reports_nodedown_and_healing_reports_nodeup(
    corosync_healthy_cluster: Cluster, open_on: OpenOn, group: str
) -> None:
    handles = join_everywhere(open_on, group)
    corosync_healthy_cluster.partition([1], [2, 3])

    def last_left(nodeid: int) -> list[Address]:
        changes = handles[nodeid][1].confchgs(group)
        return changes[-1].left if changes else []

    pump(
        cpgs(handles),
        lambda: (
            last_left(1) == [Address(2, PID, Reason.NODEDOWN), Address(3, PID, Reason.NODEDOWN)]
            and last_left(2) == [Address(1, PID, Reason.NODEDOWN)]
            and last_left(3) == [Address(1, PID, Reason.NODEDOWN)]
        ),
        timeout=30,
        what="both sides to see the other side go",
    )
    # Each side goes on talking within itself, and nothing crosses the cut. Each side's
    # second message is sent after the other side's message was delivered: in one ring it
    # would follow that message in the total order, so the other side's message would be
    # delivered first, however slowly.
    handles[2][0].mcast(b"majority")
    pump(cpgs(handles), lambda: handles[3][1].messages(group) == [b"majority"])
    handles[1][0].mcast(b"minority")
    pump(cpgs(handles), lambda: b"minority" in handles[1][1].messages(group))
    assert handles[1][1].messages(group) == [b"minority"]
    handles[2][0].mcast(b"majority again")
    pump(
        cpgs(handles),
        lambda: all(b"majority again" in handles[n][1].messages(group) for n in (2, 3)),
    )
    for nodeid in (2, 3):
        assert handles[nodeid][1].messages(group) == [b"majority", b"majority again"]

    corosync_healthy_cluster.heal()

    def last_joined(nodeid: int) -> set[tuple[int, Reason | int]]:
        changes = handles[nodeid][1].confchgs(group)
        return {(a.nodeid, a.reason) for a in changes[-1].joined} if changes else set()

    pump(
        cpgs(handles),
        lambda: (
            last_joined(1) == {(2, Reason.NODEUP), (3, Reason.NODEUP)}
            and last_joined(2) == {(1, Reason.NODEUP)}
            and last_joined(3) == {(1, Reason.NODEUP)}
        ),
        timeout=30,
        what="both sides to see the other side return",
    )
    handles[1][0].mcast(b"healed")
    pump(
        cpgs(handles),
        lambda: all(r.messages(group)[-1:] == [b"healed"] for _, r in handles.values()),
    )
