"""The C++ core builds and works without Python: tests/cpp/core_test.cpp, built with CMake
and run against the real daemon of a one-node cluster."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from corosync.testing import Node

REPO = Path(__file__).resolve().parent.parent


def run(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def core_test(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("cxx-build")
    run(["cmake", "-S", str(REPO), "-B", str(build), "-DCOROSYNC_BUILD_TESTS=ON"])
    run(["cmake", "--build", str(build), "--target", "core_test", "-j2"])
    return build / "core_test"


def test_the_core_links_without_python(core_test: Path) -> None:
    linked = subprocess.run(["ldd", str(core_test)], capture_output=True, text=True, check=True)
    for library in ("libcpg", "libcmap", "libquorum", "libvotequorum", "libsam", "libcfg"):
        assert library in linked.stdout
    assert "libpython" not in linked.stdout


def test_the_core_works_against_a_real_daemon(core_test: Path, corosync_node: Node) -> None:
    result = corosync_node.run([str(core_test), "--with-daemon"], timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failure(s)" in result.stdout
    assert "ok   cpg: a 3 MiB message arrives whole" in result.stdout
    assert "ok   cmap: a prefix track reports both additions" in result.stdout
    assert "ok   votequorum: getinfo of this node" in result.stdout
    assert "ok   cfg: node_status of this node" in result.stdout
    assert "ok   sam: QUORUM alone is no policy" in result.stdout
