"""Generate src/python/corosync/_corosync.pyi, the type stub of the compiled module.

    python3 tools/gen_stubs.py           # rewrite the stub
    python3 tools/gen_stubs.py --check   # exit 1 with a diff if the committed stub is stale

`corosync._corosync` must be importable: either built in place (its .so next to
src/python/corosync/__init__.py, which this script then puts first on the path) or
installed. Requires pybind11-stubgen 3.0.0 and ruff (the `dev` extra).

pybind11-stubgen's raw output is repaired below; each fix says why it is needed.
"""

from __future__ import annotations

import argparse
import difflib
import enum
import importlib
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from types import ModuleType

MODULE = "corosync._corosync"
ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "python"
STUB = SRC / "corosync" / "_corosync.pyi"
LINE_LENGTH = 100  # [tool.ruff] line-length


def python_path() -> str:
    """PYTHONPATH for finding the module: src/python first when the module is built there."""
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if any((SRC / "corosync").glob("_corosync*.so")):
        paths.insert(0, str(SRC))
    return os.pathsep.join(p for p in paths if p)


def import_module() -> ModuleType:
    sys.path[:0] = [p for p in python_path().split(os.pathsep) if p]
    return importlib.import_module(MODULE)


def native_enums(module: ModuleType) -> dict[str, type[enum.Enum]]:
    """The module's enum classes (py::native_enum), by name, read from the runtime module."""
    return {
        name: obj
        for name, obj in vars(module).items()
        if isinstance(obj, type) and issubclass(obj, enum.Enum)
    }


def run_stubgen(enums: dict[str, type[enum.Enum]]) -> str:
    with tempfile.TemporaryDirectory() as out:
        # Defaults given with py::arg_v(..., "DispatchFlags.ALL") are valid expressions, but
        # stubgen prints them as `...` unless told they are safe to print; so are flags
        # joined with `|` ("TrackEvent.ADD | TrackEvent.DELETE").
        names = "|".join(map(re.escape, enums))
        member = rf"({names})\.[A-Za-z_][A-Za-z0-9_]*"
        safe = rf"^{member}( \| {member})*$"
        cmd = [sys.executable, "-m", "pybind11_stubgen", MODULE, "-o", out, "--exit-code"]
        if enums:
            cmd += ["--print-safe-value-reprs", safe]
        env = dict(os.environ, PYTHONPATH=python_path())
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        return Path(out, *MODULE.split(".")).with_suffix(".pyi").read_text()


def split_blocks(lines: list[str], indent: str) -> list[list[str]]:
    """Split lines into blocks, each starting at a statement (or decorator) at `indent`."""
    blocks: list[list[str]] = []
    for line in lines:
        starts = line.startswith(indent) and not line[len(indent) :][:1].isspace()
        if starts and not (blocks and blocks[-1][-1].lstrip().startswith("@")):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
        else:
            blocks.append([line])
    return blocks


def fix_enum(block: list[str], cls: type[enum.Enum]) -> list[str]:
    """stubgen writes a native enum's members as `A: typing.ClassVar[X]` plus a classmethod
    `__new__` and `__format__`: mypy then sees an enum with no members and rejects the bogus
    `__new__`. Write the members as `A = value`, in definition order, from the runtime class."""
    header, body = block[0], block[1:]
    kept = []
    for member in split_blocks(body, "    "):
        text = "".join(member)
        if re.match(r"\s+\w+: typing\.ClassVar\[", text) or re.search(
            r"def (__new__|__format__)\(", text
        ):
            continue
        # An IntFlag's operators (`def __or__(self, other): ...`) come without annotations,
        # which mypy --strict rejects; typeshed's enum.IntFlag declares them.
        if re.match(r"\s+def __\w+__\(self(, other)?\):\s+\.\.\.\s*$", text):
            continue
        kept.extend(member)
    # The docstring (if any) stays first; members follow it.
    doc_end = 0
    if kept and kept[0].strip().startswith('"""'):
        doc_end = next(i for i in range(1, len(kept)) if kept[i].strip().endswith('"""')) + 1
    members = [f"    {name} = {int(value.value)}\n" for name, value in cls.__members__.items()]
    return [header, *kept[:doc_end], *members, *kept[doc_end:]]


