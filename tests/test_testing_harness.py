"""Tests of corosync.testing itself, against real corosync daemons.

They observe the clusters only through corosync's command-line tools (run inside a node's
namespace) and, for the "handle bound to a node" claims, through the C client libraries
via ctypes: never through corosync's own Python binding, which is tested elsewhere.

They need root and never skip: without root they fail, saying so.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import corosync.testing
from corosync.testing import Cluster, ClusterError, Node, config, netns
from corosync.testing._resources import LOCK_DIR, shm_entries
from corosync.testing.network import Network

# --- helpers -----------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _require_root() -> None:
    if os.geteuid() != 0:
        pytest.fail(
            "tests/test_testing_harness.py starts real corosync daemons in network namespaces"
            " and must run as root (or with CAP_SYS_ADMIN and CAP_NET_ADMIN)",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def cluster3() -> Iterator[Cluster]:
    """One 3-node cluster shared by the fault tests (each starts from ``reset()``)."""
    with Cluster(3) as cluster:
        yield cluster


@pytest.fixture
def healthy(cluster3: Cluster) -> Cluster:
    cluster3.reset()
    return cluster3


def quorumtool(node: Node) -> tuple[bool, set[int]]:
    """(quorate, member node ids) of a node, from ``corosync-quorumtool -s`` output."""
    proc = node.run(["corosync-quorumtool", "-s"])
    assert proc.returncode in (0, 2), proc.stderr
    quorate = re.search(r"^Quorate:\s+(Yes|No)\s*$", proc.stdout, re.M)
    assert quorate is not None, proc.stdout
    members_text = proc.stdout.split("Membership information", 1)[1]
    members = {int(m) for m in re.findall(r"^\s+(\d+)\s+\d+\s+\S", members_text, re.M)}
    # The tool's exit status agrees with the text: 0 quorate, 2 not quorate.
    assert (proc.returncode == 0) == (quorate.group(1) == "Yes")
    return quorate.group(1) == "Yes", members


def cmap_joined(node: Node) -> set[int]:
    """Node ids with ``runtime.members.<id>.status = joined`` in the node's cmap."""
    out = node.run(["corosync-cmapctl", "-b", "runtime.members"], check=True).stdout
    return {
        int(m) for m in re.findall(r"^runtime\.members\.(\d+)\.status \(str\) = joined", out, re.M)
    }


@dataclass
class Footprint:
    """What a cluster created, noted while it runs, to check that close() removed it."""

    netns_prefix: str
    pids: list[int]
    tmpdir: str
    index: int
    veth_prefix: str


def footprint(cluster: Cluster) -> Footprint:
    pids = [n.pid for n in cluster.nodes if n.pid is not None]
    prefix = cluster.node(1).netns.rsplit("-n", 1)[0] + "-"
    return Footprint(prefix, pids, cluster.tmpdir, cluster.index, f"cst{cluster.index}n")


def our_netns(prefix: str) -> list[str]:
    try:
        return [n for n in os.listdir(netns.NETNS_DIR) if n.startswith(prefix)]
    except FileNotFoundError:
        return []


def assert_cleaned(fp: Footprint) -> None:
    assert our_netns(fp.netns_prefix) == []
    for pid in fp.pids:
        # The pid may have been reused by now, but not by a process of that cluster.
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            cmdline = b""
        assert fp.tmpdir.encode() not in cmdline, f"daemon {pid} still runs"
        assert shm_entries(pid) == [], f"/dev/shm files of daemon {pid} left behind"
    assert not os.path.exists(fp.tmpdir)
    # The host namespace never had any of the cluster's links.
    host_links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert fp.veth_prefix not in host_links
    # The subnet lock was released. Another test run may take the free subnet at once, but
    # not in the name of this process (the clusters of this one hold other subnets).
    assert os.getpid() not in flock_holders(lock_path(fp.index))


def lock_path(index: int) -> str:
    return os.path.join(LOCK_DIR, f"subnet-{index}.lock")


def flock_holders(path: str) -> set[int]:
    """Pids holding a flock on ``path``, from /proc/locks."""
    st = os.stat(path)
    device_inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    holders = set()
    for line in Path("/proc/locks").read_text().splitlines():
        # "1: FLOCK  ADVISORY  WRITE 1234 00:1a:567 0 EOF"; a blocked waiter has "->" after
        # the number and so does not match.
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == device_inode:
            holders.add(int(fields[4]))
    return holders


