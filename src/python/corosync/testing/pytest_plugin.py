"""pytest fixtures for real corosync clusters (entry point ``pytest11``, name ``corosync``).

* ``corosync_cluster`` (module scope): a started :class:`~corosync.testing.Cluster` of
  ``corosync_cluster_size`` nodes (3 unless a test module overrides that fixture), closed at
  the end of the module.
* ``healthy_cluster`` (function scope): ``corosync_cluster`` after
  :meth:`~corosync.testing.Cluster.reset`, so every test starts from a whole, quorate
  cluster even if the previous one killed or partitioned nodes.
* ``corosync_node`` (module scope): node 1 of a one-node cluster.

Fixtures never skip: without root or the corosync tools they fail with the reason.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from .cluster import Cluster, Node

__all__ = [
    "corosync_cluster",
    "corosync_cluster_size",
    "corosync_node",
    "healthy_cluster",
    "pytest_report_header",
]


def pytest_report_header(config: pytest.Config) -> str:
    """Show which corosync the clusters will run (first line of ``corosync -v``)."""
    try:
        proc = subprocess.run(
            ["corosync", "-v"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError) as e:
        return f"corosync: not available ({e})"
    lines = (proc.stdout or proc.stderr).strip().splitlines()
    return f"corosync: {lines[0] if lines else 'unknown version'}"


@pytest.fixture(scope="module")
def corosync_cluster_size() -> int:
    """Number of nodes of ``corosync_cluster``; override in a test module to change it."""
    return 3


@pytest.fixture(scope="module")
def corosync_cluster(corosync_cluster_size: int) -> Iterator[Cluster]:
    """A started cluster shared by the tests of one module (faults persist between tests;
    use ``healthy_cluster`` to start each test from a whole cluster)."""
    with Cluster(corosync_cluster_size) as cluster:
        yield cluster


@pytest.fixture
def healthy_cluster(corosync_cluster: Cluster) -> Cluster:
    """``corosync_cluster`` healed, with every daemon running and all nodes quorate."""
    corosync_cluster.reset()
    return corosync_cluster


@pytest.fixture(scope="module")
def corosync_node() -> Iterator[Node]:
    """The node of a one-node cluster shared by the tests of one module."""
    with Cluster(1) as cluster:
        yield cluster.node(1)
