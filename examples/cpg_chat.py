"""A chat room over corosync's closed process groups (CPG).

Run it on two or more nodes of a corosync cluster (as root, or as a user allowed in
``uidgid.d``), each in its own terminal::

    python3 examples/cpg_chat.py --name alice            # on node 2
    python3 examples/cpg_chat.py --name bob              # on node 3
    python3 examples/cpg_chat.py --group ops --name carol

Every line typed is multicast to the group (UTF-8) and printed by every member, the sender
included, as ``[nick@nodeid] text``: the same lines in the same order on every node, because
CPG delivers in one total order. Joins and leaves are announced from the group's membership
changes, with corosync's reason (left, node down, process down, ...). Ctrl-D (end of input)
leaves the group and exits; so do Ctrl-C and SIGTERM. Exit status 1 if corosync goes away.

Wire format: each message is a JSON object ``{"chat":1,"type":"say"|"hello","nick":...,
"text":...}``. A member announces its nick ("hello") when it joins and whenever someone else
joins, so newcomers learn every nick. Anything else multicast to the group (for instance by
another cluster tool) is printed as ``[nodeid/pid] text``.

A single thread waits with ``select`` on standard input and the CPG handle's ``fileno()``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import select
import signal
import sys
import time
from types import FrameType

import corosync
from corosync.cpg import Address, Reason

#: How corosync's reasons read in join and leave notices.
# By number: a reason newer than this binding arrives as a plain int.
REASONS: dict[int, str] = {
    Reason.UNDEFINED: "undefined",
    Reason.JOIN: "joined",
    Reason.LEAVE: "left",
    Reason.NODEDOWN: "node down",
    Reason.NODEUP: "node up",
    Reason.PROCDOWN: "process down",
}

#: Seconds to wait, after leaving, for corosync to confirm the leave.
LEAVE_TIMEOUT = 2.0


def say(line: str) -> None:
    """Print one line at once, even when standard output is a pipe."""
    print(line, flush=True)


class Chat:
    """One member of a chat group: the CPG handle, the nicks it learnt and the input buffer."""

    def __init__(self, group: str, nick: str) -> None:
        self.group = group
        self.nick = nick
        self.cpg = corosync.CPG(on_deliver=self.on_deliver, on_confchg=self.on_confchg)
        self.me = (self.cpg.local_nodeid, os.getpid())
        self.nicks: dict[tuple[int, int], str] = {}
        self.joined = False
        self.left = False
        self.pending = b""

    # --- what others see ---------------------------------------------------------------

    def send(self, kind: str, text: str = "") -> None:
        """Multicast one chat message; a busy cluster costs this line, not the chat."""
        message = {"chat": 1, "type": kind, "nick": self.nick, "text": text}
        try:
            self.cpg.mcast(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode())
        except corosync.TryAgainError as e:
            say(f"*** not sent, corosync is busy: {e}")

    def who(self, nodeid: int, pid: int) -> str:
        nick = self.nicks.get((nodeid, pid))
        return f"{nick}@{nodeid} (pid {pid})" if nick else f"node {nodeid} pid {pid}"

    # --- callbacks, run inside dispatch() -----------------------------------------------

    def on_confchg(
        self,
        group: str | bytes,
        members: list[Address],
        left: list[Address],
        joined: list[Address],
    ) -> None:
        introduce = False
        for a in joined:
            introduce = True
            if (a.nodeid, a.pid) == self.me:
                self.joined = True
                say(
                    f"*** you joined {self.group} as {self.nick} on node {a.nodeid}"
                    f" ({len(members)} member(s))"
                )
            else:
                extra = (
                    ""
                    if a.reason == Reason.JOIN
                    else f": {REASONS.get(a.reason, f'reason {a.reason}')}"
                )
                say(f"*** {self.who(a.nodeid, a.pid)} joined {self.group}{extra}")
        for a in left:
            if (a.nodeid, a.pid) == self.me:
                self.left = True
                say(f"*** you left {self.group}")
                continue
            why = REASONS.get(a.reason, f"reason {a.reason}")
            say(f"*** {self.who(a.nodeid, a.pid)} left {self.group}: {why}")
            self.nicks.pop((a.nodeid, a.pid), None)
        # Our own join announces us; someone else's makes us introduce ourselves to them.
        if introduce and self.joined and not self.left:
            self.send("hello")

    def on_deliver(self, group: str | bytes, nodeid: int, pid: int, message: bytes) -> None:
        parsed = parse(message)
        if parsed is None:
            say(f"[{nodeid}/{pid}] {message.decode(errors='replace').rstrip()}")
            return
        kind, nick, text = parsed
        sender = (nodeid, pid)
        if kind == "hello":
            if sender != self.me and self.nicks.get(sender) != nick:
                self.nicks[sender] = nick
                say(f"*** node {nodeid} pid {pid} is {nick}")
        elif kind == "say":
            self.nicks.setdefault(sender, nick)
            say(f"[{nick}@{nodeid}] {text}")

    # --- the loop ----------------------------------------------------------------------

    def read_input(self) -> bool:
        """Send the complete lines waiting on stdin; False at end of input."""
        data = os.read(sys.stdin.fileno(), 65536)
        if not data:
            if self.pending.strip():
                self.send("say", self.pending.decode(errors="replace").rstrip("\r"))
            return False
        *lines, self.pending = (self.pending + data).split(b"\n")
        for raw in lines:
            text = raw.decode(errors="replace").rstrip("\r")
            if text.strip():
                self.send("say", text)
        return True

    def run(self) -> None:
        """Join, then relay between stdin and the group until end of input."""
        self.cpg.join(self.group)
        if sys.stdin.isatty():
            say(f"*** joining {self.group}; type a line to send it, Ctrl-D to leave")
        stdin, fd = sys.stdin.fileno(), self.cpg.fileno()
        while True:
            # Input waits for our join's confchg, so that our "hello" precedes our lines.
            readable, _, _ = select.select([stdin, fd] if self.joined else [fd], [], [])
            if fd in readable:
                self.cpg.dispatch(corosync.DispatchFlags.ALL)
            if stdin in readable and not self.read_input():
                return

    def leave(self) -> None:
        """Leave the group and wait (briefly) until corosync confirms it."""
        if self.cpg.closed or self.left:
            return
        try:
            self.cpg.leave(self.group)
        except corosync.NotExistError:
            return
        deadline = time.monotonic() + LEAVE_TIMEOUT
        while not self.left:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if select.select([self.cpg.fileno()], [], [], remaining)[0]:
                self.cpg.dispatch(corosync.DispatchFlags.ALL)


def parse(message: bytes) -> tuple[str, str, str] | None:
    """(type, nick, text) of a chat message; None for anything else."""
    try:
        fields = json.loads(message)
    except ValueError:  # UnicodeDecodeError and json.JSONDecodeError included
        return None
    if not isinstance(fields, dict) or fields.get("chat") != 1:
        return None
    values = (fields.get("type"), fields.get("nick"), fields.get("text"))
    if not all(isinstance(v, str) for v in values):
        return None
    return (str(values[0]), str(values[1]), str(values[2]))


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Chat over a corosync CPG group.")
    parser.add_argument("--group", default="chat", help="CPG group to join (default: chat)")
    parser.add_argument(
        "--name", default=getpass.getuser(), help="your nick (default: your user name)"
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        chat = Chat(args.group, args.name)
    except corosync.CorosyncError as e:
        print(f"cpg_chat: cannot connect to corosync: {e}", file=sys.stderr)
        return 1
    try:
        try:
            chat.run()
        except KeyboardInterrupt:
            pass
        chat.leave()
        return 0
    except KeyboardInterrupt:
        return 0
    except corosync.LibraryError as e:
        print(f"*** lost the connection to corosync: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        chat.cpg.close()


if __name__ == "__main__":
    sys.exit(main())
