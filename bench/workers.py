"""The worker processes: compiling each service's C worker (cpg_bench.c, cmap_bench.c) and
the floor worker (cpg_bench.c calling cpg_bench.py's callback), starting a worker inside a
node's network namespace, and the line protocol they speak.

A worker prints JSON lines on stdout: events (``{"event": "ready"}``) when the runner has to
synchronize with it, then one result (a line with ``"mode"``). It reads a line from stdin
when told to wait for a go, and some modes stay until stdin is closed. Its stderr goes to a
file (libcpg prints lines there under pushback, enough to fill a pipe), shown on failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shlex
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from corosync.testing import Cluster, python_env

HERE = Path(__file__).resolve().parent
#: Clock ticks per second: the unit of a process's CPU times in /proc/PID/stat.
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

#: Which worker: the C program, the C program calling the binding worker's Python callback
#: (the floor: see python_callback.h), or the binding's script.
Side = Literal["c", "floor", "binding"]
#: The corosync service a worker exercises; each has its own pair of workers.
Service = Literal["cpg", "cmap"]


@dataclass(frozen=True)
class WorkerFiles:
    """A service's workers: the C source, the library it links (a pkg-config package), the
    binding's script, and whether the C source also builds the floor worker."""

    c_source: Path
    library: str
    script: Path
    floor: bool = False


WORKERS: dict[Service, WorkerFiles] = {
    "cpg": WorkerFiles(HERE / "cpg_bench.c", "libcpg", HERE / "cpg_bench.py", floor=True),
    "cmap": WorkerFiles(HERE / "cmap_bench.c", "libcmap", HERE / "cmap_bench.py"),
}


class BenchError(RuntimeError):
    """The bench cannot go on: a compile, a worker or the cluster failed."""


