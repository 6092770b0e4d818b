"""Watch closed process group (CPG) activity on one corosync node.

Run it on any node of a cluster (as root, or as a user allowed in ``uidgid.d``)::

    python3 examples/cpg_monitor.py                       # groups now, then ring changes
    python3 examples/cpg_monitor.py --group chat          # ... and chat's members and messages
    python3 examples/cpg_monitor.py --group a --group b --json --count 10 --timeout 30

At start it lists every group of the cluster and its members (``CPG.groups()``), then prints,
one timestamped line each:

* ``totem``: the totem ring changed (a node joined, crashed or was cut off), with its members;
* ``confchg``: for each ``--group``, a process joined or left, with corosync's reason;
* ``deliver``: for each ``--group``, a message: its sender, size and start (``--hex`` for a
  hexdump instead of a Python literal).

CPG cannot observe a group from outside, so watching a ``--group`` *joins* it: the monitor
shows up as a member (it sends nothing). Without ``--group`` it joins nothing and reports ring
changes only. With a ``--group``, the first ``totem`` line is the ring at start.

For scripts: ``--json`` prints one JSON object per line (``event`` is ``groups``, ``totem``,
``confchg`` or ``deliver``; ``time`` is seconds since the epoch), ``--count N`` exits after N
events (the start-up ``groups`` listing is not counted) and ``--timeout S`` after S seconds.
Exit status 0, or 1 when ``--timeout`` expired before ``--count`` events were seen or
corosync went away. Ctrl-C and SIGTERM exit with 0.
"""

from __future__ import annotations

import argparse
import json
import select
import signal
import sys
import time
from types import FrameType
from typing import Any

import corosync
from corosync.cpg import Address, Reason

# By number: a reason newer than this binding arrives as a plain int.
REASONS: dict[int, str] = {
    Reason.UNDEFINED: "undefined",
    Reason.JOIN: "joined",
    Reason.LEAVE: "left",
    Reason.NODEDOWN: "node down",
    Reason.NODEUP: "node up",
    Reason.PROCDOWN: "process down",
}

#: How much of a message the text output shows.
PREVIEW_BYTES = 64


def timestamp(now: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"


def name(group: str | bytes) -> str:
    return group if isinstance(group, str) else repr(group)


def addresses(members: list[Address]) -> str:
    return ", ".join(f"{a.nodeid}/{a.pid}" for a in members) or "none"


def preview(message: bytes, hexdump: bool) -> str:
    head = message[:PREVIEW_BYTES]
    more = "..." if len(message) > PREVIEW_BYTES else ""
    return (head.hex(" ") if hexdump else repr(head)) + more


class Monitor:
    """Prints (and counts) the events of one CPG handle."""

    def __init__(self, as_json: bool, hexdump: bool) -> None:
        self.as_json = as_json
        self.hexdump = hexdump
        self.events = 0
        self.cpg = corosync.CPG(
            on_deliver=self.on_deliver,
            on_confchg=self.on_confchg,
            on_totem_confchg=self.on_totem_confchg,
            deliver_initial_totem_conf=True,
        )

    def emit(self, event: str, text: str, fields: dict[str, Any], count: bool = True) -> None:
        now = time.time()
        if self.as_json:
            print(json.dumps({"time": round(now, 3), "event": event, **fields}), flush=True)
        else:
            print(f"{timestamp(now)} {event} {text}", flush=True)
        if count:
            self.events += 1

    def list_groups(self) -> None:
        by_group: dict[str, list[tuple[int, int]]] = {}
        for m in self.cpg.groups():
            by_group.setdefault(name(m.group), []).append((m.nodeid, m.pid))
        nodeid = self.cpg.local_nodeid
        text = f"on node {nodeid}: {len(by_group)} group(s)" + "".join(
            f"\n    {g}: {', '.join(f'{n}/{p}' for n, p in members)}"
            for g, members in sorted(by_group.items())
        )
        groups = {g: [list(m) for m in members] for g, members in by_group.items()}
        self.emit("groups", text, {"nodeid": nodeid, "groups": groups}, count=False)

    def on_totem_confchg(self, ring_id: corosync.RingId, members: list[int]) -> None:
        self.emit(
            "totem",
            f"ring {ring_id.nodeid}.{ring_id.seq}: members {members}",
            {"ring_id": [ring_id.nodeid, ring_id.seq], "members": members},
        )

    def on_confchg(
        self,
        group: str | bytes,
        members: list[Address],
        left: list[Address],
        joined: list[Address],
    ) -> None:
        changes = [
            f"joined {a.nodeid}/{a.pid} ({REASONS.get(a.reason, f'reason {a.reason}')})"
            for a in joined
        ]
        changes += [
            f"left {a.nodeid}/{a.pid} ({REASONS.get(a.reason, f'reason {a.reason}')})" for a in left
        ]
        text = f"{name(group)}: {'; '.join(changes)}; members {addresses(members)}"

        def rows(lst: list[Address]) -> list[dict[str, Any]]:
            return [
                {"nodeid": a.nodeid, "pid": a.pid, "reason": getattr(a.reason, "name", a.reason)}
                for a in lst
            ]

        self.emit(
            "confchg",
            text,
            {
                "group": name(group),
                "members": rows(members),
                "left": rows(left),
                "joined": rows(joined),
            },
        )

    def on_deliver(self, group: str | bytes, nodeid: int, pid: int, message: bytes) -> None:
        self.emit(
            "deliver",
            f"{name(group)} from {nodeid}/{pid}: {len(message)} bytes "
            f"{preview(message, self.hexdump)}",
            {"group": name(group), "nodeid": nodeid, "pid": pid, "hex": message.hex()},
        )


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def watch(monitor: Monitor, count: int | None, timeout: float | None) -> int:
    """Dispatch until `count` events or `timeout` seconds; the exit status."""
    deadline = None if timeout is None else time.monotonic() + timeout
    fd = monitor.cpg.fileno()
    while count is None or monitor.events < count:
        wait = None if deadline is None else deadline - time.monotonic()
        if wait is not None and wait <= 0:
            return 0 if count is None else 1
        if select.select([fd], [], [], wait)[0]:
            monitor.cpg.dispatch(corosync.DispatchFlags.ALL)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Watch CPG groups and totem ring changes.")
    parser.add_argument(
        "--group",
        action="append",
        default=[],
        help="join GROUP to report its membership changes and messages (repeatable)",
    )
    parser.add_argument("--count", type=int, help="exit after N events")
    parser.add_argument("--timeout", type=float, help="exit after S seconds")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--hex", action="store_true", help="show messages as hex bytes")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        monitor = Monitor(args.json, args.hex)
    except corosync.CorosyncError as e:
        print(f"cpg_monitor: cannot connect to corosync: {e}", file=sys.stderr)
        return 1
    try:
        monitor.list_groups()
        for group in args.group:
            monitor.cpg.join(group)
        return watch(monitor, args.count, args.timeout)
    except KeyboardInterrupt:
        return 0
    except corosync.LibraryError as e:
        print(f"cpg_monitor: lost the connection to corosync: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        monitor.cpg.close()


if __name__ == "__main__":
    sys.exit(main())