def record_tmpdirs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the clusters created from now on report their temp dirs into the returned list."""
    made: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(*args: Any, **kwargs: Any) -> str:
        path: str = real_mkdtemp(*args, **kwargs)
        made.append(path)
        return path

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    return made


def thread_netns() -> str:
    return os.readlink("/proc/thread-self/ns/net")


# The C client libraries, for handles opened through Node.connect().
_libcmap = ctypes.CDLL("libcmap.so.4")
_libcpg = ctypes.CDLL("libcpg.so.4")
CS_OK = 1


def cmap_open() -> int:
    handle = ctypes.c_uint64()
    rc = _libcmap.cmap_initialize(ctypes.byref(handle))
    assert rc == CS_OK, f"cmap_initialize returned {rc}"
    return handle.value


def cmap_u32(handle: int, key: str) -> int:
    value = ctypes.c_uint32()
    rc = _libcmap.cmap_get_uint32(ctypes.c_uint64(handle), key.encode(), ctypes.byref(value))
    assert rc == CS_OK, f"cmap_get_uint32({key}) returned {rc}"
    return value.value


def cmap_close(handle: int) -> None:
    _libcmap.cmap_finalize(ctypes.c_uint64(handle))


class CpgName(ctypes.Structure):
    _fields_ = [("length", ctypes.c_uint32), ("value", ctypes.c_char * 128)]


def cpg_open_and_join(group: str) -> int:
    handle = ctypes.c_uint64()
    callbacks = (ctypes.c_void_p * 2)()  # cpg_callbacks_t: no deliver/confchg callbacks
    rc = _libcpg.cpg_initialize(ctypes.byref(handle), ctypes.byref(callbacks))
    assert rc == CS_OK, f"cpg_initialize returned {rc}"
    name = CpgName(len(group), group.encode())
    rc = _libcpg.cpg_join(handle, ctypes.byref(name))  # handle: a c_uint64, passed as one
    assert rc == CS_OK, f"cpg_join returned {rc}"
    return handle.value


# --- units -------------------------------------------------------------------------------


def test_config_has_the_documented_keys() -> None:
    text = config.render(
        cluster_name="c1",
        nodes=[config.NodeEntry(1, "10.0.0.1", "node1"), config.NodeEntry(2, "10.0.0.2", "node2")],
        log_path="/tmp/x/corosync.log",
        state_dir="/tmp/x/state",
        token_ms=700,
    )
    for line in (
        "version: 2",
        "cluster_name: c1",
        "transport: knet",
        "token: 700",
        "nodeid: 2",
        "ring0_addr: 10.0.0.2",
        "provider: corosync_votequorum",
        "to_logfile: yes",
        "logfile: /tmp/x/corosync.log",
        "to_stderr: no",
        "to_syslog: no",
        "timestamp: on",
        "state_dir: /tmp/x/state",
    ):
        assert f"    {line}\n" in text or f"        {line}\n" in text, line
    assert "two_node" not in text
    with pytest.raises(ValueError):
        config.render(cluster_name="a\nb", nodes=[], log_path="l", state_dir="s")


def test_missing_prerequisites_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = shutil.which
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(
        shutil,
        "which",
        lambda prog, *a, **k: None if prog == "corosync" else real_which(prog),
    )
    with pytest.raises(ClusterError) as info:
        Cluster(1)
    message = str(info.value)
    assert "root" in message and "uid 1000" in message
    assert "corosync (Debian package corosync)" in message
    assert "ip (" not in message


# --- one node ----------------------------------------------------------------------------


def test_one_node_starts_quorate_and_cleans_up() -> None:
    started = time.monotonic()
    with Cluster(1) as cluster:
        elapsed = time.monotonic() - started
        node = cluster.node(1)
        assert cluster.nodes == [node]
        assert (node.nodeid, node.address, node.alive) == (1, "127.0.0.1", True)
        assert quorumtool(node) == (True, {1})
        # Popen's pid is corosync itself (everything in between exec'd in place), inside
        # the node's namespace.
        assert node.pid is not None
        assert Path(f"/proc/{node.pid}/comm").read_text().strip() == "corosync"
        assert netns.inode(f"/proc/{node.pid}/ns/net") == netns.inode(
            f"{netns.NETNS_DIR}/{node.netns}"
        )
        assert shm_entries(node.pid), "expected the daemon's blackbox in /dev/shm"
        assert "Corosync Cluster Engine" in Path(node.log_path).read_text()
        # lo only: one node needs no network, and gets none.
        links = node.run(["ip", "-o", "link"], check=True).stdout.splitlines()
        assert len(links) == 1 and ": lo:" in links[0]
        with pytest.raises(ClusterError, match="at least 2 nodes"):
            cluster.partition([1])
        with pytest.raises(IndexError):
            cluster.node(2)
        fp = footprint(cluster)
    assert cluster.closed
    assert_cleaned(fp)
    cluster.close()  # idempotent
    print(f"one-node cluster quorate after {elapsed:.2f} s")


def test_cleanup_after_an_exception_inside_with() -> None:
    fps = []
    with pytest.raises(RuntimeError, match="boom"), Cluster(1) as cluster:
        fps.append(footprint(cluster))
        raise RuntimeError("boom")
    assert_cleaned(fps[0])
    with pytest.raises(ClusterError, match="closed"):
        cluster.kill(1)


def test_daemon_failing_at_start_is_reported_and_cleaned(monkeypatch: pytest.MonkeyPatch) -> None:
    real_render = config.render

    def broken(**kwargs: Any) -> str:
        return real_render(**kwargs).replace("provider: corosync_votequorum", "{{{")

    monkeypatch.setattr(config, "render", broken)
    tmpdirs = record_tmpdirs(monkeypatch)
    mine = f"cst-{os.getpid()}-"
    # Noticed when the daemon exits, not at the quorum timeout: waiting for that one would
    # outlast pytest's timeout and fail the test.
    with pytest.raises(ClusterError) as info:
        Cluster(1, quorum_timeout=3600)
    message = str(info.value)
    assert "exited" in message and "daemon.out" in message, message
    assert "parse error" in message.lower() or "error" in message.lower(), message
    assert our_netns(mine) == []
    assert len(tmpdirs) == 1 and not os.path.exists(tmpdirs[0])


def test_network_setup_failing_midway_is_cleaned(monkeypatch: pytest.MonkeyPatch) -> None:
    real_veth = Network.veth

    def bad_veth(self: Network, i: int) -> tuple[str, str]:
        inner, outer = real_veth(self, i)
        # Interface names are limited to 15 characters: `ip link add` fails for node 2,
        # after the switch and node 1 were set up.
        return (inner + "x" * 20, outer) if i == 2 else (inner, outer)

    monkeypatch.setattr(Network, "veth", bad_veth)
    tmpdirs = record_tmpdirs(monkeypatch)
    mine = f"cst-{os.getpid()}-"
    with pytest.raises(ClusterError, match="ip link add") as info:
        Cluster(3)
    assert "exit status" in str(info.value)
    assert our_netns(mine) == []
    assert len(tmpdirs) == 1 and not os.path.exists(tmpdirs[0])


# --- three nodes -------------------------------------------------------------------------


def test_three_nodes_form_one_quorate_cluster(cluster3: Cluster) -> None:
    nodes = cluster3.nodes
    assert [n.nodeid for n in nodes] == [1, 2, 3]
    assert [cluster3.node(i) for i in (1, 2, 3)] == nodes
    for bad in (0, 4, -1):
        with pytest.raises(IndexError):
            cluster3.node(bad)
    subnet = f"10.213.{cluster3.index}."
    assert [n.address for n in nodes] == [f"{subnet}{i}" for i in (1, 2, 3)]
    assert len({n.netns for n in nodes}) == 3
    for node in nodes:
        assert quorumtool(node) == (True, {1, 2, 3})
        assert cmap_joined(node) == {1, 2, 3}
        assert node.run(["corosync-cpgtool"]).returncode == 0
        # No default route anywhere: cluster traffic cannot leave the namespaces.
        assert node.run(["ip", "route", "show", "default"], check=True).stdout.strip() == ""
        assert node.run(["ip", "-4", "route"], check=True).stdout.startswith(f"{subnet}0/24 ")
    host_links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert f"cst{cluster3.index}" not in host_links


def test_connect_runs_the_factory_inside_the_node_netns(cluster3: Cluster) -> None:
    node = cluster3.node(2)
    own = thread_netns()
    expected = f"net:[{netns.inode(f'{netns.NETNS_DIR}/{node.netns}')}]"
    assert node.connect(os.readlink, "/proc/thread-self/ns/net") == expected
    assert thread_netns() == own
    with pytest.raises(ZeroDivisionError):
        node.connect(lambda: 1 // 0)
    assert thread_netns() == own

    # Only the calling thread moves (a thread that already exists stays where it is), and
    # children started meanwhile inherit the namespace.
    seen: list[str] = []
    inside, looked = threading.Event(), threading.Event()

    def bystander() -> None:
        inside.wait(10)
        seen.append(thread_netns())
        looked.set()

    other = threading.Thread(target=bystander)
    other.start()
    with node.entered():
        inside.set()
        looked.wait(10)
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    other.join()
    assert seen == [own]
    assert f"cst{cluster3.index}n2" in links
    assert thread_netns() == own

    # A client handle opened inside a node keeps talking to that node's daemon.
    handles = {i: cluster3.node(i).connect(cmap_open) for i in (1, 2, 3)}
    try:
        for i, handle in handles.items():
            assert cmap_u32(handle, "runtime.votequorum.this_node_id") == i
    finally:
        for handle in handles.values():
            cmap_close(handle)


def test_cpg_group_joined_on_one_node_is_seen_on_another(cluster3: Cluster) -> None:
    handle = cluster3.node(1).connect(cpg_open_and_join, "harness-test")
    try:
        pattern = re.compile(
            rf"^harness-test\n\s+{os.getpid()}\s+1 \(10\.213\.{cluster3.index}\.1\)$", re.M
        )
        cluster3.wait_for(
            lambda: pattern.search(cluster3.node(3).run(["corosync-cpgtool"]).stdout),
            10,
            "node 3 to list the group joined on node 1",
        )
    finally:
        _libcpg.cpg_finalize(ctypes.c_uint64(handle))


def test_kill_and_restart(healthy: Cluster) -> None:
    victim = healthy.node(2)
    pid = victim.pid
    assert pid is not None
    # A client connected to the victim: its connection files are named after the daemon.
    client = victim.connect(cmap_open)
    assert any(os.path.basename(p).startswith(f"qb-{pid}-{os.getpid()}-") for p in shm_entries(pid))
    started = time.monotonic()
    healthy.kill(2)
    assert not victim.alive and victim.pid is None
    assert shm_entries(pid) == []
    with pytest.raises(ClusterError, match="not running"):
        healthy.kill(2)
    for i in (1, 3):
        healthy.wait_members(i, [1, 3], timeout=15)
    detected = time.monotonic() - started
    for i in (1, 3):
        assert quorumtool(healthy.node(i)) == (True, {1, 3})
    cmap_close(client)  # fails (daemon gone) but must not crash

    started = time.monotonic()
    healthy.restart(2)
    assert victim.alive and victim.pid not in (None, pid)
    for i in (1, 2, 3):
        healthy.wait_members(i, [1, 2, 3], timeout=15)
    rejoined = time.monotonic() - started
    for i in (1, 2, 3):
        assert quorumtool(healthy.node(i)) == (True, {1, 2, 3})
    print(f"kill noticed after {detected:.2f} s, restart rejoined after {rejoined:.2f} s")


def test_partition_and_heal(healthy: Cluster) -> None:
    started = time.monotonic()
    healthy.partition([1], [2, 3])
    healthy.wait_quorate(1, False, timeout=15)
    healthy.wait_members(1, [1], timeout=15)
    for i in (2, 3):
        healthy.wait_members(i, [2, 3], timeout=15)
    detected = time.monotonic() - started
    assert quorumtool(healthy.node(1)) == (False, {1})
    for i in (2, 3):
        assert quorumtool(healthy.node(i)) == (True, {2, 3})

    started = time.monotonic()
    healthy.heal()
    for i in (1, 2, 3):
        healthy.wait_members(i, [1, 2, 3], timeout=20)
        healthy.wait_quorate(i, timeout=20)
    healed = time.monotonic() - started
    for i in (1, 2, 3):
        assert quorumtool(healthy.node(i)) == (True, {1, 2, 3})
    print(f"partition noticed after {detected:.2f} s, healed after {healed:.2f} s")


def test_partition_needs_every_node_exactly_once(cluster3: Cluster) -> None:
    for groups in ([[1], [2]], [[1, 2], [2, 3]], [[1, 2, 3], []], [[1, 2, 3, 4]]):
        with pytest.raises(ValueError, match="exactly"):
            cluster3.partition(*groups)


def test_isolate_then_reset_repairs_everything(healthy: Cluster) -> None:
    healthy.isolate(3)
    healthy.wait_quorate(3, False, timeout=15)
    for i in (1, 2):
        healthy.wait_members(i, [1, 2], timeout=15)
    healthy.kill(1)
    healthy.wait_quorate(2, False, timeout=15)  # 1 vote of 3
    # Left broken on purpose: reset() (what the fixtures use) must repair all of it.
    started = time.monotonic()
    healthy.reset()
    for node in healthy.nodes:
        assert node.alive
        assert quorumtool(node) == (True, {1, 2, 3})
    print(f"reset after isolate+kill took {time.monotonic() - started:.2f} s")


def test_wait_for_timeout_names_the_wait_and_shows_logs(cluster3: Cluster) -> None:
    with pytest.raises(ClusterError) as info:
        cluster3.wait_for(lambda: False, 0.2, "the impossible")
    message = str(info.value)
    assert "waiting for the impossible" in message
    for node in cluster3.nodes:
        assert node.log_path in message
    assert "corosync notice" in message


# --- several clusters --------------------------------------------------------------------


def test_subnet_lock_is_held_while_the_cluster_runs() -> None:
    with Cluster(1) as cluster:
        path = lock_path(cluster.index)
        # flock locks belong to an open file description: another open() of the same file,
        # even in this process, must be refused while the cluster holds its lease.
        fd = os.open(path, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        assert os.getpid() in flock_holders(path)
        fp = footprint(cluster)
    assert_cleaned(fp)  # which includes: the lock is no longer ours


def test_two_clusters_at_once_do_not_collide(cluster3: Cluster) -> None:
    with Cluster(1) as a, Cluster(1) as b:
        assert len({a.index, b.index, cluster3.index}) == 3
        assert a.node(1).netns != b.node(1).netns
        for c in (a, b):
            assert quorumtool(c.node(1)) == (True, {1})
            name = c.node(1).run(["corosync-cmapctl", "totem.cluster_name"], check=True).stdout
            assert name.strip().endswith(f"= {c.name}")
        fps = [footprint(a), footprint(b)]

    # A second 3-node cluster beside the module's one: same node ids, other subnet.
    started = time.monotonic()
    with Cluster(3) as other:
        elapsed = time.monotonic() - started
        assert other.index != cluster3.index
        for first, second in zip(cluster3.nodes, other.nodes, strict=True):
            assert first.address != second.address
            assert quorumtool(first) == (True, {1, 2, 3})
            assert quorumtool(second) == (True, {1, 2, 3})
            assert cmap_joined(second) == {1, 2, 3}
        fps.append(footprint(other))
    for fp in fps:
        assert_cleaned(fp)
    print(f"second three-node cluster quorate after {elapsed:.2f} s")


def test_pytest_plugin_in_a_parallel_pytest_run(cluster3: Cluster, tmp_path: Path) -> None:
    """Runs another pytest with the plugin while this run's cluster is up."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(
            """
            import pytest
            from corosync.testing import Cluster, Node

            @pytest.fixture(scope="module")
            def corosync_cluster_size() -> int:
                return 2

            def test_node(corosync_node: Node) -> None:
                status = corosync_node.quorum_status()
                assert status is not None and status.quorate and status.members == {1}

            def test_damage(corosync_healthy_cluster: Cluster) -> None:
                assert len(corosync_healthy_cluster.nodes) == 2
                corosync_healthy_cluster.kill(2)

            def test_repaired(corosync_healthy_cluster: Cluster, corosync_cluster: Cluster) -> None:
                assert corosync_healthy_cluster is corosync_cluster
                assert all(n.alive for n in corosync_healthy_cluster.nodes)
                status = corosync_healthy_cluster.node(1).quorum_status()
                assert status is not None and status.members == {1, 2}
            """
        )
    )
    # The plugin is loaded explicitly, so that the run works whether or not the package's
    # pytest11 entry point is installed (autoloading it as well would register it twice).
    env = dict(inner_env(), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    argv = [sys.executable, "-m", "pytest", "-p", "corosync.testing.pytest_plugin"]
    proc = subprocess.run(
        [*argv, "-p", "no:cacheprovider", "test_inner.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout
    # pytest_report_header names the corosync the clusters run.
    assert "corosync: Corosync Cluster Engine, version" in proc.stdout, proc.stdout
    assert quorumtool(cluster3.node(1)) == (True, {1, 2, 3})


def inner_env() -> dict[str, str]:
    """Environment for a child Python that imports corosync from where this run does."""
    package_root = str(Path(corosync.testing.__file__).resolve().parents[2])
    pythonpath = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=pythonpath)


def test_leftovers_of_a_killed_process_are_reclaimed() -> None:
    script = textwrap.dedent(
        """
        import os
        from corosync.testing import Cluster
        node = Cluster(1).node(1)
        print(node.netns, node.pid, node.cluster.tmpdir, node.cluster.index, flush=True)
        os.kill(os.getpid(), 9)  # no close(), no finalizer, no atexit
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], env=inner_env(), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == -9, proc.stdout + proc.stderr
    name, pid_text, tmpdir, index = proc.stdout.split()
    pid = int(pid_text)
    fp = Footprint(name.rsplit("-n", 1)[0] + "-", [pid], tmpdir, int(index), f"cst{index}n")
    assert netns.exists(name) and shm_entries(pid), "the killed process left nothing behind?"
    # Any new cluster first reclaims what dead holders of subnet locks left behind.
    with Cluster(1):
        pass
    assert_cleaned(fp)
