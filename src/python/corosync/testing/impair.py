"""A degraded cable: the program that relays a node's frames between its switch port and the
bridge with loss, delay and reordering, as ``tc netem`` would (used by
:meth:`~corosync.testing.Cluster.degrade`).

Why not netem: the kernels this project runs on (its CI among them) are built without
``sch_netem`` (``tc qdisc add ... netem`` answers "Specified qdisc kind is unknown"), and a
test harness must run wherever the tests do. So the cable is a program: two ``AF_PACKET``
sockets, one on the node's switch port and one on a veth pair whose other end is the port's
place on the bridge. What the node sends (its port to the bridge) is dropped, delayed or
reordered, as netem on the node's own interface would do to its egress; what comes to the
node passes unchanged, so that a frame between two degraded nodes is degraded once.

* **Loss**: each frame is dropped with probability ``loss``.
* **Delay**: each kept frame waits ``delay`` seconds, plus a uniform ``jitter`` either way.
* **Reordering**: as netem's ``reorder``, a kept frame goes with probability ``reorder``
  without the delay, so it overtakes the frames waiting before it.

Checksums: a frame that a local stack sent through a veth carries its UDP/TCP checksum
unfinished (the kernel leaves it to a NIC that never comes, ``TP_STATUS_CSUMNOTREADY``).
A frame sent again through a packet socket is checked by the receiver, so the relay sets the
UDP checksum of such IPv4 frames to 0, which RFC 768 defines as "no checksum" (knet and
corosync's other traffic are UDP; other frames go as they came).

Run as ``python -m corosync.testing.impair PORT INNER [options]`` inside the switch
namespace; it prints ``ready`` once both sockets are bound, and runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import heapq
import os
import random
import select
import signal
import socket
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Impairment", "main"]

_ETH_P_ALL = 0x0003
_SOL_PACKET = 263
_PACKET_AUXDATA = 8
_PACKET_OUTGOING = 4
_TP_STATUS_CSUMNOTREADY = 1 << 3
_AUXDATA = struct.Struct("IIIHHHH")  # struct tpacket_auxdata
_FRAME_MAX = 65536
_ETH_HEADER = 14
_ETHERTYPE_IPV4 = 0x0800
_IPPROTO_UDP = 17


@dataclass(frozen=True)
class Impairment:
    """What a degraded link does to each frame, in each direction: netem's ``loss``,
    ``delay``/``jitter`` (seconds) and ``reorder`` (a probability, of going undelayed)."""

    loss: float = 0.0
    delay: float = 0.0
    jitter: float = 0.0
    reorder: float = 0.0

    def __post_init__(self) -> None:
        for name in ("loss", "reorder"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability (0 to 1), got {value!r}")
        for name in ("delay", "jitter"):
            value = getattr(self, name)
            if not 0.0 <= value <= 60.0:
                raise ValueError(f"{name} must be 0 to 60 seconds, got {value!r}")
        if self.jitter > self.delay:
            raise ValueError(f"jitter ({self.jitter} s) must not exceed delay ({self.delay} s)")

    def arguments(self) -> list[str]:
        """The command-line options that give this impairment to the program."""
        return [
            f"--loss={self.loss!r}",
            f"--delay={self.delay!r}",
            f"--jitter={self.jitter!r}",
            f"--reorder={self.reorder!r}",
        ]


def _packet_socket(interface: str) -> socket.socket:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(_ETH_P_ALL))
    s.setsockopt(_SOL_PACKET, _PACKET_AUXDATA, 1)
    s.bind((interface, 0))
    s.setblocking(False)
    return s


def _checksum_not_ready(ancillary: list[tuple[int, int, bytes]]) -> bool:
    for level, kind, data in ancillary:
        if level == _SOL_PACKET and kind == _PACKET_AUXDATA and len(data) >= _AUXDATA.size:
            return bool(_AUXDATA.unpack_from(data)[0] & _TP_STATUS_CSUMNOTREADY)
    return False


def _finish_checksum(frame: bytes) -> bytes:
    """``frame`` with the UDP checksum of an IPv4 datagram set to 0 ("none")."""
    if len(frame) < _ETH_HEADER + 20:
        return frame
    (ethertype,) = struct.unpack_from("!H", frame, 12)
    if ethertype != _ETHERTYPE_IPV4 or frame[_ETH_HEADER + 9] != _IPPROTO_UDP:
        return frame
    udp = _ETH_HEADER + (frame[_ETH_HEADER] & 0x0F) * 4
    if len(frame) < udp + 8:
        return frame
    return frame[: udp + 6] + b"\0\0" + frame[udp + 8 :]


class _Relay:
    def __init__(self, port: socket.socket, inner: socket.socket, impairment: Impairment) -> None:
        self.peer = {port.fileno(): inner, inner.fileno(): port}
        self.egress = port.fileno()  # frames the node sent
        self.sockets = [port, inner]
        self.impairment = impairment
        self.random = random.Random()
        self.queue: list[tuple[float, int, int, bytes]] = []  # (due, seq, to fd, frame)
        self.seq = 0

    def receive(self, s: socket.socket) -> None:
        while True:
            try:
                frame, ancillary, _, address = s.recvmsg(_FRAME_MAX, socket.CMSG_SPACE(32))
            except BlockingIOError:
                return
            if address[2] == _PACKET_OUTGOING:
                continue  # what this relay itself sent on this interface
            if _checksum_not_ready(ancillary):
                frame = _finish_checksum(frame)
            if s.fileno() == self.egress:
                self.schedule(self.peer[s.fileno()], frame)
            else:
                self.send(self.peer[s.fileno()], frame)

    def schedule(self, to: socket.socket, frame: bytes) -> None:
        imp, rng = self.impairment, self.random
        if imp.loss and rng.random() < imp.loss:
            return
        delay = 0.0
        if imp.delay and not (imp.reorder and rng.random() < imp.reorder):
            delay = imp.delay + (rng.uniform(-imp.jitter, imp.jitter) if imp.jitter else 0.0)
        if delay <= 0.0:
            self.send(to, frame)
            return
        self.seq += 1
        heapq.heappush(self.queue, (time.monotonic() + delay, self.seq, to.fileno(), frame))

    def send(self, to: socket.socket, frame: bytes) -> None:
        try:
            to.send(frame)
        except OSError:
            pass  # a port taken down (a cut link), a full queue: the frame is lost, as on a wire

    def run(self) -> None:
        sockets = {s.fileno(): s for s in self.sockets}
        while True:
            timeout = None
            if self.queue:
                timeout = max(0.0, self.queue[0][0] - time.monotonic())
            readable, _, _ = select.select(self.sockets, [], [], timeout)
            for s in readable:
                self.receive(s)
            now = time.monotonic()
            while self.queue and self.queue[0][0] <= now:
                _, _, fd, frame = heapq.heappop(self.queue)
                self.send(sockets[fd], frame)


def _probability(text: str) -> float:
    return float(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Relay frames between two interfaces with an impairment, until SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m corosync.testing.impair", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("port", help="the node's switch port")
    parser.add_argument("inner", help="the veth end whose peer is on the bridge")
    parser.add_argument("--loss", type=_probability, default=0.0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds")
    parser.add_argument("--jitter", type=float, default=0.0, help="seconds")
    parser.add_argument("--reorder", type=_probability, default=0.0)
    args = parser.parse_args(argv)
    try:
        impairment = Impairment(args.loss, args.delay, args.jitter, args.reorder)
    except ValueError as e:
        parser.error(str(e))
    # SIGTERM ends the program at once (what is still delayed is lost, as on a pulled cable).
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    relay = _Relay(_packet_socket(args.port), _packet_socket(args.inner), impairment)
    print("ready", flush=True)
    try:
        relay.run()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