def fix_property_types(block: list[str]) -> list[str]:
    """pybind11 renders the argument types of a returned Callable in their "input" form
    (`typing.SupportsInt | typing.SupportsIndex`), so a callback property's getter claims a
    different type from the one its setter accepts, though it returns the object assigned.
    Give each getter the type its setter takes."""
    text = "".join(block)
    setters = re.findall(r"@(\w+)\.setter\n\s+def \w+\(self, \w+: (.+)\) -> None:", text)
    for name, annotation in setters:
        getter = rf"(@property\n\s+def {name}\(self\) -> ).+(:\n)"
        text = re.sub(getter, r"\g<1>" + annotation.replace("\\", r"\\") + r"\g<2>", text)
    return text.splitlines(keepends=True)


def wrap_docstrings(text: str) -> str:
    """stubgen writes each docstring paragraph on one line, between lines holding only the
    triple quotes; wrap those longer than the line length (ruff E501), reflowing nothing else."""
    out = []
    in_docstring = False
    for line in text.splitlines():
        if line.strip() == '"' * 3:
            in_docstring = not in_docstring
        elif in_docstring and len(line) > LINE_LENGTH:
            indent = line[: len(line) - len(line.lstrip())]
            out += textwrap.wrap(
                line.strip(),
                LINE_LENGTH,
                initial_indent=indent,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
            continue
        out.append(line.rstrip())  # stubgen leaves indentation on blank docstring lines
    return "\n".join(out) + "\n"


def postprocess(raw: str, module: ModuleType) -> str:
    enums = native_enums(module)
    blocks = split_blocks(raw.splitlines(keepends=True), "")
    out: list[str] = []
    for block in blocks:
        m = re.match(r"class (\w+)\b", block[0])
        if m and m.group(1) in enums:
            block = fix_enum(block, enums[m.group(1)])
        elif m:
            block = fix_property_types(block)
        # stubgen always writes an `__all__`; the module has none, and stubtest would report
        # the stub's as missing at runtime.
        if block[0].startswith("__all__") and not hasattr(module, "__all__"):
            continue
        out.extend(block)
    text = "".join(out)
    # A bare `py::args`/`py::kwargs` comes out unannotated, which mypy --strict rejects in a
    # stub. They accept any object; a py::Args<T>/py::KWArgs<T> in C++ gives a precise type.
    text = re.sub(r"([(,] ?\*args)(?=[,)])", r"\1: typing.Any", text)
    text = re.sub(r"([(,] ?\*\*kwargs)(?=[,)])", r"\1: typing.Any", text)
    # `__enter__` returns `self` (a py::object in C++, hence Any): say so, so that
    # `with CPG() as cpg:` keeps the type.
    text = re.sub(r"(def __enter__\(self\) -> )typing\.Any:", r"\1typing.Self:", text)
    # The version's value changes with every release, its type never: a version bump needs
    # no new stub.
    text = re.sub(r"^(__version__: str) = .*$", r"\1", text, flags=re.MULTILINE)
    return wrap_docstrings(text)


def ruff(args: list[str], text: str) -> str:
    """Run ruff on `text` as if it were the stub file, so pyproject.toml's settings apply."""
    cmd = [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(STUB), "-"]
    done = subprocess.run(cmd, input=text, text=True, check=True, capture_output=True, cwd=ROOT)
    return done.stdout


def generate() -> str:
    module = import_module()
    text = postprocess(run_stubgen(native_enums(module)), module)
    # Sort/group imports (stubgen emits one block) and format: the same ruff as CI checks
    # with, so the result is stable and passes `ruff check` / `ruff format --check`.
    text = ruff(["check", "--fix-only", "--exit-zero", "--quiet"], text)
    return ruff(["format", "--quiet"], text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the stub is out of date")
    args = parser.parse_args()
    text = generate()
    if not args.check:
        STUB.write_text(text)
        print(f"wrote {STUB.relative_to(ROOT)}")
        return 0
    with tempfile.NamedTemporaryFile("w", suffix=".pyi", delete=False) as tmp:
        tmp.write(text)  # kept for inspection when the check fails
    old = STUB.read_text() if STUB.exists() else ""
    if old == text:
        os.unlink(tmp.name)
        return 0
    rel = str(STUB.relative_to(ROOT))
    sys.stdout.writelines(
        difflib.unified_diff(
            old.splitlines(keepends=True), text.splitlines(keepends=True), rel, tmp.name
        )
    )
    print(f"\n{rel} is out of date: run python3 tools/gen_stubs.py", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
