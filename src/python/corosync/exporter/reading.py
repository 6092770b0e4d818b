"""The reads corosync offers no callback for, done when a scrape asks: knet's view of every
link (CFG), the links' counters (the stats map) and the CPG groups (cpg_iteration)."""

from __future__ import annotations

from collections import Counter

from corosync import CFG, CMAP, CPG, NotExistError
from corosync.cli.link_facts import LinkFacts, read_links
from corosync.cli.nodelist import node_name, read_nodelist
from corosync.cli.output import escaped
from corosync.exporter.knet import KNET_FIELDS, LATENCY_SAMPLES
from corosync.exporter.snapshot import CpgMembers, KnetLink, Peer, Ring

__all__ = ["LinkState", "read_cpg", "read_link_state"]

LinkState = tuple[tuple[Ring, ...], tuple[Peer, ...], tuple[KnetLink, ...]]


def read_link_state(cmap: CMAP, stats: CMAP, cfg: CFG) -> LinkState:
    """The rings (this node's links), the other nodes of the nodelist as knet sees them,
    and each link to each of them with its counters."""
    facts = read_links(cmap, cfg)
    # (knet's status of the local node is its loopback link: not a link to anyone)
    others = [(n, n.status) for n in facts.nodes if not n.local and n.status is not None]
    peers = tuple(Peer(node.node_id, node.name, status.reachable) for node, status in others)
    links = tuple(
        KnetLink(
            node.node_id,
            node.name,
            link.link,
            link.enabled,
            link.connected,
            link.mtu,
            _knet_stats(stats, node.node_id, link.link),
        )
        for node, status in others
        for link in status.links
    )
    return _rings(facts), peers, links


def _rings(facts: LinkFacts) -> tuple[Ring, ...]:
    """corosync-cfgtool -s's links, each with this node's address on it; a link is faulty
    when it is down towards a node that knet still reaches (over another link)."""
    others = [node for node in facts.nodes if not node.local] or list(facts.nodes)
    rings = []
    for number in facts.shown_links():
        on_link = [(node, link) for node in others for link in node.links if link.link == number]
        faulty = any(
            not node.local
            and node.status is not None
            and node.status.reachable
            and link.enabled
            and not link.connected
            for node, link in on_link
        )
        rings.append(Ring(number, on_link[0][1].src, faulty))
    return tuple(rings)


def _knet_stats(stats: CMAP, nodeid: int, link: int) -> dict[str, int]:
    prefix = f"stats.knet.node{nodeid}.link{link}."
    values: dict[str, int] = {}
    for field in [*(f.field for f in KNET_FIELDS), LATENCY_SAMPLES]:
        try:
            value = stats[prefix + field]
        except NotExistError:
            continue  # knet has no such link (yet), or an older knet has no such field
        if isinstance(value, int):
            values[field] = value
    if not values.pop(LATENCY_SAMPLES, 0):
        values.pop("latency_ave", None)  # knet says 0 before it measured anything
    return values


def read_cpg(cpg: CPG, cmap: CMAP, cfg: CFG) -> tuple[CpgMembers, ...]:
    """Every CPG group in the cluster and how many processes of each node are in it."""
    counts = Counter((escaped(m.group), m.nodeid) for m in cpg.groups())
    if not counts:
        return ()
    names = read_nodelist(cmap)
    return tuple(
        CpgMembers(group, nodeid, node_name(names, cfg, nodeid), count)
        for (group, nodeid), count in sorted(counts.items())
    )
