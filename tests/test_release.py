"""The release: the sdist holds what builds and tests the package and nothing of a checkout's
clutter, the metadata names the licenses and the version, and the version has one home,
pyproject.toml. (tools/check_sdist.sh installs the sdist on a fresh machine; too slow here.)"""

from __future__ import annotations

import email.parser
import importlib.metadata
import re
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path, PurePosixPath

import build.util
import pytest

import corosync
import corosync._corosync

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
VERSION = PROJECT["version"]
LICENSE_EXPRESSION = "MIT AND BSD-3-Clause"
LICENSE_FILES = ["LICENSE", "LICENSES_bundled.txt"]

# Everything the sdist holds lives under these (files, or folders).
SHIPPED = {
    "PKG-INFO",
    "pyproject.toml",
    "CMakeLists.txt",
    "README.md",
    "CHANGELOG.md",
    *LICENSE_FILES,
    "cmake",
    "src",
    "tests",
    "examples",
    "bench",
    "docs",
    "tools",
}
# Tracked, but for a clone only: CI's entry and git's own file.
LEFT_OUT = {".ci", ".gitignore"}
# What a checkout gathers that no sdist may hold: build trees, virtualenvs, caches, built
# extensions, test reports.
CLUTTER_DIRS = {
    "build",
    "dist",
    ".venv",
    "venv",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".git",
}
CLUTTER_SUFFIXES = {".so", ".pyc", ".o", ".a"}


def is_clutter(path: PurePosixPath) -> bool:
    return (
        any(part in CLUTTER_DIRS or part.endswith(".egg-info") for part in path.parts)
        or path.suffix in CLUTTER_SUFFIXES
        or ".so." in path.name
        or re.fullmatch(r"junit.*\.xml", path.name) is not None
    )


def build_sdist(outdir: Path) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(outdir), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (sdist,) = outdir.glob("*.tar.gz")
    return sdist


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sdist(tmp_path_factory.mktemp("sdist"))


@pytest.fixture(scope="module")
def sdist_files(sdist: Path) -> set[PurePosixPath]:
    """The sdist's files, relative to its top folder (corosync-<version>/)."""
    with tarfile.open(sdist) as tar:
        names = [m.name for m in tar.getmembers() if m.isfile()]
    top = f"corosync-{VERSION}"
    assert all(PurePosixPath(n).parts[0] == top for n in names), names
    return {PurePosixPath(*PurePosixPath(n).parts[1:]) for n in names}


def source_files() -> set[PurePosixPath]:
    """The files of the project: what git tracks in a clone; everything but clutter in an
    unpacked sdist (which has no .git)."""
    if (ROOT / ".git").exists():
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
        ).stdout
        return {PurePosixPath(p) for p in listed.split("\0") if p and (ROOT / p).is_file()}
    walked = {PurePosixPath(p.relative_to(ROOT).as_posix()) for p in ROOT.rglob("*")}
    return {p for p in walked if (ROOT / p).is_file() and not is_clutter(p)}


def test_the_sdist_is_named_after_the_version(sdist: Path) -> None:
    assert sdist.name == f"corosync-{VERSION}.tar.gz"


def test_the_sdist_holds_what_the_build_and_the_tests_need(
    sdist_files: set[PurePosixPath],
) -> None:
    needed = {
        "pyproject.toml",
        "CMakeLists.txt",
        "README.md",
        "CHANGELOG.md",
        *LICENSE_FILES,
        "cmake/CorosyncServices.cmake",
        "cmake/corosync_cxxConfig.cmake.in",
        "src/cpp/corosync_cxx/CMakeLists.txt",
        "src/cpp/corosync_cxx/version.hpp.in",
        "src/cpp/python/CMakeLists.txt",
        "src/cpp/python/module.cpp",
        "src/cpp/python/services.hpp.in",
        "src/python/corosync/__init__.py",
        "src/python/corosync/py.typed",
        "src/python/corosync/_corosync.pyi",
        "src/python/corosync/cli/schema/v1.json",
        "src/python/corosync/testing/pytest_plugin.py",
        "tests/conftest.py",
        "tests/cpp/core_test.cpp",
        "tools/bootstrap.sh",
        "tools/gen_stubs.py",
    }
    assert {PurePosixPath(p) for p in needed} - sdist_files == set()
    # Every file of the project is shipped, or left out on purpose (a clone's tooling): a
    # new top-level file or folder has to be placed on one side in pyproject.toml.
    missing = {p for p in source_files() - sdist_files if p.parts[0] not in LEFT_OUT}
    assert missing == set()


