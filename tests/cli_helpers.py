"""Running ``python -m corosync`` as a real program inside a node's namespace, checking its
``--json`` output against the JSON Schema shipped in the package, and reading what
corosync's own tools print for the same node (test helpers)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import jsonschema
from cfg_helpers import DEADLINE
from example_processes import Program

from corosync.cli import load_schema
from corosync.testing import Node, python_env

__all__ = [
    "CLI",
    "Ran",
    "Streaming",
    "cli",
    "conforms",
    "member_names",
    "steady",
    "tool",
    "validated",
    "without_date",
]

#: The command line, as a user runs it.
CLI = [sys.executable, "-m", "corosync"]
_VALIDATOR = jsonschema.Draft202012Validator(
    load_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
T = TypeVar("T")


def validated(doc: Any, kind: str) -> dict[str, Any]:
    """``doc`` once the shipped schema accepts it as a document of ``kind`` (the schema is
    a oneOf of the kinds, each fixing its ``kind``)."""
    _VALIDATOR.validate(doc)
    assert isinstance(doc, dict) and doc["kind"] == kind, doc
    return doc


def conforms(instance: Any, definition: str) -> None:
    """Validate ``instance`` against one definition (``$defs``) of the shipped schema."""
    schema = load_schema()
    jsonschema.validate(instance, {"$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]})


@dataclass(frozen=True)
class Ran:
    """A finished run of the command line."""

    status: int
    stdout: str
    stderr: str

    def json(self, kind: str) -> dict[str, Any]:
        """The one JSON document printed, validated; stderr must be empty."""
        assert self.stderr == "", self.stderr
        return validated(json.loads(self.stdout), kind)

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    def error_line(self) -> str:
        """The one line of a failure: exit status 1, nothing on stdout, no traceback."""
        assert self.status == 1, self
        assert self.stdout == "", self
        assert "Traceback" not in self.stderr, self.stderr
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self.stderr
        # (a usage error names the subcommand: "python -m corosync cmap get: error: ...")
        assert re.match(r"python -m corosync(?: [a-z]+)*: error: ", lines[0]), lines[0]
        return lines[0]


def cli(node: Node, *args: str, stdin: str = "") -> Ran:
    """Run ``python -m corosync ARGS`` on ``node`` to its end."""
    proc = node.popen(
        [*CLI, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=python_env(),
        text=True,
    )
    stdout, stderr = proc.communicate(stdin, timeout=DEADLINE)
    return Ran(proc.returncode, stdout, stderr)


def tool(node: Node, *argv: str, statuses: tuple[int, ...] = (0,)) -> str:
    """What one of corosync's tools prints on ``node`` (its exit status one of ``statuses``)."""
    proc = node.run(list(argv))
    assert proc.returncode in statuses, (argv, proc.returncode, proc.stderr)
    return proc.stdout


def steady(read_tools: Callable[[], T], read_cli: Callable[[], Any], what: str) -> tuple[T, Any]:
    """What corosync's tools show and what the command line shows, taken while the tools'
    view did not change around the command (knet raises MTUs, a device's poll ages...)."""
    for _ in range(20):
        before = read_tools()
        shown = read_cli()
        if read_tools() == before:
            return before, shown
    raise AssertionError(f"{what} never held still")


def without_date(text: str) -> list[str]:
    """corosync-quorumtool's lines without its Date line, which changes every second."""
    return [line for line in text.splitlines() if not line.startswith("Date:")]


_ROW = re.compile(r"\s*(\d+)\s+(\d+)\s+(?:(?:NR|N?A,N?V,N?MW?)\s+)?(.*?)( \(local\))?")


def member_names(text: str) -> dict[int, tuple[str, bool]]:
    """Node id -> (name, local) of the member rows of corosync-quorumtool -s or -l."""
    names: dict[int, tuple[str, bool]] = {}
    rows = text.split("Membership information", 1)[1].splitlines()
    for row in rows:
        if (match := _ROW.fullmatch(row)) and match[1] != "0":
            names[int(match[1])] = (match[3], match[4] is not None)
    return names


class Streaming(Program):
    """A streaming command (``cmap track``, ``cpg listen``, ``quorum watch``) running on a
    node, its output collected by line (stderr too: a JSON stream must have none)."""

    def __init__(self, node: Node, *args: str) -> None:
        super().__init__(node, [*CLI, *args], python=True)

    def documents(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every line so far as a validated JSON document (of ``kind``, if given)."""
        docs = [validated(json.loads(line), json.loads(line)["kind"]) for line in self.lines]
        return [doc for doc in docs if kind is None or doc["kind"] == kind]

    def wait_document(
        self, kind: str, matches: Callable[[dict[str, Any]], bool], what: str
    ) -> dict[str, Any]:
        """The first document of ``kind`` that ``matches``, waiting for it."""
        deadline = time.monotonic() + DEADLINE
        while True:
            found = [doc for doc in self.documents(kind) if matches(doc)]
            if found:
                return found[0]
            remaining = deadline - time.monotonic()
            if self.eof or remaining <= 0:
                raise AssertionError(f"no {what} in {self.lines!r}")
            self.read(remaining)

    def stop(self) -> int:
        """SIGTERM, and the exit status once it ended (all its output collected)."""
        self.proc.send_signal(signal.SIGTERM)
        return self.finish()
