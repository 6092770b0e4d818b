"""Cluster.degrade(): loss, delay and reordering on a node's link (a relay program between
its switch port and the bridge, corosync.testing.impair), and heal() taking them away.
Checked with UDP datagrams between two nodes' namespaces, numbered so that what arrived,
and in which order, shows what the link did; and with corosync itself."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from corosync.testing import Cluster, ClusterError

PORT = 40_000
COUNT = 400

# Prints, as JSON, the numbers of the datagrams that arrived, in arrival order, once none
# came for a second.
RECEIVER = """
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
s.settimeout(5.0)
got = []
try:
    while True:
        got.append(int(s.recv(64)))
        s.settimeout(1.0)
except socket.timeout:
    pass
print(json.dumps(got), flush=True)
"""

SENDER = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    s.sendto(str(i).encode(), (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.001)
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster(3, token_ms=1000) as c:
        yield c


def datagrams(cluster: Cluster, sender: int, receiver: int) -> list[int]:
    """Send COUNT numbered datagrams from node `sender` to node `receiver`; return the
    numbers that arrived, in arrival order."""
    address = cluster.node(receiver).addresses[0]
    proc = cluster.node(receiver).popen(
        [sys.executable, "-c", RECEIVER, address, str(PORT)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    cluster.node(sender).run(
        [sys.executable, "-c", SENDER, address, str(PORT), str(COUNT)], check=True
    )
    out, _ = proc.communicate(timeout=30)
    numbers: list[int] = json.loads(out)
    return numbers


def test_an_undegraded_link_delivers_everything_in_order(cluster: Cluster) -> None:
    assert datagrams(cluster, 1, 2) == list(range(COUNT))


def test_loss_drops_about_that_share_of_what_the_node_sends(cluster: Cluster) -> None:
    cluster.degrade(1, loss=0.5)
    try:
        sent_by_1 = datagrams(cluster, 1, 2)
        sent_to_1 = datagrams(cluster, 2, 1)
    finally:
        cluster.heal()
    # Binomial(400, 0.5): the mean 200, a standard deviation of 10; the bounds are 8 of them.
    assert 120 <= len(sent_by_1) <= 280, len(sent_by_1)
    assert sent_by_1 == sorted(sent_by_1)
    # What comes to the node passes unchanged (netem on the node's interface: its egress).
    assert sent_to_1 == list(range(COUNT))


def test_delay_with_reordering_lets_some_datagrams_overtake(cluster: Cluster) -> None:
    cluster.degrade(2, delay=0.05, reorder=0.5)
    try:
        got = datagrams(cluster, 2, 3)
    finally:
        cluster.heal()
    assert sorted(got) == list(range(COUNT))  # nothing lost
    # Undelayed datagrams overtake the delayed ones sent up to 50 ms before them.
    overtaken = sum(1 for a, b in itertools.pairwise(got) if b < a)
    assert overtaken > 20, got


def test_heal_removes_the_relays_and_their_interfaces(cluster: Cluster) -> None:
    cluster.degrade(3, loss=1.0)
    assert datagrams(cluster, 3, 1) == []
    switch = cluster._network.switch
    assert switch is not None
    links = subprocess.run(
        ["ip", "-n", switch, "-o", "link"], capture_output=True, text=True, check=True
    ).stdout
    assert "i3@" in links
    cluster.heal()
    links = subprocess.run(
        ["ip", "-n", switch, "-o", "link"], capture_output=True, text=True, check=True
    ).stdout
    assert "i3@" not in links and "j3@" not in links
    assert datagrams(cluster, 3, 1) == list(range(COUNT))


def test_a_degraded_node_stays_a_member_and_partitions_still_work(cluster: Cluster) -> None:
    cluster.degrade(1, loss=0.02, delay=0.01)
    try:
        cluster.partition([1], [2, 3])
        cluster.wait_members(2, [2, 3])
        cluster.wait_members(1, [1])
        cluster.partition([1, 2, 3])
        for i in (1, 2, 3):
            cluster.wait_members(i, [1, 2, 3])
            cluster.wait_quorate(i)
    finally:
        cluster.heal()
    for i in (1, 2, 3):
        cluster.wait_members(i, [1, 2, 3])


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"loss": 1.5}, ValueError),
        ({"loss": -0.1}, ValueError),
        ({"delay": 61.0}, ValueError),
        ({"delay": 0.01, "jitter": 0.02}, ValueError),
        ({"reorder": 2.0}, ValueError),
        ({"link": 1}, ValueError),
        ({"link": "0"}, TypeError),
    ],
)
def test_bad_arguments_are_refused(
    cluster: Cluster, kwargs: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        cluster.degrade(1, **kwargs)  # type: ignore[arg-type]
    assert cluster._network.degraded == {}


def test_a_one_node_cluster_has_no_link_to_degrade() -> None:
    with Cluster(1) as one, pytest.raises(ClusterError, match="at least 2 nodes"):
        one.degrade(1, loss=0.1)
