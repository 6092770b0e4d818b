"""Real corosync clusters for tests: each node a daemon in its own network namespace.

>>> with Cluster(3) as cluster:                         # doctest: +SKIP
...     cpg = cluster.node(1).connect(corosync.CPG)     # a handle bound to node 1
...     cluster.kill(2)
...     cluster.wait_members(1, [1, 3])

Votequorum settings (votes per node, :class:`QuorumOptions`, a :class:`QdeviceOptions` for
a quorum device registered through the votequorum API) are keyword arguments of
:class:`Cluster`; :meth:`Node.quorum_status` reads back what corosync made of them
(:class:`QuorumStatus`). ``links=`` gives every node several knet links, each on a network of
its own, and :meth:`Cluster.cut_link` cuts one link of one node. :meth:`Cluster.reconfigure`
rewrites every node's ``corosync.conf`` and has corosync reload it, and
:meth:`Cluster.add_node` adds a node to a running cluster that way.

Needs root, ``corosync`` and ``iproute2``. See :class:`Cluster`; the pytest plugin
(:mod:`corosync.testing.pytest_plugin`) provides ``corosync_cluster`` and ``corosync_node``.
What the harness does (namespaces, daemons and their pids, faults, cleanup) is logged to
the ``corosync.testing`` logger: milestones at INFO, details at DEBUG, e.g.
``logging.getLogger("corosync.testing").setLevel(logging.DEBUG)`` or pytest's
``--log-cli-level=INFO``.
The harness drives the daemons with their command-line tools; its own waits read quorum and
membership through the binding (short-lived :class:`corosync.Quorum` handles), and client
handles are left to whatever factory the caller passes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cluster import Cluster, ClusterError, Node
    from .node import python_env
    from .options import QdeviceOptions, QuorumOptions
    from .status import QdeviceStatus, QuorumStatus

__all__ = [
    "Cluster",
    "ClusterError",
    "Node",
    "QdeviceOptions",
    "QdeviceStatus",
    "QuorumOptions",
    "QuorumStatus",
    "python_env",
]

# The names are imported on first use (PEP 562), not with the package: the pytest plugin,
# a submodule loaded into every pytest run where corosync is installed, must not pull in
# the harness (ctypes, libc's setns) for sessions that never start a cluster.
_HOME = {
    "Cluster": ".cluster",
    "ClusterError": ".node",
    "Node": ".node",
    "QdeviceOptions": ".options",
    "QdeviceStatus": ".status",
    "QuorumOptions": ".options",
    "QuorumStatus": ".status",
    "python_env": ".node",
}


if not TYPE_CHECKING:  # hidden from mypy, which would otherwise type any typo as Any

    def __getattr__(name: str) -> Any:
        if name not in _HOME:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(_HOME[name], __name__), name)
        globals()[name] = value  # later lookups no longer come here
        return value

    def __dir__() -> list[str]:
        return sorted([*globals(), *__all__])
