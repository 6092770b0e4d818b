"""Memory stays flat: 100,000 CPG messages sent and delivered back, and 10,000 CMAP
operations (set, get, delete, with a track callback firing for each change), grow this
process's resident memory by less than a bound that any per-message or per-operation leak
would cross (a 21-byte leak per message is 2 MiB; a 100-byte one per CMAP operation is
1 MiB). Each measurement starts after a warm-up of the same work, so that caches, free
lists and malloc's arenas have reached their size.

Not in the sanitized run (tools/sanitize.sh): ASan keeps freed memory in quarantine, so
resident memory grows there by design."""

from __future__ import annotations

import os
import select

from conftest import CmapFactory, CpgFactory

from corosync import CPG, DispatchFlags, TrackEvent, TypedValue, ValueType

MiB = 1 << 20


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _send_and_deliver(cpg: CPG, delivered: list[int], count: int) -> None:
    target = delivered[0] + count
    for i in range(count):
        cpg.mcast(b"%08d" % i + b"x" * 56)
        cpg.dispatch(DispatchFlags.ALL)
    while delivered[0] < target:
        select.select([cpg.fileno()], [], [], 5.0)
        cpg.dispatch(DispatchFlags.ALL)


def test_cpg_messages_leave_memory_flat(open_cpg: CpgFactory, group: str) -> None:
    delivered = [0]

    def deliver(group: str | bytes, nodeid: int, pid: int, message: bytes) -> None:
        delivered[0] += 1

    cpg = open_cpg(on_deliver=deliver)
    cpg.join(group)
    _send_and_deliver(cpg, delivered, 20_000)
    before = rss()
    _send_and_deliver(cpg, delivered, 100_000)
    growth = rss() - before
    assert delivered[0] == 120_000
    assert growth < 2 * MiB, f"resident memory grew {growth / MiB:.2f} MiB over 100k messages"


def test_cmap_operations_leave_memory_flat(open_cmap: CmapFactory, prefix: str) -> None:
    cmap = open_cmap()
    changes = [0]

    def changed(
        event: TrackEvent, key: str, new: TypedValue | None, old: TypedValue | None
    ) -> None:
        changes[0] += 1

    cmap.track(prefix, changed, prefix=True)

    def operations(count: int) -> None:
        # Each round: a set, a get, the set of a string, a delete; all but the get are changes.
        for i in range(count // 4):
            key = f"{prefix}k{i % 64}"
            cmap.set(key, i, ValueType.UINT32)
            assert cmap.get(key).value == i
            cmap.set(f"{prefix}s", f"value {i}", ValueType.STRING)
            cmap.delete(key)
            cmap.dispatch(DispatchFlags.ALL)

    operations(4_000)
    before = rss()
    operations(10_000)
    growth = rss() - before
    while select.select([cmap.fileno()], [], [], 0.5)[0]:
        cmap.dispatch(DispatchFlags.ALL)
    # Every change was reported: two sets and a delete per round, 3,500 rounds.
    assert changes[0] == 3 * 3_500
    assert growth < 1 * MiB, f"resident memory grew {growth / MiB:.2f} MiB over 10k operations"
