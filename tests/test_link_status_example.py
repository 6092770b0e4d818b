"""examples/link_status.py run as a real program on node 1 of a three-node cluster with two
knet links: its first lines show nodes 2 and 3 reachable with links 0 and 1 connected between
the right addresses; cutting link 1 of node 3 prints one "down" line, healing one
"connected" line, and nothing else changes; --count then ends it with status 0, as SIGTERM
does, and --timeout with status 1."""

from __future__ import annotations

import re
import signal
from collections.abc import Callable, Iterator

import pytest
from cfg_helpers import closing
from example_processes import Running

from corosync.testing import Cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """Three nodes joined by two knet links, shared by the module."""
    with Cluster(3, links=2) as cluster:
        yield cluster


@pytest.fixture
def link_status(cluster: Cluster) -> Iterator[Callable[..., Running]]:
    """Starts examples/link_status.py with the given arguments on node 1 of the healed
    cluster; kills what is left after the test."""
    cluster.reset()
    yield from closing(lambda *args: Running(cluster.node(1), "link_status.py", *args))


def link_line(cluster: Cluster, peer: int, link: int, state: str, *, changed: bool) -> str:
    """A pattern for the whole line that shows node 1's link ``link`` to ``peer``."""
    src = re.escape(cluster.node(1).addresses[link])
    dst = re.escape(cluster.node(peer).addresses[link])
    stamp = r"\d\d:\d\d:\d\d\.\d{3} " if changed else ""
    return rf"^{stamp}node {peer} link {link}: {state} \({src} -> {dst}, mtu \d+\)$"


def first_lines(cluster: Cluster) -> list[str]:
    """Patterns for what the example prints first on node 1 of the healthy cluster."""
    patterns = ["^links of node 1$"]
    for peer in (2, 3):
        patterns.append(f"^node {peer}: reachable$")
        patterns += [link_line(cluster, peer, link, "connected", changed=False) for link in (0, 1)]
    return patterns


def assert_lines(lines: list[str], patterns: list[str]) -> None:
    assert len(lines) == len(patterns), lines
    for line, pattern in zip(lines, patterns, strict=True):
        assert re.fullmatch(pattern, line), (line, pattern)


def test_a_cut_and_healed_link_is_reported_once_each_way(
    cluster: Cluster, link_status: Callable[..., Running]
) -> None:
    counted = link_status("--interval", "0.2", "--count", "2", "--timeout", "120")
    watching = link_status("--interval", "0.2")
    start = first_lines(cluster)
    for program in (counted, watching):
        program.wait_for(start[-1])
        assert_lines(program.lines, start)

    cluster.cut_link(3, 1)
    down = link_line(cluster, 3, 1, "down", changed=True)
    for program in (counted, watching):
        program.wait_for(down)
    cluster.heal()
    up = link_line(cluster, 3, 1, "connected", changed=True)
    for program in (counted, watching):
        program.wait_for(up)

    assert counted.finish() == 0  # --count 2: the two changes
    assert_lines(counted.lines, [*start, down, up])
    watching.proc.send_signal(signal.SIGTERM)
    assert watching.finish() == 0
    assert_lines(watching.lines, [*start, down, up])


def test_timeout_before_count_changes_exits_with_status_1(
    cluster: Cluster, link_status: Callable[..., Running]
) -> None:
    waiting = link_status("--interval", "0.2", "--count", "1", "--timeout", "1")
    assert waiting.finish() == 1
    assert_lines(waiting.lines, first_lines(cluster))
