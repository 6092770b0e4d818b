"""The C++ core builds and works without Python: tests/cpp/core_test.cpp, built with CMake
and run against the real daemon of a one-node cluster."""

from __future__ import annotations

import subprocess

from cpp_build import CoreBuild

from corosync.testing import Node


def test_the_core_links_without_python(cpp_core: CoreBuild) -> None:
    linked = subprocess.run(
        ["ldd", str(cpp_core.core_test)], capture_output=True, text=True, check=True
    )
    for library in ("libcpg", "libcmap", "libquorum", "libvotequorum", "libsam", "libcfg"):
        assert library in linked.stdout
    assert "libpython" not in linked.stdout


def test_the_core_works_against_a_real_daemon(cpp_core: CoreBuild, corosync_node: Node) -> None:
    result = corosync_node.run([str(cpp_core.core_test), "--with-daemon"], timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failure(s)" in result.stdout
    assert "ok   cpg: a 3 MiB message arrives whole" in result.stdout
    assert "ok   cpg: try_mcast_joined sends once the window has room" in result.stdout
    assert "ok   cpg: in_try_dispatch() is true in a callback of try_dispatch only" in result.stdout
    assert "ok   cpg: a burst on one connection asks epoll once per 64 events" in result.stdout
    assert (
        "ok   cpg: join and close from other threads get in while a flooded dispatch(All) runs"
        in result.stdout
    )
    assert "ok   cpg: a pass ends once that connection had no more" in result.stdout
    assert "ok   cmap: a prefix track reports both additions" in result.stdout
    assert "ok   votequorum: getinfo of this node" in result.stdout
    assert "ok   cfg: node_status of this node" in result.stdout
    assert "ok   sam: QUORUM alone is no policy" in result.stdout