def test_the_sdist_holds_nothing_of_the_checkouts_clutter(
    sdist_files: set[PurePosixPath],
) -> None:
    assert {p for p in sdist_files if is_clutter(p)} == set()
    assert {p for p in sdist_files if p.parts[0] not in SHIPPED} == set()


def test_the_sdist_metadata_names_the_version_and_the_licenses(sdist: Path) -> None:
    with tarfile.open(sdist) as tar:
        member = tar.extractfile(f"corosync-{VERSION}/PKG-INFO")
        assert member is not None
        metadata = email.parser.Parser().parsestr(member.read().decode())
    assert metadata["Name"] == "corosync"
    assert metadata["Version"] == VERSION
    assert metadata["License-Expression"] == LICENSE_EXPRESSION
    assert metadata.get_all("License-File") == LICENSE_FILES
    assert metadata["License"] is None  # the old free-text field: superseded by the above
    assert [c for c in metadata.get_all("Classifier") or [] if c.startswith("License")] == []


def test_the_wheel_metadata_names_the_version_and_the_licenses() -> None:
    # The backend's prepare_metadata_for_build_wheel hook: the wheel's METADATA, without
    # compiling anything.
    metadata = build.util.project_wheel_metadata(ROOT)
    assert metadata["Version"] == VERSION
    assert metadata["License-Expression"] == LICENSE_EXPRESSION
    assert metadata.get_all("License-File") == LICENSE_FILES
    # 2.4 is the first metadata version with License-Expression.
    assert tuple(map(int, metadata["Metadata-Version"].split("."))) >= (2, 4)


def test_the_version_is_pyprojects_as_the_compiled_module_was_built() -> None:
    assert corosync.__version__ == corosync._corosync.__version__ == VERSION


def test_an_installed_package_reports_its_distributions_version() -> None:
    package = Path(corosync.__file__).resolve().parent
    if package == ROOT / "src" / "python" / "corosync":
        # Built in place (PYTHONPATH=src/python): no distribution describes this copy, and
        # pyproject.toml's version, compiled in, is the only one.
        assert not list(package.parent.glob("corosync-*.dist-info"))
        assert corosync.__version__ == VERSION
    else:
        dist = importlib.metadata.distribution("corosync")
        assert Path(str(dist.locate_file("corosync/__init__.py"))).resolve().parent == package
        assert corosync.__version__ == dist.version == importlib.metadata.version("corosync")


def test_the_changelog_starts_with_this_version() -> None:
    versions = re.findall(r"^## \[([^\]]+)\]", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert versions[:1] == [VERSION]
    assert len(versions) == len(set(versions))


@pytest.mark.parametrize("page", ["README.md", "docs/quickstart.md"])
def test_the_install_instructions_list_the_packages_bootstrap_installs(page: str) -> None:
    """tools/check_sdist.sh installs the README's packages on a fresh machine, and the quick
    start tells the same; bootstrap.sh installs its own list: they are one list, written
    three times."""
    text = (ROOT / page).read_text()
    command = re.search(r"^apt-get install ((?:.*\\\n)*.*)$", text, re.MULTILINE)
    assert command is not None
    bootstrap = (ROOT / "tools" / "bootstrap.sh").read_text()
    array = re.search(r"^packages=\(\n(.*?)\n\)", bootstrap, re.MULTILINE | re.DOTALL)
    assert array is not None
    assert command.group(1).replace("\\", " ").split() == array.group(1).split()


def test_the_license_is_mit() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
    bundled = (ROOT / "LICENSES_bundled.txt").read_text()
    assert re.findall(r"^License: (.+)$", bundled, re.MULTILINE) == ["BSD-3-Clause"] * 2
