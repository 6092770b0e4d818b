"""A chat room over corosync's closed process groups (CPG), written with asyncio.

The chat of ``cpg_chat.py``, and a member of the same rooms: the same group (``chat`` unless
``--group`` says otherwise), the same messages and the same output, so the two talk to each
other. Run it on two or more nodes of a corosync cluster (as root, or as a user allowed in
``uidgid.d``)::

    python3 examples/async_chat.py --name alice          # on node 2
    python3 examples/cpg_chat.py --name bob              # on node 3

Every line typed is multicast to the group (UTF-8) and printed by every member, the sender
included, as ``[nick@nodeid] text``, in the same order on every node. Joins and leaves are
announced with corosync's reason. Ctrl-D (end of input) leaves the group and exits; so do
Ctrl-C and SIGTERM. Exit status 1 if corosync goes away.

Wire format (``cpg_chat.py``'s): each message is a JSON object ``{"chat":1,"type":"say"|
"hello","nick":...,"text":...}``. A member says "hello" when it joins and whenever someone else
joins, so newcomers learn every nick; anything else multicast to the group is printed as
``[nodeid/pid] text``.

One event loop, no threads: one task reads the group's events (``async for event in
aio.events(cpg)``, matched by type), another reads standard input when the loop finds it
readable (``loop.add_reader``) and sends each line with ``await aio.mcast(...)``, which waits
on the loop, not inside corosync, while the cluster pushes back.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import signal
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable

import corosync
from corosync import aio
from corosync.cpg import Address, ConfChg, Deliver, Reason, TotemConfChg

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


# --- standard input, through the event loop ------------------------------------------------


async def read_chunk(fd: int) -> bytes:
    """What `fd` has to give once the loop finds it readable (b"" at end of input)."""
    loop = asyncio.get_running_loop()
    readable = loop.create_future()

    def ready() -> None:
        if not readable.done():
            readable.set_result(None)

    try:
        loop.add_reader(fd, ready)
    except PermissionError:
        # A regular file or /dev/null, which epoll does not watch; reading it never blocks.
        return os.read(fd, 65536)
    try:
        await readable
    finally:
        loop.remove_reader(fd)
    return os.read(fd, 65536)


async def input_lines(fd: int) -> AsyncGenerator[str, None]:
    """The non-blank lines of `fd`, then the unterminated last one, if any."""
    pending = b""
    while data := await read_chunk(fd):
        *lines, pending = (pending + data).split(b"\n")
        for raw in lines:
            text = raw.decode(errors="replace").rstrip("\r")
            if text.strip():
                yield text
    if pending.strip():
        yield pending.decode(errors="replace").rstrip("\r")


async def first_of(*awaitables: Awaitable[object]) -> None:
    """Wait until one of `awaitables` is done; cancel the others that this call started."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task, awaitable in zip(tasks, awaitables, strict=True):
            if task is not awaitable:
                task.cancel()


# --- the chat ------------------------------------------------------------------------------


