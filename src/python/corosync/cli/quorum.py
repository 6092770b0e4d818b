"""``quorum status`` (corosync-quorumtool -s) and ``quorum watch`` (corosync-quorumtool -m),
and the quorum part of ``status``: the text and the JSON of :class:`QuorumFacts`."""

from __future__ import annotations

import argparse
import time

from corosync import CFG, CMAP
from corosync.cli.command import Subcommands
from corosync.cli.errors import EXIT_NOT_QUORATE, EXIT_OK
from corosync.cli.output import Output, ring_id_json, ring_id_text
from corosync.cli.quorum_facts import VOTEQUORUM, DeviceState, QuorumFacts, QuorumReader
from corosync.cli.stream import Stream, add_stream_arguments

__all__ = ["add_commands", "exit_status", "quorum_json", "quorum_lines"]


def add_commands(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    group = commands.add_parser(
        "quorum", help="quorum, votes and membership", description="Quorum, votes and membership."
    )
    sub = group.add_subparsers(metavar="COMMAND", required=True)
    status = sub.add_parser(
        "status",
        parents=[common],
        help="what corosync-quorumtool -s shows (exit 2: not quorate)",
        description="Quorum, votes and membership of this node, as corosync-quorumtool -s "
        "shows them. Exit status 0: quorate, 2: not quorate, 1: error.",
    )
    status.set_defaults(run=show_status)
    watch = sub.add_parser(
        "watch",
        parents=[common],
        help="the quorum status now and after every change",
        description="The quorum status now and again after every change of quorum, "
        "membership, votes or expected votes (as corosync-quorumtool -m), until Ctrl-C or "
        "SIGTERM (exit 0). --count counts the statuses printed.",
    )
    add_stream_arguments(watch)
    watch.set_defaults(run=watch_changes)


def show_status(args: argparse.Namespace, out: Output) -> int:
    with CMAP() as cmap, CFG() as cfg, QuorumReader(cmap, cfg) as reader:
        facts = reader.current()
    _show(out, facts)
    return exit_status(facts)


def watch_changes(args: argparse.Namespace, out: Output) -> int:
    stream = Stream(args.count, args.timeout)
    with CMAP() as cmap, CFG() as cfg, QuorumReader(cmap, cfg) as reader:
        last: list[QuorumFacts] = []

        def after() -> None:
            # Quorum and votequorum notify one change each: show each state once.
            if reader.changed and reader.ring_id is not None:
                reader.changed = False
                facts = reader.facts()
                if last != [facts]:
                    last[:] = [facts]
                    _show(out, facts, blank_after=True)
                    stream.counted()

        reader.track()
        stream.run(reader.handles, after)
    return EXIT_OK


def exit_status(facts: QuorumFacts) -> int:
    """corosync-quorumtool -s's: 0 quorate, 2 not."""
    return EXIT_OK if facts.quorate else EXIT_NOT_QUORATE


def _show(out: Output, facts: QuorumFacts, *, blank_after: bool = False) -> None:
    if out.json:
        out.document("quorum_status", quorum_json(facts))
    else:
        out.lines([*quorum_lines(facts), *([""] if blank_after else [])])


def quorum_json(facts: QuorumFacts) -> dict[str, object]:
    """The schema's quorum_fields."""
    votes = facts.votes
    device = facts.qdevice
    return {
        "node_id": facts.node_id,
        "ring_id": ring_id_json(facts.ring_id),
        "quorate": facts.quorate,
        "quorum_provider": facts.provider,
        "votes": None
        if votes is None
        else {
            "expected": votes.expected,
            "highest_expected": votes.highest_expected,
            "total": votes.total,
            "quorum": votes.quorum,
        },
        "flags": list(facts.flags),
        "members": [
            {
                "node_id": m.node_id,
                "votes": m.votes,
                "name": m.name,
                "local": m.local,
                "qdevice": None if m.qdevice is None else _state_json(m.qdevice),
            }
            for m in facts.members
        ],
        "qdevice": None
        if device is None
        else {"name": device.name, "votes": device.votes, **_state_json(device.state)},
    }


def _state_json(state: DeviceState) -> dict[str, object]:
    return {
        "registered": state.registered,
        "alive": state.alive,
        "cast_vote": state.cast_vote,
        "master_wins": state.master_wins,
    }


def quorum_lines(facts: QuorumFacts) -> list[str]:
    """corosync-quorumtool -s's text, line for line (the Qdevice column only when a device
    is registered, as without -p)."""
    votequorum = facts.provider == VOTEQUORUM
    ring = ring_id_text(facts.ring_id) if votequorum else f"{facts.ring_id.seq:x}"
    lines = [
        "Quorum information",
        "------------------",
        f"Date:             {time.ctime()}",
        f"Quorum provider:  {facts.provider or 'Not configured'}",
        f"Nodes:            {len(facts.members)}",
        f"Node ID:          {facts.node_id}",
        f"Ring ID:          {ring}",
        f"Quorate:          {'Yes' if facts.quorate else 'No'}",
    ]
    if facts.votes is not None:
        votes = facts.votes
        blocked = " " if "Quorate" in facts.flags else "Activity blocked"
        lines += [
            "",
            "Votequorum information",
            "----------------------",
            f"Expected votes:   {votes.expected}",
            f"Highest expected: {votes.highest_expected}",
            f"Total votes:      {votes.total}",
            f"Quorum:           {votes.quorum} {blocked}",
            "Flags:            " + "".join(f"{word} " for word in facts.flags),
        ]
    return lines + _membership_lines(facts, votequorum)


def _pad(text: str) -> str:
    return f"{text:>10} "


def _membership_lines(facts: QuorumFacts, votequorum: bool) -> list[str]:
    device = facts.qdevice
    header = _pad("Nodeid") + (_pad("Votes") if votequorum else "")
    lines = ["", "Membership information", "----------------------"]
    lines.append(header + (_pad("Qdevice") if device else "") + "Name")
    for m in facts.members:
        row = _pad(str(m.node_id))
        if votequorum:
            row += _pad("?" if m.votes is None else str(m.votes))
        if device:
            row += _pad(_device_column(m.qdevice))
        lines.append(row + m.name + (" (local)" if m.local else ""))
    if device:
        # The device's votes count here only while it casts them: else 0 and "(votes N)".
        cast = device.state.cast_vote
        row = _pad("0") + _pad(str(device.votes if cast else 0)) + " " * 11 + device.name
        lines.append(row + ("" if cast else f" (votes {device.votes})"))
    return lines


def _device_column(state: DeviceState | None) -> str:
    if state is None or not state.registered:
        return "NR"
    return ",".join(
        (
            "A" if state.alive else "NA",
            "V" if state.cast_vote else "NV",
            "MW" if state.master_wins else "NMW",
        )
    )
