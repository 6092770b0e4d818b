"""examples/status_report.py run as a real program on node 1 of a three-node cluster: its
report says what corosync says (quorum and votes, every node's votes and links, the CPG groups
with their members) and it exits 0 while quorate."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from example_processes import EXAMPLES

import corosync
from corosync.testing import Cluster, python_env


def test_the_report_shows_quorum_nodes_links_and_groups(
    corosync_cluster: Cluster, group: str
) -> None:
    member = corosync_cluster.node(2).connect(corosync.CPG)
    member.join(group)
    try:
        program = corosync_cluster.node(1).popen(
            [sys.executable, str(EXAMPLES / "status_report.py")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=python_env(),
            text=True,
        )
        out, err = program.communicate(timeout=60)
        with corosync_cluster.node(1).connect(corosync.Votequorum) as vq:
            info = vq.info()
    finally:
        member.close()
    assert program.returncode == 0, out + err
    lines = out.splitlines()
    assert lines[0] == (
        f"node 1: quorate, votes {info.total_votes}/{info.expected_votes} (quorum {info.quorum})"
    )
    assert lines[1:4] == [
        "  node 1 (this node): 1 vote(s); link 0 up",
        "  node 2: 1 vote(s); link 0 up",
        "  node 3: 1 vote(s); link 0 up",
    ]
    groups = [line for line in lines[4:] if re.match(rf"^group {re.escape(group)}: ", line)]
    # The test's own process joined from node 2: the member is this process.
    assert groups == [f"group {group}: 2/{os.getpid()}"]
