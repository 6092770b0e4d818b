"""The documentation cannot drift from the code: every Python and shell block of every page
of docs/ and of the README runs here, against real corosync daemons (doc_snippets.py says
how each kind of block is run), and a block that is not run says why.

The site itself is built, warnings as errors, by tools/build_docs.sh (tools/bootstrap.sh
test runs it after the type checks)."""

from __future__ import annotations

import contextlib
import gc
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from doc_snippets import ROOT, RUN, SHOWN, Block, blocks, markers, nodes_of, pages

from corosync.testing import Cluster, Node, python_env

PAGES = pages()
TIMEOUT = 60.0

pytestmark = pytest.mark.timeout(180)


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.fixture
def shell_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PATH on which ``python`` is this interpreter (a virtualenv's, say)."""
    bin_dir = tmp_path_factory.mktemp("bin")
    # A script, not a symlink: a virtualenv's python knows it is one by the path it is run as.
    python = bin_dir / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"


def node_for(page: Path, request: pytest.FixtureRequest) -> Node | None:
    """Node 1 of the cluster the page asks for: the one-node cluster of this test module,
    or a three-node cluster healed and restarted for this page."""
    size = nodes_of(page)
    if size == 0:
        return None
    if size == 1:
        node: Node = request.getfixturevalue("corosync_node")
        return node
    assert size == 3, f"{page_id(page)}: nodes={size}: only 0, 1 and 3 are provided"
    cluster: Cluster = request.getfixturevalue("corosync_healthy_cluster")
    return cluster.node(1)


def run_python(block: Block, namespace: dict[str, object]) -> None:
    # Blank lines first, so that a traceback gives the page's own line numbers.
    code = compile("\n" * (block.line - 1) + block.code, str(block.page), "exec")
    exec(code, namespace)


def run_process(block: Block, argv: list[str], env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, (
        f"{block.where}: exit status {done.returncode}\n{block.code}\n"
        f"--- stdout\n{done.stdout}--- stderr\n{done.stderr}"
    )


def run_block(block: Block, namespace: dict[str, object], tmp_path: Path, shell_path: str) -> None:
    env = dict(python_env(), PATH=shell_path)
    if block.how == "program":
        program = tmp_path / f"program_{block.line}.py"
        program.write_text(block.code)
        run_process(block, [sys.executable, str(program)], env, tmp_path)
    elif block.how == "pytest":
        module = tmp_path / f"test_docs_{block.line}.py"
        module.write_text(block.code)
        # The plugin by -p only: autoloaded from an installed distribution as well, it
        # would be registered twice.
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        plugin = "corosync.testing.pytest_plugin"
        argv = [sys.executable, "-m", "pytest", "-q", "-p", plugin, "-p", "no:cacheprovider"]
        run_process(block, [*argv, module.name], env, tmp_path)
    elif block.language == "sh":
        run_process(block, ["sh", "-ec", block.code], env, tmp_path)
    else:
        run_python(block, namespace)


@contextlib.contextmanager
def inside(node: Node | None) -> Iterator[None]:
    if node is None:
        yield
    else:
        with node.entered():
            yield


@pytest.mark.parametrize(
    "page", [p for p in PAGES if any(b.language in RUN for b in blocks(p))], ids=page_id
)
def test_the_pages_blocks_run(
    page: Path,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    shell_path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    node = node_for(page, request)
    monkeypatch.chdir(tmp_path)  # what a block writes stays in the test's folder
    # Programs that blocks start import the corosync package under test.
    monkeypatch.setenv("PYTHONPATH", python_env()["PYTHONPATH"])
    namespace: dict[str, object] = {"__name__": "__docs__"}
    with inside(node), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for block in blocks(page):
            if block.language in RUN and block.how != "not-run":
                run_block(block, namespace, tmp_path, shell_path)
        # A page closes what it opens: a handle left to the garbage collector warns.
        namespace.clear()
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == [], f"{page_id(page)} leaves handles open: {leaks}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_block_runs_or_says_why(page: Path) -> None:
    for block in blocks(page):
        if block.language.startswith("{"):
            continue  # a Sphinx directive (toctree, eval-rst, literalinclude)
        assert block.language in RUN | SHOWN, (
            f"{block.where}: a ```{block.language} block: make it python or sh (and run), "
            "or text (shown), or include the file it comes from"
        )
        if block.how == "not-run":
            assert len(block.reason) >= 20, f"{block.where}: not-run needs a reason"
        elif block.how:
            assert block.how in ("program", "pytest"), f"{block.where}: run: {block.how}?"
            assert block.language == "python", f"{block.where}: run: {block.how} is Python"
    # A marker that is not right before a block would silently mark nothing.
    placed = {b.line - 2 for b in blocks(page) if b.how}
    stray = [(line, text) for line, text in markers(page) if line not in placed]
    assert stray == [], f"{page_id(page)}: markers not right before a block: {stray}"


def test_few_blocks_are_not_run() -> None:
    """Only what cannot run in a test: installing, building, and servers that run until
    stopped (each says which test covers it instead)."""
    not_run = [b.where for p in PAGES for b in blocks(p) if b.how == "not-run"]
    assert len(not_run) <= 12, not_run


def test_the_readmes_links_into_the_docs_resolve() -> None:
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\((?!https?:)([^)#]+)(?:#[^)]*)?\)", readme)
    assert any(t.startswith("docs/") for t in targets)
    assert [t for t in targets if not (ROOT / t).exists()] == []
