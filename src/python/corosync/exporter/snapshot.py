"""What the exporter knows of the local corosync at one moment: :class:`Snapshot`, plain
immutable data that the watcher thread builds and the scrape renders (no corosync call,
no prometheus_client here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from corosync.cli.quorum_facts import QuorumFacts

__all__ = ["CpgMembers", "KnetLink", "Peer", "Ring", "Snapshot"]


@dataclass(frozen=True, slots=True)
class Ring:
    """A knet link as ha_cluster_exporter's ``ha_cluster_corosync_rings`` shows a ring: this
    node's address on it, and whether it is faulty (down towards a node that is reachable
    over another link: the redundancy it gives is lost)."""

    number: int
    address: str
    faulty: bool


@dataclass(frozen=True, slots=True)
class Peer:
    """Another node of the nodelist, as knet sees it from here (``CFG.node_status``)."""

    node_id: int
    name: str
    reachable: bool


@dataclass(frozen=True, slots=True)
class KnetLink:
    """One knet link from this node to another node: CFG's status of it, and its counters
    and latency from the stats map (``stats.knet.node<N>.link<L>.<field>``, the fields of
    :data:`corosync.exporter.knet.KNET_FIELDS` that the map has)."""

    node_id: int
    name: str
    link: int
    enabled: bool
    connected: bool
    mtu: int
    stats: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CpgMembers:
    """How many processes of one node are members of one CPG group."""

    #: The group's name as ``python -m corosync cpg groups`` prints it (escaped if not UTF-8).
    group: str
    node_id: int
    name: str
    processes: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The local corosync as the exporter last saw it. ``up`` is False while corosync is not
    reachable (or did not answer in time); everything else is then empty."""

    up: bool
    #: Quorum, votes and members, as the last quorum or votequorum notification left them.
    quorum: QuorumFacts | None = None
    rings: tuple[Ring, ...] = ()
    peers: tuple[Peer, ...] = ()
    links: tuple[KnetLink, ...] = ()
    cpg: tuple[CpgMembers, ...] = ()
