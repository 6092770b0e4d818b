"""``cpg groups|members|send|listen``: closed process groups, as corosync-cpgtool lists them,
and sending to and listening on a group."""

from __future__ import annotations

import argparse
import os
import sys

from corosync import CFG, CPG, Reason
from corosync.cli.command import Subcommands
from corosync.cli.errors import EXIT_OK, CliError
from corosync.cli.output import Output, escaped, text_json
from corosync.cli.stream import Stream, add_stream_arguments
from corosync.cpg import Address, GroupMember

__all__ = ["add_commands"]

#: Seconds ``cpg send`` waits for its messages to come back (the whole group got them).
SEND_TIMEOUT = 30.0


def add_commands(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    group = commands.add_parser(
        "cpg",
        help="closed process groups (corosync-cpgtool)",
        description="List CPG groups and members as corosync-cpgtool does; send to a group, "
        "listen on one.",
    )
    sub = group.add_subparsers(metavar="COMMAND", required=True)
    groups = sub.add_parser(
        "groups",
        parents=[common],
        help="every group's name (corosync-cpgtool -n)",
        description="The name of every group in the cluster, as corosync-cpgtool -n prints "
        "them (with --json, with each group's number of members).",
    )
    groups.set_defaults(run=list_groups)
    members = sub.add_parser(
        "members",
        parents=[common],
        help="every group's members (corosync-cpgtool)",
        description="Each group's members (pid, node id and the node's addresses), as "
        "corosync-cpgtool prints them; with GROUP, that group's only.",
    )
    members.add_argument("group", nargs="?", metavar="GROUP")
    members.set_defaults(run=list_members)
    send = sub.add_parser(
        "send",
        parents=[common],
        help="send messages to a group",
        description="Join GROUP, send each MESSAGE (or, without any, each line of stdin) "
        "as one message, wait until they came back (every member got them), leave.",
    )
    send.add_argument("group", metavar="GROUP")
    send.add_argument("messages", nargs="*", metavar="MESSAGE")
    send.set_defaults(run=send_messages)
    listen = sub.add_parser(
        "listen",
        parents=[common],
        help="join a group and print what it gets",
        description="Join GROUP and print each message and membership change until Ctrl-C "
        "or SIGTERM (exit 0). --count counts the messages.",
    )
    listen.add_argument("group", metavar="GROUP")
    add_stream_arguments(listen)
    listen.set_defaults(run=listen_to_group)


def list_groups(args: argparse.Namespace, out: Output) -> int:
    with CPG() as cpg:
        names = cpg.group_names()
        members = cpg.groups()
    if out.json:
        counts = [sum(1 for m in members if m.group == name) for name in names]
        groups = [{"name": text_json(n), "members": c} for n, c in zip(names, counts, strict=True)]
        out.document("cpg_groups", {"groups": groups})
    else:
        out.lines(escaped(name) for name in names)
    return EXIT_OK


def list_members(args: argparse.Namespace, out: Output) -> int:
    with CPG() as cpg, CFG() as cfg:
        members = cpg.groups(group=os.fsencode(args.group)) if args.group else cpg.groups()
        addresses = {nodeid: _addresses(cfg, nodeid) for nodeid in {m.nodeid for m in members}}
    if out.json:
        rows = [
            {
                "group": text_json(m.group),
                "node_id": m.nodeid,
                "pid": m.pid,
                "addresses": addresses[m.nodeid],
            }
            for m in members
        ]
        out.document("cpg_members", {"members": rows})
    else:
        out.lines(_member_lines(members, addresses))
    return EXIT_OK


def _addresses(cfg: CFG, nodeid: int) -> list[str]:
    return [str(address) for address in cfg.node_addrs(nodeid)]


def _member_lines(members: list[GroupMember], addresses: dict[int, list[str]]) -> list[str]:
    # corosync-cpgtool's table: a group's name on a line of its own, then its members.
    lines = [f"Group Name\t{'PID':>10}\t{'Node ID':>10}"]
    previous: str | bytes | None = None
    for m in members:
        if m.group != previous:
            lines.append(escaped(m.group))
            previous = m.group
        lines.append(f"\t\t{m.pid:>10}\t{m.nodeid:>10} ({' '.join(addresses[m.nodeid])})")
    return lines


def send_messages(args: argparse.Namespace, out: Output) -> int:
    # argv as the bytes typed (os.fsencode undoes Python's surrogateescape decoding).
    group = os.fsencode(args.group)
    messages = [os.fsencode(m) for m in args.messages]
    if not args.messages:
        messages = [line.rstrip(b"\n") for line in sys.stdin.buffer]
    # Done once every message came back: corosync delivered it to the whole group.
    stream = Stream(count=len(messages), timeout=SEND_TIMEOUT)

    me: list[tuple[int, int]] = []

    def delivered(name: str | bytes, nodeid: int, pid: int, message: bytes) -> None:
        if [(nodeid, pid)] == me:
            stream.counted()

    with CPG(on_deliver=delivered) as cpg:
        cpg.join(group)
        me.append(cpg.local_address)
        cpg.mcast_many(messages)
        if messages:
            stream.run([cpg])
        cpg.leave(group)  # the members see it leave, not its process end
    nodeid, pid = me[0]
    if stream.items < len(messages):
        raise CliError(
            f"only {stream.items} of {len(messages)} messages came back from {args.group}"
        )
    if out.json:
        fields = {"group": text_json(_text(group)), "node_id": nodeid, "pid": pid}
        out.document("cpg_sent", fields | {"messages": len(messages)})
    return EXIT_OK


def listen_to_group(args: argparse.Namespace, out: Output) -> int:
    stream = Stream(args.count, args.timeout)

    def delivered(group: str | bytes, nodeid: int, pid: int, message: bytes) -> None:
        if stream.done:
            return
        if out.json:
            fields = {"group": text_json(group), "node_id": nodeid, "pid": pid}
            out.document("cpg_deliver", fields | {"message": text_json(_text(message))})
        else:
            out.lines([f"[{escaped(group)}] node {nodeid} pid {pid}: {escaped(_text(message))}"])
        stream.counted()

    def changed(
        group: str | bytes, members: list[Address], left: list[Address], joined: list[Address]
    ) -> None:
        if stream.done:
            return
        if out.json:
            fields = {
                "group": text_json(group),
                "members": [_address_json(a) for a in members],
                "joined": [_address_json(a) for a in joined],
                "left": [_address_json(a) for a in left],
            }
            out.document("cpg_confchg", fields)
            return
        name = escaped(group)
        lines = [f"[{name}] node {a.nodeid} pid {a.pid} joined ({_reason(a)})" for a in joined]
        lines += [f"[{name}] node {a.nodeid} pid {a.pid} left ({_reason(a)})" for a in left]
        lines.append(f"[{name}] members: {' '.join(f'{a.nodeid}/{a.pid}' for a in members)}")
        out.lines(lines)

    with CPG(on_deliver=delivered, on_confchg=changed) as cpg:
        cpg.join(os.fsencode(args.group))
        stream.run([cpg])
    return EXIT_OK


def _text(message: bytes) -> str | bytes:
    try:
        return message.decode()
    except UnicodeDecodeError:
        return message


def _reason(address: Address) -> str | int:
    reason = address.reason
    return reason.name.lower() if isinstance(reason, Reason) else int(reason)


def _address_json(address: Address) -> dict[str, object]:
    return {"node_id": address.nodeid, "pid": address.pid, "reason": _reason(address)}
