"""The binding side of the CMAP rows: the same work as cmap_bench.c, through ``corosync.CMAP``.

    cmap_bench.py cmap_get COUNT   as cmap_bench.c
    cmap_bench.py cmap_set COUNT   as cmap_bench.c

Run as a script inside a node's namespace (it imports nothing from the bench package).
Each loop keeps the shape of its twin in cmap_bench.c: one call per operation, the value
type stated as C states it (``set(key, value)`` alone costs the binding a second round trip
to learn the key's type), CS_ERR_TRY_AGAIN retried inside the binding where C retries it in
a loop. One JSON line of results on stdout; a failure is a message or a traceback and exit
status 1.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any, NoReturn

from corosync.cmap import CMAP, ValueType

KEY = "bench.cmap.u32"
UINT32 = ValueType.UINT32
#: cmap_set's values count up from 1, so COUNT may not pass a UINT32's largest value.
MAX_COUNT = 0xFFFF_FFFF


def fail(message: str) -> NoReturn:
    raise SystemExit(f"cmap_bench.py: {message}")


def positive(text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        fail(f"{name} must be a positive integer, got {text!r}")
    return value


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)


def expect(cmap: CMAP, value: int, when: str) -> None:
    """Fail unless KEY holds the UINT32 ``value`` (untimed: checks the timed calls' work)."""
    got = cmap.get(KEY)
    if got.type != UINT32 or got.value != value:
        fail(f"{KEY} is {got!r} {when}; expected UINT32 {value}")


def timed(mode: str, args: list[str], loop: Callable[[CMAP, int], int]) -> None:
    """Connect, set KEY to UINT32 0 and read it back, time ``loop(cmap, COUNT)``, then
    check that KEY holds the value the loop says it left."""
    if len(args) != 1:
        fail(f"usage: {mode} COUNT")
    count = positive(args[0], "COUNT")
    if count > MAX_COUNT:
        fail(f"COUNT must be at most {MAX_COUNT}")
    with CMAP() as cmap:
        cmap.set(KEY, 0, UINT32)
        expect(cmap, 0, "after setting it")
        start, cpu_start = time.perf_counter(), time.process_time()
        left = loop(cmap, count)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        expect(cmap, left, "after the timed loop")
    # No try_again: the binding retries CS_ERR_TRY_AGAIN inside the call, uncounted.
    emit({"mode": mode, "ops": count, "seconds": seconds, "cpu_seconds": cpu_seconds})


def get_loop(cmap: CMAP, count: int) -> int:
    for _ in range(count):
        cmap.get(KEY)
    return 0


def set_loop(cmap: CMAP, count: int) -> int:
    for i in range(1, count + 1):
        cmap.set(KEY, i, UINT32)
    return count


MODES: dict[str, Callable[[CMAP, int], int]] = {"cmap_get": get_loop, "cmap_set": set_loop}


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in MODES:
        fail(f"usage: cmap_bench.py {'|'.join(MODES)} COUNT")
    timed(argv[0], argv[1:], MODES[argv[0]])


if __name__ == "__main__":
    main(sys.argv[1:])
