"""A worker that crashes on purpose and is brought back by corosync's SAM, its counter kept
across the crashes.

Run it on a corosync node (as root, or as a user allowed in ``uidgid.d``)::

    python3 examples/sam_worker.py
    python3 examples/sam_worker.py --crash-after 1 --instances 5 --interval 500 --hang --cmap

The process becomes SAM's supervisor (``sam.register()`` forks) and a child of it does the
work: it counts, storing the counter with ``sam.data_store()`` and sending a health check
after each step, and after ``--crash-after`` seconds it crashes (it kills itself with
SIGKILL; with ``--hang`` it stops sending health checks instead, and the supervisor sends it
SIGTERM one ``--interval`` later, SIGKILL after one more). The supervisor then starts the next
instance, which gets the counter back with ``sam.data_restore()``. Each instance prints::

    instance 2: counter 17
    instance 2: crashing at counter 26

and the ``--instances``-th one, after its share of the work, ends cleanly::

    instance 3: done at counter 35

With ``--cmap`` the worker's state is in CMAP while it runs (``corosync-cmapctl
resources.process``: ``state`` "running", ``recovery`` "restart"). The daemon is needed only
then: without it, SAM's supervision is a matter of the two processes alone.

Exit status 0 after the last instance; 1 if SAM could not start; Ctrl-C or SIGTERM stop the
worker (status 130 or 143, the supervisor passing the signal on to the instance running).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from typing import NoReturn

import corosync
from corosync import sam

#: The counter's encoding in SAM's stored data.
BYTES = 8


def work(counter: int, seconds: float, step: float) -> int:
    """Count for `seconds` (one step at least), storing the counter and sending a health
    check after each step; the counter at the end."""
    deadline = time.monotonic() + seconds
    while True:
        counter += 1
        sam.data_store(counter.to_bytes(BYTES, "big"))
        sam.hc_send()
        if time.monotonic() >= deadline:
            return counter
        time.sleep(step)


def crash(instance: int, counter: int, hang: bool) -> NoReturn:
    """End this instance the way a bug would: a crash, or a hang."""
    print(f"instance {instance}: crashing at counter {counter}", flush=True)
    if hang:
        while True:  # no more health checks: the supervisor's SIGTERM ends it
            time.sleep(3600)
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("still alive after SIGKILL")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="A worker supervised by corosync's SAM: it crashes on purpose, and comes "
        "back with its counter."
    )
    parser.add_argument(
        "--crash-after", type=float, default=3.0, metavar="SECONDS", help="work this long"
    )
    parser.add_argument(
        "--instances", type=int, default=3, metavar="N", help="end cleanly at instance N"
    )
    parser.add_argument(
        "--interval", type=int, default=1000, metavar="MS", help="the health check interval"
    )
    parser.add_argument("--hang", action="store_true", help="hang instead of crashing")
    parser.add_argument("--cmap", action="store_true", help="publish the state in CMAP")
    args = parser.parse_args(argv)

    policy = sam.RecoveryPolicy.RESTART
    if args.cmap:
        policy |= sam.RecoveryPolicy.CMAP
    try:
        sam.initialize(args.interval, policy)
        # The supervisor never comes back from here; each instance does.
        instance = sam.register()
        counter = int.from_bytes(sam.data_restore(), "big")  # b"": 0, the first time
        print(f"instance {instance}: counter {counter}", flush=True)
        sam.start()
        counter = work(counter, args.crash_after, args.interval / 4000)
        if instance < args.instances:
            crash(instance, counter, args.hang)
        sam.finalize()
    except corosync.CorosyncError as e:
        print(f"sam_worker: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(f"instance {instance}: done at counter {counter}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
