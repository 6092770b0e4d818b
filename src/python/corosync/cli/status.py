"""``status``: what ``corosync-quorumtool -s`` and ``corosync-cfgtool -s`` show together."""

from __future__ import annotations

import argparse

from corosync import CFG, CMAP
from corosync.cli.command import Subcommands
from corosync.cli.link_facts import read_links
from corosync.cli.links import link_items, links_lines
from corosync.cli.output import Output
from corosync.cli.quorum import exit_status, quorum_json, quorum_lines
from corosync.cli.quorum_facts import QuorumReader

__all__ = ["add_commands"]


def add_commands(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "status",
        parents=[common],
        help="quorum, votes, members and links (exit 2: not quorate)",
        description="This node's view of the cluster: quorum, votes, flags, the members with "
        "their votes and names, the quorum device, and every knet link to every node; laid "
        "out as corosync-quorumtool -s followed by corosync-cfgtool -s. Exit status 0: "
        "quorate, 2: not quorate, 1: error.",
    )
    parser.set_defaults(run=show_status)


def show_status(args: argparse.Namespace, out: Output) -> int:
    with CMAP() as cmap, CFG() as cfg, QuorumReader(cmap, cfg) as reader:
        quorum = reader.current()
        links = read_links(cmap, cfg)
    if out.json:
        fields = quorum_json(quorum) | {"transport": links.transport, "links": link_items(links)}
        out.document("status", fields)
    else:
        out.lines([*quorum_lines(quorum), "", *links_lines(links)])
    return exit_status(quorum)
