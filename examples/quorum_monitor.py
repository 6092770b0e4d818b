"""Watch quorum, votes and membership on one corosync node as they change.

Run it on any node of a cluster (as root, or as a user allowed in ``uidgid.d``)::

    python3 examples/quorum_monitor.py
    python3 examples/quorum_monitor.py --json --count 3 --timeout 60

It prints the state now, then one timestamped line per change, from votequorum's
notifications:

* ``ring``: a new totem ring (ring id and its nodes): a node joined, crashed or was cut off;
* ``quorum``: quorate or not, and each node's state (member, dead, leaving), with this node's
  votes, the expected votes, the total votes and the quorum (``Votequorum.info()``);
* ``expected``: the expected votes changed (``corosync-quorumtool -e``, or a node's votes).

For scripts: ``--json`` prints one JSON object per line (``event`` is ``ring``, ``quorum``
or ``expected``; ``time`` is seconds since the epoch), ``--count N`` exits after N changes
(the lines about the state at start are not counted) and ``--timeout S`` after S seconds.
Exit status 0, or 1 when ``--timeout`` expired before ``--count`` changes were seen or
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
from corosync import RingId, TrackFlags
from corosync.votequorum import NodeState, NodeStatus, Votequorum

STATES: dict[int, str] = {
    NodeState.MEMBER: "member",
    NodeState.DEAD: "dead",
    NodeState.LEAVING: "leaving",
}


def timestamp(now: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"


class Monitor:
    """Prints the notifications of one Votequorum handle, and counts the changes."""

    def __init__(self, votequorum: Votequorum, as_json: bool) -> None:
        self.votequorum = votequorum
        self.as_json = as_json
        self.changes = 0
        # trackstart(CURRENT) reports the state at start in two lines (the ring, then the
        # quorum); those are not changes.
        self.start_lines = 2

    def emit(self, event: str, text: str, fields: dict[str, Any]) -> None:
        now = time.time()
        if self.as_json:
            print(json.dumps({"event": event, "time": now, **fields}), flush=True)
        else:
            print(f"{timestamp(now)} {event:8} {text}", flush=True)
        if self.start_lines:
            self.start_lines -= 1
        else:
            self.changes += 1

    def on_nodelist(self, ring_id: RingId, nodes: list[int]) -> None:
        ring = f"{ring_id.nodeid}.{ring_id.seq}"
        self.emit("ring", f"{ring} nodes {nodes}", {"ring_id": ring, "nodes": nodes})

    def on_notify(self, quorate: bool, ring_id: RingId, nodes: list[NodeStatus]) -> None:
        info = self.votequorum.info()
        states = {n.nodeid: STATES.get(n.state, f"state {int(n.state)}") for n in nodes}
        votes = {
            "votes": info.votes,
            "expected_votes": info.expected_votes,
            "total_votes": info.total_votes,
            "quorum": info.quorum,
        }
        text = "quorate" if quorate else "NOT quorate"
        text += " " + ", ".join(f"{nodeid} {state}" for nodeid, state in states.items())
        text += (
            " ({votes} votes here, expected {expected_votes}, total {total_votes}, "
            "quorum {quorum})".format(**votes)
        )
        self.emit(
            "quorum",
            text,
            {"quorate": quorate, "nodes": {str(k): v for k, v in states.items()}, **votes},
        )

    def on_expectedvotes(self, expected_votes: int) -> None:
        self.emit(
            "expected", f"expected votes {expected_votes}", {"expected_votes": expected_votes}
        )


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def watch(monitor: Monitor, count: int | None, timeout: float | None) -> int:
    """Dispatch until `count` changes or `timeout` seconds; the exit status."""
    deadline = None if timeout is None else time.monotonic() + timeout
    fd = monitor.votequorum.fileno()
    while count is None or monitor.changes < count:
        wait = None if deadline is None else deadline - time.monotonic()
        if wait is not None and wait <= 0:
            return 0 if count is None else 1
        if select.select([fd], [], [], wait)[0]:
            monitor.votequorum.dispatch(corosync.DispatchFlags.ALL)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print quorum, votes and membership changes of this corosync node."
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--count", type=int, help="exit after N changes")
    parser.add_argument("--timeout", type=float, help="exit after S seconds")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        votequorum = Votequorum()
    except corosync.CorosyncError as e:
        print(f"quorum_monitor: cannot connect to corosync: {e}", file=sys.stderr)
        return 1
    try:
        monitor = Monitor(votequorum, args.json)
        votequorum.on_nodelist = monitor.on_nodelist
        votequorum.on_notify = monitor.on_notify
        votequorum.on_expectedvotes = monitor.on_expectedvotes
        # The state now (a ring and a quorum line), then every change.
        votequorum.trackstart(TrackFlags.CURRENT | TrackFlags.CHANGES)
        return watch(monitor, args.count, args.timeout)
    except KeyboardInterrupt:
        return 0
    except corosync.LibraryError as e:
        print(f"quorum_monitor: lost the connection to corosync: {e}", file=sys.stderr)
        return 1
    finally:
        votequorum.close()


if __name__ == "__main__":
    sys.exit(main())
