"""corosync.sam's QUORUM policy flag (issue 18) on node 3 of a three-node cluster: a supervised
child runs only while its node is quorate. Cut off, node 3 loses quorum and the child gets the
warn signal; its next instance's start() waits for quorum (CMAP says "waiting for quorum")
and returns once the network heals."""

from __future__ import annotations

from sam_programs import StartSam

import corosync
from corosync.testing import Cluster

PROGRAM = """
sam.initialize(500, Policy.RESTART | Policy.QUORUM | Policy.CMAP)
n = registered()


def warned(signum, frame):
    say_in_handler(f"instance {n} got {signal.Signals(signum).name}")
    os._exit(1)  # while started: a failure


signal.signal(signal.SIGUSR1, warned)
if n == 1:
    sam.set_warn_signal(signal.SIGUSR1)
say(f"instance {n} starting")
sam.start()
say(f"instance {n} started")
if n == 2:
    sam.finalize()
    sys.exit(0)
send_checks_forever()
"""


def test_a_child_runs_only_while_its_node_is_quorate(
    start_sam: StartSam, corosync_healthy_cluster: Cluster
) -> None:
    cluster = corosync_healthy_cluster
    node = cluster.node(3)
    with node.connect(corosync.CMAP) as cmap:
        program = start_sam(node, PROGRAM)
        program.wait_for("^instance 1 started$")
        supervisor = program.proc.pid
        state = f"resources.process.{supervisor}.state"
        assert cmap.get(state).value == "running"

        cluster.isolate(3)
        program.wait_for("^instance 1 got SIGUSR1$")
        program.wait_for("^instance 2 starting$")
        cluster.wait_for(
            lambda: cmap.get(state).value == "waiting for quorum",
            what="the supervisor to wait for quorum",
        )
        # libsam makes the state "running" before start() returns: it has not.
        status = node.quorum_status()
        assert status is not None and not status.quorate
        assert program.matching("^instance 2 started$") == []

        cluster.heal()
        program.wait_for("^instance 2 started$")
        status = node.quorum_status()
        assert status is not None and status.quorate
        assert program.finish() == 0, program.lines
        assert sorted(program.instances()) == [1, 2]
        assert program.index("^instance 1 got SIGUSR1$") < program.index(r"^instance 2 pid")
        # A clean end: the supervisor removed its keys.
        assert list(cmap.keys(f"resources.process.{supervisor}.")) == []
