"""A member of the order audit (tests/order_audit.py), run as a program on one node: joins
the CPG group ``order-audit``, sends numbered messages at a steady rate, and writes every
event to a log file, one JSON array per line:

* ``["s", seq]``: message ``seq`` of this member was sent (mcast returned);
* ``["d", sender, seq]``: a message was delivered, ``sender`` being ``"<nodeid>/<pid>"``;
* ``["c", members]``: a confchg of the group, ``members`` its sorted ``"<nodeid>/<pid>"`` list;
* ``["t", ring, nodes]``: a totem ring change, ``ring`` as ``[nodeid, seq]``, ``nodes`` the
  ring's node ids;
* ``["me", member]``: first, this member's own ``"<nodeid>/<pid>"``;
* ``["lost", error]``: corosync went away (the member's node was killed); the program ends;
* ``["end"]``: SIGTERM came: the program ends at once.

SIGUSR1 stops the sending; the member goes on dispatching (and logging) until SIGTERM, so
that the messages sent before the stop can reach every member.

Usage: ``audit_member.py LOG RATE`` (RATE messages per second). Prints ``joined`` once its
own join confchg was dispatched.
"""

from __future__ import annotations

import json
import select
import signal
import sys
import time
from typing import IO, Any

from corosync import CPG, DispatchFlags, LibraryError, RingId, TryAgainError
from corosync.cpg import Address

GROUP = "order-audit"


def ident(nodeid: int, pid: int) -> str:
    return f"{nodeid}/{pid}"


class Member:
    def __init__(self, log: IO[str]) -> None:
        self.log = log
        # The ring at the join comes first, so that every delivery has a known ring. The join
        # waits out corosync's TRY_AGAIN (a node that just restarted on a lossy network may
        # still be synchronizing); sends do not (see run()).
        self.cpg = CPG(retry_timeout=60.0, deliver_initial_totem_conf=True)
        self.me = ident(*self.cpg.local_address)
        self.joined = False
        self.cpg.on_deliver = self.deliver
        self.cpg.on_confchg = self.confchg
        self.cpg.on_totem_confchg = self.totem_confchg

    def write(self, *event: Any) -> None:
        self.log.write(json.dumps(event) + "\n")

    def deliver(self, group: str | bytes, nodeid: int, pid: int, message: bytes) -> None:
        self.write("d", ident(nodeid, pid), int(message))

    def confchg(
        self,
        group: str | bytes,
        members: list[Address],
        left: list[Address],
        joined: list[Address],
    ) -> None:
        names = sorted(ident(a.nodeid, a.pid) for a in members)
        self.write("c", names)
        self.joined = self.joined or self.me in names

    def totem_confchg(self, ring_id: RingId, members: list[int]) -> None:
        self.write("t", [ring_id.nodeid, ring_id.seq], sorted(members))

    def dispatch(self, timeout: float) -> None:
        if select.select([self.cpg.fileno()], [], [], max(0.0, timeout))[0]:
            self.cpg.dispatch(DispatchFlags.ALL)


def run(log_path: str, rate: float) -> int:
    sending, ending = True, False

    def stop_sending(signum: int, frame: object) -> None:
        nonlocal sending
        sending = False

    def end(signum: int, frame: object) -> None:
        nonlocal ending
        ending = True

    signal.signal(signal.SIGUSR1, stop_sending)
    signal.signal(signal.SIGTERM, end)
    with open(log_path, "w", buffering=1) as log:
        member = Member(log)
        member.write("me", member.me)
        try:
            member.cpg.join(GROUP)
            while not member.joined:
                member.dispatch(1.0)
            print("joined", flush=True)
            seq, period = 0, 1.0 / rate
            next_send = time.monotonic()
            while not ending:
                now = time.monotonic()
                if not sending:
                    member.dispatch(0.2)
                elif now >= next_send:
                    try:
                        member.cpg.mcast(str(seq + 1).encode(), retry_timeout=0)
                        seq += 1
                        member.write("s", seq)
                    except TryAgainError:
                        pass  # flow control or a membership change: the next tick tries again
                    next_send = max(next_send + period, now - period)
                if sending:
                    member.dispatch(next_send - time.monotonic())
            member.write("end")
        except LibraryError as e:
            member.write("lost", str(e))
        finally:
            member.cpg.close()
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: audit_member.py LOG RATE")
    sys.exit(run(sys.argv[1], float(sys.argv[2])))
