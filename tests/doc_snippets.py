"""The code blocks of the documentation (docs/**/*.md and README.md), as test_docs.py runs
them (test helpers).

A page's fenced blocks are read in order. How each one is run:

* ```python: in this process, in one namespace per page shared by its blocks in order, in
  the network namespace of node 1 of a test cluster (so a handle connects to that node's
  corosync, as on a machine where corosync runs);
* ```sh: by ``sh -e`` in the same network namespace, with ``python`` on PATH being this
  interpreter and the corosync package the one under test;
* a block after ``<!-- run: program -->`` is a Python program of its own, run by this
  interpreter in a process of its own (e.g. SAM, which forks);
* a block after ``<!-- run: pytest -->`` is a test module, run by pytest in a process of
  its own (it gets the cluster fixtures of corosync.testing's plugin);
* a block after ``<!-- not-run: reason -->`` is not run, for the reason given;
* ```text and ```json blocks are output and data, and ```{...} blocks Sphinx directives:
  nothing to run. Any other language is refused (test_docs.py), so that a new kind of
  block is run or explained.

``<!-- docs-test: nodes=N -->`` on a page asks for a cluster of N nodes (default 1; 0: no
cluster, the blocks run in this process's own network namespace).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

#: Languages whose blocks run.
RUN = frozenset({"python", "sh"})
#: Languages whose blocks are output or data.
SHOWN = frozenset({"text", "json"})

_FENCE = re.compile(
    r"^(?P<indent>[ ]*)(?P<fence>`{3,})(?P<info>[^`\n]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ ]*$",
    re.MULTILINE | re.DOTALL,
)
_MARKER = re.compile(r"<!--\s*(?P<kind>not-run|run):\s*(?P<value>.*?)\s*-->\s*\Z")
# Comments on lines of their own: quoted in a sentence (`<!-- ... -->`), they are no markers.
_NODES = re.compile(r"^<!--\s*docs-test:\s*nodes=(\d+)\s*-->$", re.MULTILINE)
_ANY_MARKER = re.compile(r"^[ ]*<!--\s*(not-run|run):.*?-->[ ]*$", re.MULTILINE)


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the block's first line of code, 1-based
    language: str
    code: str
    #: "" (run as its language says), "program", "pytest", or "not-run".
    how: str
    #: Why a not-run block is not run.
    reason: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def pages() -> list[Path]:
    """Every page of the documentation site, and the README."""
    found = [p for p in DOCS.rglob("*.md") if "_build" not in p.parts]
    return [*sorted(found), ROOT / "README.md"]


def nodes_of(page: Path) -> int:
    """The size of the cluster a page's blocks run against."""
    match = _NODES.search(page.read_text())
    return int(match.group(1)) if match else 1


def blocks(page: Path) -> list[Block]:
    """The page's fenced code blocks, in order."""
    text = page.read_text()
    found: list[Block] = []
    for match in _FENCE.finditer(text):
        language = match["info"].strip().split(" ")[0]
        indent = len(match["indent"])
        code = "".join(line[indent:] + "\n" for line in match["body"].splitlines())
        line = text.count("\n", 0, match.start("body")) + 1
        before = text[: match.start()].removesuffix("\n").rsplit("\n", 1)[-1]
        marker = _MARKER.search(before)  # on the line right before the fence
        how, reason = "", ""
        if marker is not None:
            if marker["kind"] == "not-run":
                how, reason = "not-run", marker["value"]
            else:
                how = marker["value"]
        found.append(Block(page, line, language, code, how, reason))
    return found


def markers(page: Path) -> list[tuple[int, str]]:
    """Every run or not-run marker of a page, by line: each must stand before a block."""
    text = page.read_text()
    return [(text.count("\n", 0, m.start()) + 1, m.group(0)) for m in _ANY_MARKER.finditer(text)]
