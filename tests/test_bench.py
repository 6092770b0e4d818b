"""The bench (``python -m bench``, bench/README.md) in its smoke mode: it compiles the C
worker, starts a three-node cluster, runs every row through both sides and prints the
table. Only the table's shape and the figures' signs are checked, never speed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bench.work import in_order, own_cpus
from bench.workers import Workers

import corosync
from corosync.testing import Cluster, python_env

REPO = Path(__file__).resolve().parent.parent
DASH = "—"
#: Every row of the table, by its key in the JSON results.
ROWS = [
    "send-64",
    "send-1024",
    "send-65536",
    "send-1048576",
    "batch-64",
    "batch-1024",
    "batch-64-own-cpu",
    "recv",
    "dispatch",
    "rss",
    "threads",
    "cmap-get",
    "cmap-set",
]
#: A figure cell: an optional label ("1 thread: "), a number, a unit.
FIGURE = re.compile(r"^(?:[^:]+: )?([+-]?[\d,]+(?:\.\d+)?) \S.*$")


def run_bench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        env=env or python_env(),
        check=False,
    )


@dataclass
class Smoke:
    #: Table rows by their work label: the cells after it (C, binding, ratio, floor
    #: ratio, note).
    table: dict[str, list[str]]
    results: dict[str, Any]

    def cells(self, key: str) -> list[str]:
        row = next(r for r in self.results["rows"] if r["key"] == key)
        return self.table[row["work"]]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Smoke:
    results = tmp_path_factory.mktemp("bench") / "results.json"
    # Two rounds: the second runs each pair's binding side first.
    proc = run_bench("--smoke", "--rounds", "2", "--json", str(results))
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    table: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        if line.startswith("| ") and not line.startswith("| work "):
            work, *cells = [cell.strip() for cell in line.strip("|").split("|")]
            table[work] = cells
    return Smoke(table, json.loads(results.read_text()))


def figure(cell: str) -> float:
    match = FIGURE.match(cell)
    assert match, f"not a figure: {cell!r}"
    return float(match.group(1).replace(",", ""))


#: The rows that also run the floor worker (cpg_bench.c calling cpg_bench.py's callback).
FLOOR_ROWS = ["batch-64", "batch-1024"]


def assert_positive(cells: list[str]) -> None:
    c, binding, ratio, _, _ = cells
    assert figure(c) > 0
    assert figure(binding) > 0
    assert float(ratio) > 0


def test_smoke_prints_every_row_once(smoke: Smoke) -> None:
    assert [row["key"] for row in smoke.results["rows"]] == ROWS
    assert len(smoke.table) == len(ROWS)
    for row in smoke.results["rows"]:
        assert row["work"] in smoke.table


@pytest.mark.parametrize(
    "key", ["send-64", "send-1024", "send-65536", "send-1048576", "recv", "dispatch", "threads"]
)
def test_smoke_row_has_positive_figures_and_ratio(smoke: Smoke, key: str) -> None:
    assert_positive(smoke.cells(key))


@pytest.mark.parametrize("key", ["batch-64", "batch-1024", "batch-64-own-cpu"])
def test_smoke_batched_row_needs_mcast_many_only_for_the_binding(smoke: Smoke, key: str) -> None:
    cells = smoke.cells(key)
    if hasattr(corosync.CPG, "mcast_many"):
        assert_positive(cells)
    else:
        assert figure(cells[0]) > 0
        assert cells[1:4] == [DASH, DASH, DASH]
        assert "mcast_many" in cells[4]


def test_smoke_rss_row_reports_growth_and_flatness(smoke: Smoke) -> None:
    c, binding, ratio, floor, note = smoke.cells("rss")
    assert (c, ratio, floor) == (DASH, DASH, DASH)
    assert binding.endswith(" KiB")
    figure(binding)  # a growth, which may be zero or negative
    assert re.fullmatch(r"flat within 2 MiB: (yes|no)", note)


@pytest.mark.parametrize("key", ["cmap-get", "cmap-set"])
def test_smoke_cmap_rows_give_both_figures(smoke: Smoke, key: str) -> None:
    assert_positive(smoke.cells(key))


# Not the CMAP rows: their smoke runs are too short for /proc's 10 ms CPU ticks.
@pytest.mark.parametrize("key", ["send-64", "batch-64"])
def test_smoke_row_notes_the_workers_and_the_daemons_cpu(smoke: Smoke, key: str) -> None:
    # What explains a ratio: CPU per message of the worker, and of the three daemons while
    # it ran (corosync works more per message for a slower client).
    note = smoke.cells(key)[4]
    workers = re.search(r"(?<!daemons' )CPU/msg ÷ C: (\d+\.\d\d)", note)
    daemons = re.search(r"daemons' CPU/msg ÷ C: (\d+\.\d\d)", note)
    assert workers and daemons, note
    assert float(workers.group(1)) > 0 and float(daemons.group(1)) > 0, note


def test_smoke_own_cpu_row_runs_its_workers_on_a_cpu_of_their_own(smoke: Smoke) -> None:
    # The binding's worker says where it may run; the C worker is started the same way.
    cpus = own_cpus()
    assert cpus is not None, "the bench's own-CPU row needs two CPUs: this machine has one"
    everywhere = sorted(os.sched_getaffinity(0))
    for row in smoke.results["rows"]:
        for sample in row["samples"]:
            got = sample["raw"].get("binding", {}).get("cpus")
            if row["key"] == "batch-64-own-cpu":
                assert got == [cpus[1]], got
            elif row["key"].startswith(("send-", "batch-")):
                assert got == everywhere, (row["key"], got)


def test_daemons_on_pins_every_daemon_thread_until_the_block_ends(tmp_path: Path) -> None:
    with Cluster(1) as cluster:
        workers = Workers(cluster, {}, tmp_path, timeout=30.0)
        pid = cluster.node(1).pid
        assert pid is not None
        tids = [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]
        assert len(tids) > 1, "corosync runs several threads: all of them move"
        before = {tid: os.sched_getaffinity(tid) for tid in tids}
        assert all(len(cpus) > 1 for cpus in before.values()), before
        with workers.daemons_on(0):
            assert all(os.sched_getaffinity(tid) == {0} for tid in tids)
        assert {tid: os.sched_getaffinity(tid) for tid in tids} == before


def test_smoke_floor_runs_in_the_batch_rows_only(smoke: Smoke) -> None:
    # The floor worker (cpg_bench.c calling cpg_bench.py's own callback) ran beside C and
    # the binding in every round of the batch rows; its ratio and the binding's to it show.
    for row in smoke.results["rows"]:
        floors = [sample["floor"] for sample in row["samples"]]
        cells = smoke.cells(row["key"])
        if row["key"] in FLOOR_ROWS:
            assert all(f is not None and f > 0 for f in floors), row["key"]
            assert float(cells[3]) > 0
            assert re.search(r"binding ÷ floor: \d+\.\d\d", cells[4]), cells[4]
        else:
            assert floors == [None] * len(floors), row["key"]
            assert cells[3] == DASH and "floor" not in cells[4], row["key"]


def test_smoke_ran_both_rounds(smoke: Smoke) -> None:
    assert smoke.results["rounds"] == 2
    for row in smoke.results["rows"]:
        assert len(row["samples"]) == (1 if row["key"] == "rss" else 2), row["key"]


def test_in_order_runs_the_side_asked_first() -> None:
    ran: list[str] = []
    for binding_first in (False, True):
        sides = in_order(binding_first, lambda: ran.append("c"), lambda: ran.append("binding"))
        assert set(sides) == {"c", "binding"}
    assert ran == ["c", "binding", "binding", "c"]


def test_in_order_runs_the_floor_between_c_and_the_binding() -> None:
    ran: list[str] = []
    for binding_first in (False, True):
        sides = in_order(
            binding_first,
            lambda: ran.append("c"),
            lambda: ran.append("binding"),
            lambda: ran.append("floor"),
        )
        assert set(sides) == {"c", "floor", "binding"}
    assert ran == ["c", "floor", "binding", "binding", "floor", "c"]


def test_a_compile_error_fails_the_bench_with_the_compiler_output() -> None:
    env = dict(python_env(), CC="cc -include /nonexistent/cpg_bench_missing.h")
    proc = run_bench("--smoke", env=env)
    assert proc.returncode == 1
    assert "compiling cpg_bench.c failed" in proc.stderr
    assert "cpg_bench_missing.h" in proc.stderr
