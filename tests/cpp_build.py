"""Building the C++ core with CMake, installing it into a temporary prefix, and building the
examples in examples/cpp against that installed package (test helpers)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "cpp"


def run(argv: list[str | Path]) -> str:
    """Runs a build command; fails the test with its output when it fails."""
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@dataclass(frozen=True)
class CoreBuild:
    """The core built from this checkout (with its own test program) and installed."""

    build: Path
    prefix: Path

    @property
    def core_test(self) -> Path:
        return self.build / "core_test"

    @property
    def include(self) -> Path:
        return self.prefix / "include"

    def build_example(self, name: str, into: Path, *prefix_path: str) -> Path:
        """Configures and builds examples/cpp/<name> against the installed package (and
        whatever else `prefix_path` names); returns its build directory."""
        search = ";".join([str(self.prefix), *prefix_path])
        run(["cmake", "-S", EXAMPLES / name, "-B", into, f"-DCMAKE_PREFIX_PATH={search}"])
        run(["cmake", "--build", into, "-j2"])
        return into


def build_and_install(work: Path) -> CoreBuild:
    core = CoreBuild(work / "build", work / "prefix")
    run(
        [
            "cmake", "-S", REPO, "-B", core.build, "-DCOROSYNC_BUILD_TESTS=ON",
            f"-DCMAKE_INSTALL_PREFIX={core.prefix}",
        ]
    )  # fmt: skip
    run(["cmake", "--build", core.build, "-j2"])
    run(["cmake", "--install", core.build])
    return core
