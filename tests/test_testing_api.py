"""The public surface of corosync.testing: exported names, documentation, static types."""

from __future__ import annotations

import pydoc
import re
import signal
import subprocess
from pathlib import Path
from typing import assert_type

import corosync.testing
from corosync.testing import Cluster, Node, QuorumStatus


def test_quorum_status_is_exported_and_is_what_nodes_return() -> None:
    assert "QuorumStatus" in corosync.testing.__all__
    assert QuorumStatus.__doc__
    with Cluster(1) as cluster:
        status = cluster.node(1).quorum_status()
        assert isinstance(status, QuorumStatus)
        assert (status.nodeid, status.quorate, status.members) == (1, True, frozenset({1}))


def test_help_on_node_documents_its_attributes() -> None:
    text = pydoc.plain(pydoc.render_doc(Node))
    for name in ("cluster", "nodeid", "address", "netns", "workdir", "log_path", "alive", "pid"):
        # pydoc lists a documented descriptor as its name, then its docstring indented.
        assert re.search(rf"^ \|  {name}\n \|      \S", text, re.M), f"{name} undocumented"


def test_popen_output_type_follows_text_arguments() -> None:
    # assert_type makes mypy --strict (tools/check_types.sh) check the overloads of popen;
    # at runtime the outputs show what those types promise.
    with Cluster(1) as cluster:
        node = cluster.node(1)
        as_bytes = node.popen(["echo", "hi"], stdout=subprocess.PIPE)
        assert_type(as_bytes, subprocess.Popen[bytes])
        as_text = node.popen(["echo", "hi"], stdout=subprocess.PIPE, text=True)
        assert_type(as_text, subprocess.Popen[str])
        decoded = node.popen(["echo", "hi"], stdout=subprocess.PIPE, encoding="utf-8")
        assert_type(decoded, subprocess.Popen[str])
        assert as_bytes.communicate(timeout=10)[0] == b"hi\n"
        assert as_text.communicate(timeout=10)[0] == "hi\n"
        assert decoded.communicate(timeout=10)[0] == "hi\n"


def test_popen_starts_programs_with_every_signal_at_its_default() -> None:
    # A run started by nohup, or as a background job of a script, inherits SIGHUP or SIGINT
    # ignored, and exec keeps an ignored signal ignored: a program that a test stops with
    # SIGINT (as Ctrl-C would) or SIGHUP would go on running.
    with Cluster(1) as cluster:
        ignored = (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)
        saved = {signum: signal.signal(signum, signal.SIG_IGN) for signum in ignored}
        try:
            proc = cluster.node(1).popen(
                ["grep", "^SigIgn:", "/proc/self/status"], stdout=subprocess.PIPE, text=True
            )
        finally:
            for signum, handler in saved.items():
                signal.signal(signum, handler)
        out, _ = proc.communicate(timeout=10)
    assert int(out.split()[1], 16) == 0, f"the program started with signals ignored: {out}"


def test_popen_runs_a_program_whose_path_holds_an_equals_sign(tmp_path: Path) -> None:
    # What resets the signals must not take such a path for a NAME=VALUE (env(1) would).
    program = tmp_path / "a=b" / "prog"
    program.parent.mkdir()
    program.write_text('#!/bin/sh\necho ran "$@"\n')
    program.chmod(0o755)
    with Cluster(1) as cluster:
        proc = cluster.node(1).popen([str(program), "x=1"], stdout=subprocess.PIPE, text=True)
        assert proc.communicate(timeout=10)[0] == "ran x=1\n"
