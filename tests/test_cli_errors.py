"""The command line's failures: one line on stderr naming the problem and exit status 1, never a
traceback (but with --debug); usage errors alike; corosync not reachable (a killed node's
namespace) and lost while a stream runs. Also the installed ``corosync-py`` entry point."""

from __future__ import annotations

import importlib
import re
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cfg_helpers import DEADLINE
from cli_helpers import Streaming, cli

from corosync.cmap import CMAP, ValueType
from corosync.testing import Cluster, Node

NOT_REACHABLE = (
    "python -m corosync: error: corosync is not reachable ({}: CS_ERR_LIBRARY): is corosync "
    "running in this network namespace, and may this user connect to it?"
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A one-node cluster shared by the module."""
    with Cluster(1) as cluster:
        yield cluster


@pytest.fixture
def node(cluster: Cluster) -> Node:
    """The cluster's node, its daemon running."""
    cluster.reset()
    return cluster.node(1)


@pytest.mark.parametrize("json", [False, True], ids=["text", "json"])
def test_a_missing_key_is_one_line_and_exit_status_1(node: Node, json: bool) -> None:
    ran = cli(node, "cmap", "get", *(["--json"] if json else []), "no.such.key")
    assert ran.error_line() == (
        "python -m corosync: error: cmap_get failed: no key 'no.such.key' (CS_ERR_NOT_EXIST)"
    )


def test_debug_adds_the_traceback(node: Node) -> None:
    ran = cli(node, "--debug", "cmap", "get", "no.such.key")
    assert ran.status == 1
    assert ran.stderr.startswith("Traceback (most recent call last):")
    assert "corosync.errors.NotExistError" in ran.stderr
    assert ran.stderr.splitlines()[-1].startswith("python -m corosync: error: cmap_get failed")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate'"),
        (["cmap", "get"], "the following arguments are required: KEY"),
        (["quorum", "watch", "--count", "0"], "argument --count: expected a positive integer"),
        (["cpg", "listen", "g", "--timeout", "soon"], "argument --timeout: expected a positive"),
        (["links", "--jsn"], "unrecognized arguments: --jsn"),
    ],
    ids=["nothing", "unknown-command", "missing-key", "count-0", "bad-timeout", "bad-option"],
)
def test_a_usage_error_is_one_line_and_exit_status_1(
    node: Node, args: list[str], says: str
) -> None:
    assert says in cli(node, *args).error_line()


def test_help_exits_0(node: Node) -> None:
    ran = cli(node, "status", "--help")
    assert ran.status == 0 and ran.stderr == ""
    assert "Exit status 0: quorate, 2: not quorate, 1: error." in " ".join(ran.stdout.split())


@pytest.mark.parametrize(
    ("args", "function"),
    [
        (["status"], "cmap_initialize_map"),
        (["quorum", "status", "--json"], "cmap_initialize_map"),
        (["links"], "cmap_initialize_map"),
        (["cmap", "get", "totem.token"], "cmap_initialize_map"),
        (["cpg", "groups"], "cpg_model_initialize"),
        (["cpg", "listen", "--json", "g"], "cpg_model_initialize"),
    ],
    ids=["status", "quorum-status", "links", "cmap-get", "cpg-groups", "cpg-listen"],
)
def test_no_daemon_is_one_line_and_exit_status_1(
    cluster: Cluster, node: Node, args: list[str], function: str
) -> None:
    cluster.kill(1)  # its namespace stays, without a corosync
    assert cli(node, *args).error_line() == NOT_REACHABLE.format(function)


def test_a_stream_whose_daemon_dies_ends_with_exit_status_1(cluster: Cluster, node: Node) -> None:
    track = Streaming(node, "cmap", "track", "--prefix", "test.")
    try:
        # Killed only once the tracker has shown a change: corosync lists a connection before
        # cmap_initialize_map has returned, and a kill then fails the initialization instead.
        with node.connect(CMAP) as cmap:
            deadline = time.monotonic() + DEADLINE
            for poke in range(1_000_000):
                assert time.monotonic() < deadline, "the tracker never showed a change"
                cmap.set("test.ready", poke, ValueType.UINT32)
                track.read(0.05)
                if track.lines:
                    break
        cluster.kill(1)
        assert track.finish() == 1
        *changes, error = track.lines
        shown = re.compile(r"(create|modify)> test\.ready \(u32\) = \d+")
        assert changes and all(shown.fullmatch(line) for line in changes), changes
        assert error.startswith("python -m corosync: error: lost the connection to"), error
    finally:
        track.close()


def test_the_corosync_py_script_is_the_command_line() -> None:
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    scripts = tomllib.loads(pyproject.read_text())["project"]["scripts"]
    module, _, name = scripts["corosync-py"].partition(":")
    main = getattr(importlib.import_module(module), name)
    from corosync.cli import main as cli_main

    assert main is cli_main
