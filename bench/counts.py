"""How much work each row does: the default counts, tuned so that one C run of a row takes
a second or two on a 2-core machine (the RSS row's million messages take a minute or two),
and the tiny ones of ``--smoke``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Counts:
    #: Messages per run of the one-mcast-per-message rows, by message size in bytes.
    send: dict[int, int]
    #: Messages per run of the batched rows, by message size.
    batch: dict[int, int]
    #: Messages per mcast_many (binding) or per run of cpg_mcast_joined calls (C).
    batch_size: int
    #: Messages of the 64 B batch row whose client runs on a CPU of its own (several times
    #: faster than the shared rows), and the send window both its workers keep: the
    #: binding's default, which keeps a sender out of corosync's flow control.
    own_cpu: int
    own_cpu_window: int
    #: Messages each of the three senders sends to the receiver.
    recv_per_sender: int
    #: Events queued before the timed dispatch.
    dispatch: int
    #: Messages sent and delivered back while RSS is watched.
    rss: int
    #: Messages of the threads row (in all), and of its single-thread reference.
    threads: int
    #: Sending threads of the threads row.
    thread_count: int
    #: Operations (round trips) per run of each CMAP row, get and set.
    cmap: int


DEFAULT = Counts(
    send={64: 40_000, 1024: 30_000, 64 << 10: 1_500, 1 << 20: 80},
    batch={64: 40_000, 1024: 30_000},
    batch_size=64,
    own_cpu=200_000,
    own_cpu_window=8192,
    recv_per_sender=10_000,
    dispatch=100_000,
    rss=1_000_000,
    threads=40_000,
    thread_count=4,
    cmap=30_000,
)

SMOKE = Counts(
    send={64: 2_000, 1024: 1_000, 64 << 10: 100, 1 << 20: 5},
    batch={64: 2_000, 1024: 1_000},
    batch_size=64,
    own_cpu=5_000,
    own_cpu_window=8192,
    recv_per_sender=500,
    dispatch=2_000,
    rss=5_000,
    threads=2_000,
    thread_count=4,
    cmap=200,
)
