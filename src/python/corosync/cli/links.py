"""``links``: every knet link to every node, as corosync-cfgtool -s (and with ``--nodes``,
-n) shows them; also the link part of ``status``."""

from __future__ import annotations

import argparse

from corosync import CFG, CMAP
from corosync.cli.command import Subcommands
from corosync.cli.errors import EXIT_OK
from corosync.cli.link_facts import LinkFacts, NodeLinks, read_links
from corosync.cli.output import Output

__all__ = ["add_commands", "link_items", "links_lines"]


def add_commands(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "links",
        parents=[common],
        help="knet link state per node (corosync-cfgtool -s / -n)",
        description="The state of every knet link to every node of the nodelist, as this "
        "node sees it: laid out as corosync-cfgtool -s, or with --nodes as corosync-cfgtool "
        "-n (reachable nodes, each link's addresses, flags and MTU).",
    )
    parser.add_argument(
        "-n", "--nodes", action="store_true", help="per node, as corosync-cfgtool -n"
    )
    parser.set_defaults(run=show_links)


def show_links(args: argparse.Namespace, out: Output) -> int:
    with CMAP() as cmap, CFG() as cfg:
        facts = read_links(cmap, cfg)
    if out.json:
        out.document(
            "links",
            {
                "node_id": facts.node_id,
                "transport": facts.transport,
                "nodes": [_node_json(node) for node in facts.nodes],
                "links": link_items(facts),
            },
        )
    else:
        out.lines(nodes_lines(facts) if args.nodes else links_lines(facts))
    return EXIT_OK


def _node_json(node: NodeLinks) -> dict[str, object]:
    s = node.status
    return {
        "node_id": node.node_id,
        "name": node.name,
        "local": node.local,
        "status_known": s is not None,
        "reachable": s is not None and s.reachable,
        "remote": s is not None and s.remote,
        "external": s is not None and s.external,
        "onwire_min": 0 if s is None else s.onwire_min,
        "onwire_max": 0 if s is None else s.onwire_max,
        "onwire_ver": 0 if s is None else s.onwire_ver,
    }


def link_items(facts: LinkFacts) -> list[dict[str, object]]:
    """The schema's link objects: each configured link to each other node."""
    return [
        {
            "node_id": node.node_id,
            "link": link.link,
            "transport": facts.transport_of(link.link),
            "enabled": link.enabled,
            "connected": link.connected,
            "dynconnected": link.dynconnected,
            "mtu": link.mtu,
            "src": link.src,
            "dst": link.dst,
        }
        for node in facts.nodes
        if not node.local
        for link in node.links
    ]


def _header(facts: LinkFacts) -> str:
    return f"Local node ID {facts.node_id}, transport {facts.transport}"


def links_lines(facts: LinkFacts) -> list[str]:
    """corosync-cfgtool -s's text: per link, this node's address and each node's state."""
    lines = [_header(facts)]
    others = [node for node in facts.nodes if not node.local] or list(facts.nodes)
    for number in facts.shown_links():
        src = next(link.src for n in others for link in n.links if link.link == number)
        lines += [f"LINK ID {number} {facts.transport_of(number)}", f"\taddr\t= {src}", "\tstatus:"]
        for node in facts.nodes:
            up = any(link.link == number and link.connected for link in node.links)
            state = "localhost" if node.local else "connected" if up else "disconnected"
            lines.append(f"\t\tnodeid: {node.node_id:>10}:\t{state}")
    return lines


def nodes_lines(facts: LinkFacts) -> list[str]:
    """corosync-cfgtool -n's text: each other reachable node and its enabled links."""
    lines = [_header(facts)]
    arrow = "->" if facts.transport == "knet" else ""
    for node in facts.nodes:
        s = node.status
        if s is None or node.local or not s.reachable:
            continue
        flags = " reachable" + (" remote" if s.remote else "") + (" external" if s.external else "")
        lines.append(f"nodeid: {node.node_id}{flags}")
        for link in s.links:
            if not link.enabled:
                continue
            words = [w for w in ("enabled", "connected", "dynconnected") if getattr(link, w)]
            lines.append(
                f"   LINK: {link.link} {facts.transport_of(link.link)} "
                f"({link.src}{arrow}{link.dst}) {' '.join(words)} mtu: {link.mtu}"
            )
        lines.append("")
    return lines