def _link_flags(library: str) -> list[str]:
    try:
        flags = subprocess.run(
            ["pkg-config", "--cflags", "--libs", library],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as e:
        raise BenchError(f"cannot run pkg-config: {e}") from e
    if flags.returncode != 0:
        raise BenchError(f"pkg-config --cflags --libs {library} failed:\n{flags.stderr}")
    return shlex.split(flags.stdout)


def _embedding_flags() -> tuple[list[str], list[str]]:
    """The compiler's and the linker's flags that embed the interpreter running the bench
    (the one the binding's workers run on). Its static library where there is one, as
    Debian's python3 executable links it: a shared libpython is built position-independent
    and runs slower, which would lower the floor."""
    var = sysconfig.get_config_var
    compile_flags = [f"-I{var('INCLUDEPY')}", "-DBENCH_PYTHON_CALLBACK"]
    compile_flags.append(f'-DBENCH_DIR="{HERE}"')
    system = shlex.split(" ".join(str(var(k) or "") for k in ("MODLIBS", "LIBS", "SYSLIBS")))
    # Extension modules (the binding's among them) find the C API in the executable.
    exported = shlex.split(str(var("LINKFORSHARED") or ""))
    for directory in (var("LIBPL"), var("LIBDIR")):
        static = Path(str(directory), str(var("LIBRARY")))
        if directory and static.is_file():
            return compile_flags, ["-no-pie", str(static), *system, *exported]
    return compile_flags, [f"-L{var('LIBDIR')}", f"-lpython{var('LDVERSION')}", *system, *exported]


def compile_one(files: WorkerFiles, build_dir: Path, *, floor: bool = False) -> Path:
    """Compile one C worker into build_dir (named after its source) with ``$CC`` (default
    ``cc``), or with ``floor`` its floor build (``<name>_floor``); BenchError with the
    compiler's output if it fails."""
    program = build_dir / (files.c_source.stem + ("_floor" if floor else ""))
    compile_flags, link_flags = _embedding_flags() if floor else ([], [])
    argv = shlex.split(os.environ.get("CC") or "cc")
    argv += ["-O2", "-Wall", "-Wextra", "-Werror", *compile_flags, str(files.c_source)]
    argv += ["-o", str(program), *_link_flags(files.library), *link_flags]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError as e:
        raise BenchError(f"cannot run the C compiler: {e}") from e
    if proc.returncode != 0:
        raise BenchError(
            f"compiling {files.c_source.name} failed (exit status {proc.returncode}):\n"
            f"$ {shlex.join(argv)}\n{proc.stdout}{proc.stderr}"
        )
    return program


#: The compiled workers, by service and side (C, and the floor for the services that have it).
Programs = dict[tuple[Service, Side], Path]


def compile_c(build_dir: Path) -> Programs:
    """Compile every service's C worker, and the floor workers, into build_dir."""
    programs: Programs = {}
    for service, files in WORKERS.items():
        programs[service, "c"] = compile_one(files, build_dir)
        if files.floor:
            programs[service, "floor"] = compile_one(files, build_dir, floor=True)
    return programs


class Worker:
    """One worker process on one node."""

    def __init__(self, proc: subprocess.Popen[bytes], name: str, stderr_path: Path) -> None:
        self.proc = proc
        self.name = name
        self.stderr_path = stderr_path
        self._buffer = b""
        self._eof = False

    def _fail(self, why: str) -> BenchError:
        if self.proc.poll() is None:
            self.proc.kill()
        status = self.proc.wait()
        lines = self.stderr_path.read_text(errors="replace").splitlines()
        tail = "\n".join(lines[-40:]) or "(nothing on stderr)"
        return BenchError(f"worker {self.name} {why} (exit status {status}); its stderr:\n{tail}")

    def _line(self, deadline: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if self._eof:
                raise self._fail("ended without its result")
            if left <= 0:
                raise self._fail("timed out")
            with selectors.DefaultSelector() as selector:
                selector.register(self.proc.stdout, selectors.EVENT_READ)
                if not selector.select(left):
                    continue
            data = os.read(self.proc.stdout.fileno(), 65536)
            self._eof = not data
            self._buffer += data
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            value = json.loads(line)
        except ValueError:
            raise self._fail(f"printed a line that is not JSON: {line!r}") from None
        if not isinstance(value, dict):
            raise self._fail(f"printed a JSON line that is not an object: {line!r}")
        return value

    def expect(self, event: str, timeout: float) -> None:
        """Wait for the event line ``{"event": event}``."""
        got = self._line(time.monotonic() + timeout)
        if got.get("event") != event:
            raise self._fail(f"said {got!r} where {event!r} was expected")

    def go(self) -> None:
        """Let a worker waiting for a line on stdin go on."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()

    def result(self, timeout: float) -> dict[str, Any]:
        """The worker's result line."""
        got = self._line(time.monotonic() + timeout)
        if "mode" not in got:
            raise self._fail(f"said {got!r} where its result was expected")
        return got

    def finish(self, timeout: float = 30.0) -> None:
        """Close its stdin and wait for it to exit 0."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise self._fail("did not exit after its result") from None
        if self.proc.returncode != 0:
            raise self._fail("failed")


class Workers:
    """Starts workers on the nodes of one cluster: a C program or a binding's script."""

    def __init__(self, cluster: Cluster, programs: Programs, log_dir: Path, timeout: float) -> None:
        self.cluster = cluster
        #: The compiled C workers (:func:`compile_c`).
        self.programs = programs
        self.log_dir = log_dir
        #: Seconds any one wait for a worker may take before the bench gives up.
        self.timeout = timeout
        self._started = 0

    def start(
        self, nodeid: int, side: Side, *args: str, service: Service = "cpg", cpu: int | None = None
    ) -> Worker:
        """Start ``service``'s worker on node ``nodeid``: ``side`` says which, ``args`` its
        mode; with ``cpu``, on that CPU only (taskset, which execs it in place)."""
        self._started += 1
        if side == "binding":
            argv = [sys.executable, str(WORKERS[service].script), *args]
        elif (service, side) in self.programs:
            argv = [str(self.programs[service, side]), *args]
        else:
            raise BenchError(f"{service} has no {side} worker")
        if cpu is not None:
            argv = ["taskset", "--cpu-list", str(cpu), *argv]
        name = f"#{self._started} ({side} {' '.join(args)} on node {nodeid})"
        stderr_path = self.log_dir / f"worker-{self._started}.err"
        stderr: IO[bytes]
        with open(stderr_path, "wb") as stderr:
            proc = self.cluster.node(nodeid).popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=python_env(),
            )
        return Worker(proc, name, stderr_path)

    def run(
        self, nodeid: int, side: Side, *args: str, service: Service = "cpg", cpu: int | None = None
    ) -> dict[str, Any]:
        """Run a worker that needs no synchronizing to its end; return its result, with
        ``daemons_cpu_seconds``: the CPU time the cluster's daemons spent from its start to
        its result (its start-up and join included, where an idle cluster's three daemons
        use about 3 % of a CPU)."""
        before = self.daemons_cpu_seconds()
        worker = self.start(nodeid, side, *args, service=service, cpu=cpu)
        result = worker.result(self.timeout)
        result["daemons_cpu_seconds"] = self.daemons_cpu_seconds() - before
        worker.finish(self.timeout)
        return result

    @contextlib.contextmanager
    def daemons_on(self, cpu: int) -> Iterator[None]:
        """Every thread of every node's daemon on ``cpu`` only, until the block ends; then
        each thread on the CPUs it had."""
        had: dict[int, set[int]] = {}
        try:
            for pid in self._daemon_pids():
                for task in Path(f"/proc/{pid}/task").iterdir():
                    tid = int(task.name)
                    had[tid] = os.sched_getaffinity(tid)
                    os.sched_setaffinity(tid, {cpu})
            yield
        finally:
            for tid, cpus in had.items():
                with contextlib.suppress(ProcessLookupError):
                    os.sched_setaffinity(tid, cpus)

    def _daemon_pids(self) -> list[int]:
        """The pid of every node's corosync daemon; BenchError if one is not running."""
        pids = []
        for node in self.cluster.nodes:
            if node.pid is None:
                raise BenchError(f"node {node.nodeid}'s corosync is not running")
            pids.append(node.pid)
        return pids

    def daemons_cpu_seconds(self) -> float:
        """User and system CPU time of every node's corosync daemon so far, in all."""
        total = 0
        for pid in self._daemon_pids():
            stat = Path(f"/proc/{pid}/stat").read_text()
            # The fields after the command (in parentheses, which may hold spaces): utime
            # and stime are the 12th and 13th of them, in clock ticks.
            fields = stat.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / _CLOCK_TICKS
