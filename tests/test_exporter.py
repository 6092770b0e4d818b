"""``python -m corosync exporter`` on a one-node cluster, scraped over HTTP from inside the
node's namespace: what it serves against corosync-quorumtool and corosync-cfgtool; its
daemon killed (``ha_cluster_corosync_up 0``, nothing else) and restarted (values back,
without restarting the exporter); a daemon that does not answer; and how it fails to start:
without prometheus_client, with a bad or taken port."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cfg_helpers import DEADLINE
from cli_helpers import CLI, cli
from exporter_helpers import PORT, Exporter, Scrape, agrees

from corosync.testing import Cluster, Node, python_env

#: What a scrape holds while corosync is not reachable.
DOWN = {
    "ha_cluster_corosync_up": [({}, 0.0)],
    "ha_cluster_scrape_success": [({"collector": "corosync"}, 0.0)],
}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A one-node cluster shared by the module."""
    with Cluster(1) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def exporter(cluster: Cluster) -> Iterator[Exporter]:
    """The exporter on the node, started once for the module."""
    running = Exporter(cluster.node(1))
    yield running
    running.close()


@pytest.fixture
def node(cluster: Cluster, exporter: Exporter) -> Node:
    """The node, its daemon running and the exporter connected to it."""
    cluster.reset()
    exporter.wait_scrape(lambda s: s.up, "corosync up")
    return cluster.node(1)


def corosync_samples(scrape: Scrape) -> dict[str, list[tuple[dict[str, str], float]]]:
    """The scrape's samples but the duration of the scrape and the process_* metrics."""
    return {
        name: samples
        for name, samples in scrape.samples.items()
        if name.startswith("ha_cluster_") and name != "ha_cluster_scrape_duration_seconds"
    }


def test_one_node_serves_what_quorumtool_and_cfgtool_show(node: Node, exporter: Exporter) -> None:
    _, scrape = agrees(exporter)
    assert scrape.up and scrape.value("ha_cluster_scrape_success", collector="corosync") == 1
    assert scrape.value("ha_cluster_corosync_quorate") == 1
    assert scrape.table("ha_cluster_corosync_member_votes", "node_id", "node", "local") == {
        ("1", "node1", "true"): 1
    }
    [(labels, healthy)] = scrape.samples["ha_cluster_corosync_rings"]
    assert (labels["number"], labels["address"], healthy) == ("0", node.address, 1)
    # Alone, the node has no link to another node, nor a CPG group.
    assert not any(name.startswith("ha_cluster_corosync_link_") for name in scrape.samples)
    assert "ha_cluster_corosync_cpg_group_members" not in scrape.samples
    assert scrape.families["ha_cluster_corosync_cpg_group_members"] == ("gauge", frozenset())
    assert scrape.value("ha_cluster_scrape_duration_seconds", collector="corosync") > 0
    assert scrape.families["process_resident_memory_bytes"][0] == "gauge"


def test_a_lost_daemon_is_up_0_until_it_is_back(
    cluster: Cluster, node: Node, exporter: Exporter
) -> None:
    pid = exporter.proc.pid
    connected = r"INFO corosync\.exporter: connected to corosync \(node 1\)$"
    lost = r"WARNING corosync\.exporter: lost the connection to corosync: .*; trying again$"
    times = exporter.logged(connected), exporter.logged(lost)
    cluster.kill(1)
    down = exporter.wait_scrape(lambda s: not s.up, "corosync down")
    assert corosync_samples(down) == DOWN  # no stale values
    exporter.wait_logged(lost, times[1] + 1)
    cluster.restart(1)
    back = exporter.wait_scrape(lambda s: s.up, "corosync up again")
    assert back.value("ha_cluster_corosync_quorate") == 1
    agrees(exporter)
    assert exporter.proc.pid == pid and exporter.proc.poll() is None  # the same process
    exporter.wait_logged(connected, times[0] + 1)
    assert exporter.logged(lost) == times[1] + 1  # one line, however long it took


def test_started_before_corosync_it_waits_for_it(cluster: Cluster, node: Node) -> None:
    cluster.kill(1)
    early = Exporter(node, port=PORT + 2)
    try:
        assert corosync_samples(early.scrape()) == DOWN
        early.wait_logged(r"WARNING corosync\.exporter: corosync is not reachable ")
        cluster.restart(1)
        early.wait_scrape(lambda s: s.up, "corosync up")
        agrees(early)
    finally:
        early.close()


def test_a_daemon_that_does_not_answer_is_up_0_after_the_timeout(
    cluster: Cluster, node: Node
) -> None:
    quick = Exporter(node, "--timeout", "0.5", "--address", "127.0.0.1", port=PORT + 1)
    try:
        quick.wait_scrape(lambda s: s.up, "corosync up")
        assert node.pid is not None
        os.kill(node.pid, signal.SIGSTOP)
        try:
            stalled = quick.scrape()  # answers although corosync does not
            assert corosync_samples(stalled) == DOWN
            quick.wait_logged(r"WARNING corosync\.exporter: corosync did not answer within 0\.5 s")
        finally:
            os.kill(node.pid, signal.SIGCONT)
        quick.wait_scrape(lambda s: s.up, "corosync answering again")
        assert quick.stop() == 0  # SIGTERM ends it normally
        assert any("serving metrics on http://127.0.0.1:19665/metrics" in x for x in quick.lines)
    finally:
        quick.close()


def test_without_prometheus_client_it_says_what_to_install(tmp_path: Path) -> None:
    # A sitecustomize that makes `import prometheus_client` fail, as where it is not installed.
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nsys.modules['prometheus_client'] = None\n"
    )
    env = python_env()
    env["PYTHONPATH"] = f"{tmp_path}{os.pathsep}{env['PYTHONPATH']}"
    ran = subprocess.run(
        [*CLI, "exporter", "--port", str(PORT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert (ran.returncode, ran.stdout) == (1, "")
    assert ran.stderr == (
        "python -m corosync: error: the exporter needs prometheus_client: "
        "pip install 'corosync[exporter]'\n"
    )


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_a_bad_port_is_a_usage_error(node: Node, port: str) -> None:
    line = cli(node, "exporter", "--port", port).error_line()
    assert line == (
        "python -m corosync exporter: error: argument --port: expected a TCP port number "
        f"(1-65535), got '{port}' (see python -m corosync exporter --help)"
    )


def test_the_port_is_required(node: Node) -> None:
    assert "the following arguments are required: --port" in cli(node, "exporter").error_line()


def test_a_taken_port_is_one_line_and_exit_status_1(node: Node, exporter: Exporter) -> None:
    assert cli(node, "exporter", "--port", str(exporter.port)).error_line() == (
        f"python -m corosync: error: cannot listen on http://0.0.0.0:{exporter.port}: "
        "Address already in use"
    )
