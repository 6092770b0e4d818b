"""The pytest plugin of corosync.testing, run in pytest sessions of its own (``pytester``).

It is loaded into every pytest run where the package is installed, so it must cost nothing
there: no ``corosync -v``, no heavy imports, unless a test asks for one of its fixtures.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import corosync.testing

pytest_plugins = ["pytester"]

PLUGIN = "corosync.testing.pytest_plugin"


@pytest.fixture(autouse=True)
def plugin_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner runs import corosync from where this run does, and load the plugin only
    through ``-p`` (autoloading the installed entry point as well would register it twice)."""
    package_root = str(Path(corosync.testing.__file__).resolve().parents[2])
    pythonpath = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", pythonpath)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


@pytest.fixture
def fake_corosync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put a ``corosync`` first on PATH that notes each call in the returned file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "corosync-was-run"
    script = bin_dir / "corosync"
    script.write_text(f'#!/bin/sh\necho "$@" >> {marker}\necho "fake corosync 9.9"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return marker


def run_inner(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    pytester.makepyfile(test_inner=textwrap.dedent(source))
    return pytester.runpytest_subprocess("-p", PLUGIN, "-p", "no:cacheprovider", timeout=240)


def test_a_session_without_corosync_fixtures_never_runs_corosync(
    pytester: pytest.Pytester, fake_corosync: Path
) -> None:
    result = run_inner(pytester, "def test_plain() -> None:\n    assert True\n")
    result.assert_outcomes(passed=1)
    assert not fake_corosync.exists(), "the plugin ran corosync for a session that needs none"
    assert "corosync:" not in result.stdout.str()


def test_a_session_requesting_a_corosync_fixture_names_the_corosync(
    pytester: pytest.Pytester, fake_corosync: Path
) -> None:
    # corosync_cluster_size starts no daemon, so the fake corosync is never asked to run one.
    source = """
        def test_size(corosync_cluster_size: int) -> None:
            assert corosync_cluster_size == 3
    """
    result = run_inner(pytester, source)
    result.assert_outcomes(passed=1)
    assert fake_corosync.read_text() == "-v\n"
    result.stdout.fnmatch_lines(["corosync: fake corosync 9.9"])


def test_corosync_node_shows_the_real_corosync_version(pytester: pytest.Pytester) -> None:
    source = """
        from corosync.testing import Node

        def test_node(corosync_node: Node) -> None:
            status = corosync_node.quorum_status()
            assert status is not None and status.quorate and status.members == {1}
    """
    result = run_inner(pytester, source)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["corosync: Corosync Cluster Engine, version *"])


def test_every_fixture_of_the_plugin_is_prefixed(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("-p", PLUGIN, "--fixtures", "-p", "no:cacheprovider")
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if f"fixtures defined from {PLUGIN}" in line)
    names = [
        line.split()[0]
        for line in lines[start + 1 :]
        if line and not line.startswith((" ", "-", "=")) and "--" in line
    ]
    assert "corosync_healthy_cluster" in names and "corosync_node" in names, lines[start:]
    assert all(name.startswith("corosync_") for name in names), names


def test_importing_the_plugin_imports_none_of_the_harness() -> None:
    code = (
        "import sys, corosync.testing.pytest_plugin\n"
        "print(sorted(m for m in sys.modules if m.startswith('corosync.testing')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert proc.stdout.strip() == "['corosync.testing', 'corosync.testing.pytest_plugin']"
