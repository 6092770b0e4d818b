"""Fixtures shared by the test modules (the cluster fixtures come from corosync.testing's
pytest plugin, installed with the package)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import ParamSpec, Protocol, TypeVar

import pytest
from aio_helpers import LOOPS, Member, Run, runner
from cpp_build import CoreBuild, build_and_install
from example_processes import Running, StartOn
from sam_programs import SamProgram, StartSam

import corosync
from corosync.testing import Cluster, Node

CpgFactory = Callable[..., corosync.CPG]
# A string: corosync.CMAP is looked up only when a CMAP test runs.
CmapFactory = Callable[..., "corosync.CMAP"]
MemberFactory = Callable[[str], Member]
P = ParamSpec("P")


class SupportsClose(Protocol):
    def close(self) -> None: ...


Closable = TypeVar("Closable", bound=SupportsClose)


@pytest.fixture
def group() -> str:
    """A group name no other test uses."""
    return f"test-{uuid.uuid4().hex[:12]}"


def _closing(make: Callable[P, Closable]) -> Iterator[Callable[P, Closable]]:
    """The body of the fixtures below that open or start things: yields `make`, noting what
    it makes, and closes all of that once the fixture is torn down."""
    made: list[Closable] = []

    def factory(*args: P.args, **kwargs: P.kwargs) -> Closable:
        thing = make(*args, **kwargs)
        made.append(thing)
        return thing

    yield factory
    for thing in made:
        thing.close()


@pytest.fixture
def open_cpg(corosync_node: Node) -> Iterator[CpgFactory]:
    """Opens CPG handles on the one-node cluster's node; closes them after the test."""
    yield from _closing(lambda **kwargs: corosync_node.connect(corosync.CPG, **kwargs))


@pytest.fixture
def open_cmap(corosync_node: Node) -> Iterator[CmapFactory]:
    """Opens CMAP handles on the one-node cluster's node; closes them after the test."""
    yield from _closing(lambda **kwargs: corosync_node.connect(corosync.CMAP, **kwargs))


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


@pytest.fixture
def start_member(corosync_node: Node) -> Iterator[MemberFactory]:
    """Starts a member of a group in a process of its own on the one-node cluster's node
    (aio_helpers.Member); kills what is left after the test."""
    yield from _closing(lambda group: Member(corosync_node, group))


@pytest.fixture
def run_on(corosync_cluster: Cluster) -> Iterator[StartOn]:
    """Starts examples on a node of the shared cluster; kills what is left after the test."""
    yield from _closing(
        lambda nodeid, script, *args: Running(corosync_cluster.node(nodeid), script, *args)
    )


@pytest.fixture
def start_sam() -> Iterator[StartSam]:
    """Starts programs that use corosync.sam on a node (sam_programs.SamProgram); kills what is
    left of them, supervisor and children, after the test."""
    yield from _closing(SamProgram)


@pytest.fixture(scope="session")
def cpp_core(tmp_path_factory: pytest.TempPathFactory) -> CoreBuild:
    """The C++ core built once per run (with its test program) and installed into a
    temporary prefix, as `cmake --install` does for C++ users."""
    return build_and_install(tmp_path_factory.mktemp("cxx"))
