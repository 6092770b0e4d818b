"""The public surface of corosync.testing: exported names, documentation, static types."""

from __future__ import annotations

import pydoc
import re

import corosync.testing
from corosync.testing import Cluster, Node, QuorumStatus


def test_quorum_status_is_exported_and_is_what_nodes_return() -> None:
    assert "QuorumStatus" in corosync.testing.__all__
    assert QuorumStatus.__doc__
    with Cluster(1) as cluster:
        status = cluster.node(1).quorum_status()
        assert isinstance(status, QuorumStatus)
        assert (status.nodeid, status.quorate, status.members) == (1, True, {1})


def test_help_on_node_documents_its_attributes() -> None:
    text = pydoc.render_doc(Node, renderer=pydoc.plaintext)
    for name in ("cluster", "nodeid", "address", "netns", "workdir", "log_path", "alive", "pid"):
        # pydoc lists a documented descriptor as its name, then its docstring indented.
        assert re.search(rf"^ \|  {name}\n \|      \S", text, re.M), f"{name} undocumented"
