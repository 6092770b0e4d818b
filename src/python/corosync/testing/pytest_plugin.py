"""pytest fixtures for real corosync clusters (entry point ``pytest11``, name ``corosync``).

* ``corosync_cluster`` (module scope): a started :class:`~corosync.testing.Cluster` of
  ``corosync_cluster_size`` nodes (3 unless a test module overrides that fixture), closed at
  the end of the module.
* ``corosync_healthy_cluster`` (function scope): ``corosync_cluster`` after
  :meth:`~corosync.testing.Cluster.reset`, so every test starts from a whole, quorate
  cluster even if the previous one killed or partitioned nodes.
* ``corosync_node`` (module scope): node 1 of a one-node cluster.

Installing the package loads this plugin into every pytest run, so it costs nothing until
a test requests one of its fixtures: importing it imports none of the harness, and the
corosync version (``corosync -v``) is reported after collection only when a collected test
uses a fixture of this plugin.

Fixtures never skip: without root or the corosync tools they fail with the reason.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .cluster import Cluster, Node

__all__ = [
    "FIXTURES",
    "corosync_cluster",
    "corosync_cluster_size",
    "corosync_healthy_cluster",
    "corosync_node",
    "corosync_version",
    "pytest_report_collectionfinish",
]

#: The names of this plugin's fixtures.
FIXTURES = frozenset(
    {"corosync_cluster", "corosync_cluster_size", "corosync_healthy_cluster", "corosync_node"}
)


def corosync_version() -> str:
    """The first line of ``corosync -v``, or why it could not be had."""
    try:
        proc = subprocess.run(
            ["corosync", "-v"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError) as e:
        return f"not available ({e})"
    lines = (proc.stdout or proc.stderr).strip().splitlines()
    return lines[0] if lines else "unknown version"


def pytest_report_collectionfinish(
    config: pytest.Config, start_path: Path, items: Sequence[pytest.Item]
) -> list[str]:
    """Name the corosync the clusters will run, if a collected test uses a fixture of ours.

    After collection rather than in the header: only then is it known whether the session
    needs corosync at all. Quiet like the header under ``-q`` and ``--no-header``.
    """
    if config.get_verbosity() < 0 or getattr(config.option, "no_header", False):
        return []
    if not any(FIXTURES.intersection(getattr(item, "fixturenames", ())) for item in items):
        return []
    return [f"corosync: {corosync_version()}"]


@pytest.fixture(scope="module")
def corosync_cluster_size() -> int:
    """Number of nodes of ``corosync_cluster``; override in a test module to change it."""
    return 3


@pytest.fixture(scope="module")
def corosync_cluster(corosync_cluster_size: int) -> Iterator[Cluster]:
    """A started cluster shared by the tests of one module (faults persist between tests;
    use ``corosync_healthy_cluster`` to start each test from a whole cluster)."""
    from .cluster import Cluster  # imported here: see the module docstring

    with Cluster(corosync_cluster_size) as cluster:
        yield cluster


@pytest.fixture
def corosync_healthy_cluster(corosync_cluster: Cluster) -> Cluster:
    """``corosync_cluster`` healed, with every daemon running and all nodes quorate."""
    corosync_cluster.reset()
    return corosync_cluster


@pytest.fixture(scope="module")
def corosync_node() -> Iterator[Node]:
    """The node of a one-node cluster shared by the tests of one module."""
    from .cluster import Cluster

    with Cluster(1) as cluster:
        yield cluster.node(1)
