"""Show every node's knet links and their state, and each change as it happens.

Run it on any node of a cluster (as root, or as a user allowed in ``uidgid.d``)::

    python3 examples/link_status.py
    python3 examples/link_status.py --interval 0.5 --count 2 --timeout 60

It prints the state now, one line per link of every other node, as this node sees it::

    node 2 link 0: connected (10.0.0.1 -> 10.0.0.2, mtu 1397)

then one timestamped line per change: a link that goes down or comes back, a node that
becomes unreachable or reachable (a new MTU alone is no change: knet's path MTU discovery
raises it once a link is up). corosync reports no link events to clients, so it asks
``CFG.node_status`` for every node of the nodelist (read from CMAP) every ``--interval``
seconds (1 by default), as ``corosync-cfgtool -n`` would.

``--count N`` exits after N changes and ``--timeout S`` after S seconds. Exit status 0, or 1
when ``--timeout`` expired before ``--count`` changes or corosync went away. Ctrl-C and
SIGTERM exit with 0.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import time
from types import FrameType

import corosync
from corosync.cfg import CFG, LinkStatus, NodeStatus

NODEID_KEY = re.compile(r"^nodelist\.node\.\d+\.nodeid$")


def timestamp(now: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"


def nodelist() -> list[int]:
    """The node ids of corosync.conf's nodelist, as the daemon has them."""
    with corosync.CMAP() as cmap:
        keys = [key for key in cmap.keys("nodelist.node.") if NODEID_KEY.match(key)]
        return sorted(int(cmap[key]) for key in keys)


def describe(link: LinkStatus) -> tuple[str, str]:
    """A link's state, and the details shown beside it (addresses, MTU)."""
    state = "connected" if link.connected else "down"
    if not link.enabled:
        state = "disabled"
    return state, f" ({link.src} -> {link.dst}, mtu {link.mtu})"


def snapshot(cfg: CFG, local: int) -> dict[str, tuple[str, str]]:
    """What to show of every other node: "node N" (reachable or not) and "node N link L",
    each as (state, details)."""
    view: dict[str, tuple[str, str]] = {}
    for nodeid in nodelist():
        if nodeid == local:
            continue
        try:
            status: NodeStatus | None = cfg.node_status(nodeid)
        except corosync.FailedOperationError:  # knet does not know it (yet)
            status = None
        view[f"node {nodeid}"] = ("reachable" if status and status.reachable else "unreachable", "")
        for link in status.links if status else []:
            view[f"node {nodeid} link {link.link}"] = describe(link)
    return view


def watch(interval: float, count: int | None, timeout: float | None) -> int:
    deadline = None if timeout is None else time.monotonic() + timeout
    changes = 0
    with CFG() as cfg:
        local = cfg.local_nodeid
        print(f"links of node {local}", flush=True)
        shown = snapshot(cfg, local)
        for what, (state, details) in shown.items():
            print(f"{what}: {state}{details}", flush=True)
        while count is None or changes < count:
            if deadline is not None and time.monotonic() >= deadline:
                return 1
            time.sleep(interval)
            now = snapshot(cfg, local)
            for what in sorted(now.keys() | shown.keys()):
                state, details = now.get(what, ("gone", ""))
                # Only the state counts: knet's path MTU discovery changes a link's MTU
                # after it comes up (522, then 1446 over a 1500-byte veth), which is no news.
                if what not in shown or shown[what][0] != state:
                    print(f"{timestamp(time.time())} {what}: {state}{details}", flush=True)
                    changes += 1
            shown = now
    return 0


def stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between looks")
    parser.add_argument("--count", type=int, help="exit after this many changes")
    parser.add_argument("--timeout", type=float, help="exit (status 1) after this many seconds")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, stop)
    try:
        return watch(args.interval, args.count, args.timeout)
    except KeyboardInterrupt:
        return 0
    except corosync.LibraryError as e:
        print(f"corosync went away: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
