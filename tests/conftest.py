"""Fixtures shared by the test modules (the cluster fixtures come from corosync.testing's
pytest plugin, installed with the package)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aio_helpers import LOOPS, Run, runner

import corosync
from corosync.testing import Node

CpgFactory = Callable[..., corosync.CPG]
# A string: corosync.CMAP is looked up only when a CMAP test runs.
CmapFactory = Callable[..., "corosync.CMAP"]


@pytest.fixture
def group() -> str:
    """A group name no other test uses."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def open_cpg(corosync_node: Node) -> Iterator[CpgFactory]:
    """Opens CPG handles on the one-node cluster's node; closes them after the test."""
    handles: list[corosync.CPG] = []

    def factory(**kwargs: Any) -> corosync.CPG:
        handle = corosync_node.connect(corosync.CPG, **kwargs)
        handles.append(handle)
        return handle

    yield factory
    for handle in handles:
        handle.close()


@pytest.fixture
def open_cmap(corosync_node: Node) -> Iterator[CmapFactory]:
    """Opens CMAP handles on the one-node cluster's node; closes them after the test."""
    handles: list[corosync.CMAP] = []

    def factory(**kwargs: Any) -> corosync.CMAP:
        handle = corosync_node.connect(corosync.CMAP, **kwargs)
        handles.append(handle)
        return handle

    yield factory
    for handle in handles:
        handle.close()


@pytest.fixture
def cmap(open_cmap: CmapFactory) -> corosync.CMAP:
    """A CMAP handle (the icmap map) on the one-node cluster's node."""
    return open_cmap()


@pytest.fixture
def prefix() -> str:
    """A CMAP key prefix no other test uses (``test.<12 hex digits>.``)."""
    return f"test.{uuid.uuid4().hex[:12]}."


@pytest.fixture(params=LOOPS)
def run(request: pytest.FixtureRequest) -> Run:
    """Runs a coroutine on a new event loop of each kind (asyncio's, uvloop's): a test using
    it runs once per kind."""
    return runner(request.param)
