"""Real corosync clusters for tests: each node a daemon in its own network namespace.

>>> with Cluster(3) as cluster:                         # doctest: +SKIP
...     cpg = cluster.node(1).connect(corosync.CPG)     # a handle bound to node 1
...     cluster.kill(2)
...     cluster.wait_members(1, [1, 3])

Needs root, ``corosync`` and ``iproute2``. See :class:`Cluster`; the pytest plugin
(:mod:`corosync.testing.pytest_plugin`) provides ``corosync_cluster`` and ``corosync_node``.
What the harness does (namespaces, daemons and their pids, faults, cleanup) is logged to
the ``corosync.testing`` logger: milestones at INFO, details at DEBUG, e.g.
``logging.getLogger("corosync.testing").setLevel(logging.DEBUG)`` or pytest's
``--log-cli-level=INFO``.
This package never imports the compiled extension: it drives the daemons with their
command-line tools and leaves client handles to whatever factory the caller passes.
"""

from .cluster import Cluster, ClusterError, Node
from .node import QuorumStatus, python_env

__all__ = ["Cluster", "ClusterError", "Node", "QuorumStatus", "python_env"]