class Chat:
    """One member of a chat group: the CPG handle, the nicks it learnt, and whether it is in."""

    def __init__(self, cpg: corosync.CPG, group: str, nick: str) -> None:
        self.cpg = cpg
        self.group = group
        self.nick = nick
        self.me = cpg.local_address  # (nodeid, pid), as corosync names this process
        self.nicks: dict[tuple[int, int], str] = {}
        self.joined = asyncio.Event()
        self.left = asyncio.Event()

    # --- what others see ---------------------------------------------------------------

    async def send(self, kind: str, text: str = "") -> None:
        """Multicast one chat message; a busy cluster costs this line, not the chat."""
        message = {"chat": 1, "type": kind, "nick": self.nick, "text": text}
        payload = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            await aio.mcast(self.cpg, payload)
        except corosync.TryAgainError as e:
            say(f"*** not sent, corosync is busy: {e}")

    def who(self, nodeid: int, pid: int) -> str:
        nick = self.nicks.get((nodeid, pid))
        return f"{nick}@{nodeid} (pid {pid})" if nick else f"node {nodeid} pid {pid}"

    # --- what the group says -----------------------------------------------------------

    async def receive(self, events: AsyncIterator[Deliver | ConfChg | TotemConfChg]) -> None:
        """Handle the group's events until the handle is closed (LibraryError if corosync
        goes away)."""
        async for event in events:
            match event:
                case ConfChg(members=members, left=left, joined=joined):
                    await self.on_confchg(members, left, joined)
                case Deliver(nodeid=nodeid, pid=pid, message=message):
                    self.on_deliver(nodeid, pid, message)
                case TotemConfChg():  # the ring, which a chat does not show
                    pass

    async def on_confchg(
        self, members: list[Address], left: list[Address], joined: list[Address]
    ) -> None:
        for a in joined:
            if (a.nodeid, a.pid) == self.me:
                self.joined.set()
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
                self.left.set()
                say(f"*** you left {self.group}")
                continue
            why = REASONS.get(a.reason, f"reason {a.reason}")
            say(f"*** {self.who(a.nodeid, a.pid)} left {self.group}: {why}")
            self.nicks.pop((a.nodeid, a.pid), None)
        # Our own join announces us; someone else's makes us introduce ourselves to them.
        if joined and self.joined.is_set() and not self.left.is_set():
            await self.send("hello")

    def on_deliver(self, nodeid: int, pid: int, message: bytes) -> None:
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

    # --- what this member types --------------------------------------------------------

    async def relay_input(self) -> None:
        """Send each line of standard input, until its end."""
        async with contextlib.aclosing(input_lines(sys.stdin.fileno())) as lines:
            async for text in lines:
                await self.send("say", text)

    # --- the whole session -------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Join, relay standard input to the group until its end or `stop`, then leave."""
        async with aio.events(self.cpg) as events:  # before the join: it sees our join
            self.cpg.join(self.group)
            if sys.stdin.isatty():
                say(f"*** joining {self.group}; type a line to send it, Ctrl-D to leave")
            receiver = asyncio.create_task(self.receive(events))
            typing: asyncio.Task[None] | None = None
            try:
                # Input waits for our join's confchg, so that our "hello" precedes our lines.
                await first_of(self.joined.wait(), stop.wait(), receiver)
                if self.joined.is_set() and not stop.is_set() and not receiver.done():
                    typing = asyncio.create_task(self.relay_input())
                    await first_of(typing, stop.wait(), receiver)
                if typing is not None and typing.done():
                    typing.result()  # what it raised (LibraryError) is raised here
                if not receiver.done():
                    await self.leave(receiver)
                if receiver.done():
                    receiver.result()  # LibraryError, if corosync went away
            finally:
                for task in (typing, receiver):
                    if task is not None and not task.done():
                        task.cancel()

    async def leave(self, receiver: asyncio.Task[None]) -> None:
        """Leave the group and wait (briefly) until corosync confirms it."""
        if self.left.is_set():
            return
        try:
            self.cpg.leave(self.group)
        except corosync.NotExistError:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LEAVE_TIMEOUT):
                await first_of(self.left.wait(), receiver)


async def chat(group: str, nick: str) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        try:
            cpg = await stack.enter_async_context(aio.connect(corosync.CPG))
        except corosync.CorosyncError as e:
            print(f"async_chat: cannot connect to corosync: {e}", file=sys.stderr)
            return 1
        try:
            await Chat(cpg, group, nick).run(stop)
        except corosync.LibraryError as e:
            print(f"*** lost the connection to corosync: {e}", file=sys.stderr, flush=True)
            return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Chat over a corosync CPG group, with asyncio.")
    parser.add_argument("--group", default="chat", help="CPG group to join (default: chat)")
    parser.add_argument(
        "--name", default=getpass.getuser(), help="your nick (default: your user name)"
    )
    args = parser.parse_args(argv)
    return asyncio.run(chat(args.group, args.name))


if __name__ == "__main__":
    sys.exit(main())
