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

Usage: ``audit_member.py LOG RATE [--libcpg]`` (RATE messages per second). Prints ``joined``
once its own join confchg was dispatched. With ``--libcpg`` the member calls libcpg directly
(tests/libcpg_client.py) instead of the binding: the audit's reference member.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, Protocol

from libcpg_client import CpgLost, LibcpgClient

from corosync import CPG, DispatchFlags, LibraryError, RingId, TryAgainError
from corosync.cpg import Address

GROUP = "order-audit"
#: How long a join waits out corosync's TRY_AGAIN (a node that just restarted on a lossy
#: network may still be synchronizing); sends do not wait (see run()).
JOIN_TIMEOUT = 60.0


class Lost(Exception):
    """The member's daemon went away (its node was killed)."""


@contextmanager
def lost_on(error: type[Exception]) -> Iterator[None]:
    """Turns ``error`` (what the client raises when its daemon is gone) into Lost."""
    try:
        yield
    except error as e:
        raise Lost(str(e)) from e


def ident(nodeid: int, pid: int) -> str:
    return f"{nodeid}/{pid}"


class Log:
    """The member's log file, and whether its own join has been seen."""

    def __init__(self, file: IO[str]) -> None:
        self.file = file
        self.me = ""
        self.joined = False

    def write(self, *event: Any) -> None:
        self.file.write(json.dumps(event) + "\n")

    def deliver(self, nodeid: int, pid: int, message: bytes) -> None:
        self.write("d", ident(nodeid, pid), int(message))

    def confchg(self, members: list[tuple[int, int]]) -> None:
        names = sorted(ident(nodeid, pid) for nodeid, pid in members)
        self.write("c", names)
        self.joined = self.joined or self.me in names

    def totem_confchg(self, ring: tuple[int, int], nodes: list[int]) -> None:
        self.write("t", list(ring), sorted(nodes))


class Client(Protocol):
    """What the member needs of a CPG client: the ring at the join comes first, so that
    every delivery has a known ring (DELIVER_INITIAL_TOTEM_CONF)."""

    me: str
    fd: int

    def join(self) -> None: ...
    def mcast(self, message: bytes) -> bool: ...  # False: TRY_AGAIN, the next tick tries again
    def dispatch(self) -> None: ...  # raises Lost
    def close(self) -> None: ...


class BindingClient:
    def __init__(self, log: Log) -> None:
        self.cpg = CPG(retry_timeout=JOIN_TIMEOUT, deliver_initial_totem_conf=True)
        self.me = ident(*self.cpg.local_address)
        self.fd = self.cpg.fileno()
        self.log = log
        self.cpg.on_deliver = self.deliver
        self.cpg.on_confchg = self.confchg
        self.cpg.on_totem_confchg = self.totem_confchg

    def deliver(self, group: str | bytes, nodeid: int, pid: int, message: bytes) -> None:
        self.log.deliver(nodeid, pid, message)

    def confchg(
        self, group: str | bytes, members: list[Address], left: list[Address], joined: list[Address]
    ) -> None:
        self.log.confchg([(a.nodeid, a.pid) for a in members])

    def totem_confchg(self, ring_id: RingId, members: list[int]) -> None:
        self.log.totem_confchg((ring_id.nodeid, ring_id.seq), members)

    def join(self) -> None:
        with lost_on(LibraryError):
            self.cpg.join(GROUP)

    def mcast(self, message: bytes) -> bool:
        with lost_on(LibraryError):
            try:
                self.cpg.mcast(message, retry_timeout=0)
            except TryAgainError:
                return False
        return True

    def dispatch(self) -> None:
        with lost_on(LibraryError):
            self.cpg.dispatch(DispatchFlags.ALL)

    def close(self) -> None:
        self.cpg.close()


class ReferenceClient:
    def __init__(self, log: Log) -> None:
        self.client = LibcpgClient(log.deliver, log.confchg, log.totem_confchg)
        self.me = ident(self.client.nodeid, os.getpid())
        self.fd = self.client.fd

    def join(self) -> None:
        with lost_on(CpgLost):
            self.client.join(GROUP, JOIN_TIMEOUT)

    def mcast(self, message: bytes) -> bool:
        with lost_on(CpgLost):
            return self.client.mcast(message)

    def dispatch(self) -> None:
        with lost_on(CpgLost):
            self.client.dispatch()

    def close(self) -> None:
        self.client.close()


def wait_and_dispatch(client: Client, timeout: float) -> None:
    if select.select([client.fd], [], [], max(0.0, timeout))[0]:
        client.dispatch()


def run(log_path: str, rate: float, libcpg: bool) -> int:
    sending, ending = True, False

    def stop_sending(signum: int, frame: object) -> None:
        nonlocal sending
        sending = False

    def end(signum: int, frame: object) -> None:
        nonlocal ending
        ending = True

    signal.signal(signal.SIGUSR1, stop_sending)
    signal.signal(signal.SIGTERM, end)
    with open(log_path, "w", buffering=1) as file:
        log = Log(file)
        client: Client = ReferenceClient(log) if libcpg else BindingClient(log)
        log.me = client.me
        log.write("me", client.me)
        try:
            client.join()
            while not log.joined:
                wait_and_dispatch(client, 1.0)
            print("joined", flush=True)
            seq, period = 0, 1.0 / rate
            next_send = time.monotonic()
            while not ending:
                now = time.monotonic()
                if not sending:
                    wait_and_dispatch(client, 0.2)
                elif now >= next_send:
                    if client.mcast(str(seq + 1).encode()):
                        seq += 1
                        log.write("s", seq)
                    next_send = max(next_send + period, now - period)
                if sending:
                    wait_and_dispatch(client, next_send - time.monotonic())
            log.write("end")
        except Lost as e:
            log.write("lost", str(e))
        finally:
            client.close()
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    libcpg = "--libcpg" in args
    args = [a for a in args if a != "--libcpg"]
    if len(args) != 2:
        sys.exit("usage: audit_member.py LOG RATE [--libcpg]")
    sys.exit(run(args[0], float(args[1]), libcpg))
