"""The metrics, rendered from a :class:`~corosync.exporter.snapshot.Snapshot` at scrape time:
:class:`CorosyncCollector`, a prometheus_client collector.

The names, help texts, labels and label values of ha_cluster_exporter's corosync collector
are kept (``ha_cluster_corosync_quorate``, ``_quorum_votes``, ``_member_votes``, ``_rings``,
``_ring_errors``, and its ``ha_cluster_scrape_*`` pair), so that its dashboards and alerts
work unchanged; what it cannot show has names of the same ``ha_cluster_corosync_`` family.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeAlias

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from corosync.cli.output import ring_id_text
from corosync.cli.quorum_facts import VOTEQUORUM, QuorumFacts
from corosync.exporter.knet import KNET_FIELDS
from corosync.exporter.snapshot import KnetLink, Snapshot
from corosync.exporter.watcher import Watcher

__all__ = ["CorosyncCollector", "render"]

_NODE = ["node_id", "node"]
_LINK = ["node_id", "node", "link"]
_LinkValue: TypeAlias = Callable[[KnetLink], float]


class CorosyncCollector(Collector):
    """Renders the watcher's snapshot, taken when Prometheus scrapes."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def collect(self) -> Iterator[Metric]:
        """The metrics of a snapshot taken now, and how long taking it took."""
        began = time.monotonic()
        snapshot = self.watcher.snapshot()
        yield from render(snapshot)
        labels = ["collector"]
        duration = GaugeMetricFamily(
            "ha_cluster_scrape_duration_seconds", "Duration of a collector scrape.", labels=labels
        )
        duration.add_metric(["corosync"], time.monotonic() - began)
        success = GaugeMetricFamily(
            "ha_cluster_scrape_success", "Whether a collector succeeded.", labels=labels
        )
        success.add_metric(["corosync"], snapshot.up)
        yield duration
        yield success


def render(snapshot: Snapshot) -> Iterator[Metric]:
    """The metrics of ``snapshot``: ``ha_cluster_corosync_up`` alone when corosync is down."""
    yield GaugeMetricFamily(
        "ha_cluster_corosync_up",
        "Whether corosync answered the exporter (1) or is not reachable (0)",
        value=snapshot.up,
    )
    if not snapshot.up or snapshot.quorum is None:
        return
    yield from _quorum(snapshot.quorum)
    yield from _rings(snapshot)
    yield from _links(snapshot)
    cpg = GaugeMetricFamily(
        "ha_cluster_corosync_cpg_group_members",
        "Processes of a node that are members of a CPG group",
        labels=["group", *_NODE],
    )
    for members in snapshot.cpg:
        cpg.add_metric([members.group, str(members.node_id), members.name], members.processes)
    yield cpg


def _quorum(facts: QuorumFacts) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "ha_cluster_corosync_quorate", "Whether or not the cluster is quorate", value=facts.quorate
    )
    if facts.votes is not None:
        votes = GaugeMetricFamily(
            "ha_cluster_corosync_quorum_votes",
            "Cluster quorum votes; one line per type",
            labels=["type"],
        )
        votes.add_metric(["expected_votes"], facts.votes.expected)
        votes.add_metric(["highest_expected"], facts.votes.highest_expected)
        votes.add_metric(["total_votes"], facts.votes.total)
        votes.add_metric(["quorum"], facts.votes.quorum)
        yield votes
    members = GaugeMetricFamily(
        "ha_cluster_corosync_member_votes",
        "How many votes each member node has contributed with to the current quorum",
        labels=[*_NODE, "local"],
    )
    for m in facts.members:
        if m.votes is not None:
            members.add_metric([str(m.node_id), m.name, _bool(m.local)], m.votes)
    device = facts.qdevice
    if device is not None:
        # corosync-quorumtool's device row: node id 0, the votes it casts here.
        cast = device.votes if device.state.cast_vote else 0
        members.add_metric(["0", device.name, "false"], cast)
    yield members


def _rings(snapshot: Snapshot) -> Iterator[Metric]:
    facts = snapshot.quorum
    assert facts is not None
    ring = facts.ring_id
    # The Ring ID as corosync-quorumtool prints it (without votequorum: the sequence only).
    ring_id = ring_id_text(ring) if facts.provider == VOTEQUORUM else f"{ring.seq:x}"
    rings = GaugeMetricFamily(
        "ha_cluster_corosync_rings",
        "The status of each Corosync ring; 1 means healthy, 0 means faulty.",
        labels=["ring_id", "node_id", "number", "address"],
    )
    for r in snapshot.rings:
        rings.add_metric([ring_id, str(facts.node_id), str(r.number), r.address], not r.faulty)
    yield rings
    yield GaugeMetricFamily(
        "ha_cluster_corosync_ring_errors",
        "The total number of faulty corosync rings",
        value=sum(r.faulty for r in snapshot.rings),
    )


def _links(snapshot: Snapshot) -> Iterator[Metric]:
    reachable = GaugeMetricFamily(
        "ha_cluster_corosync_node_reachable",
        "Whether knet reaches the node over any link (1) or not (0)",
        labels=_NODE,
    )
    for peer in snapshot.peers:
        reachable.add_metric([str(peer.node_id), peer.name], peer.reachable)
    yield reachable
    yield _link_gauge(
        snapshot.links,
        "ha_cluster_corosync_link_enabled",
        "Whether the knet link to the node is configured and enabled",
        lambda link: link.enabled,
    )
    yield _link_gauge(
        snapshot.links,
        "ha_cluster_corosync_link_connected",
        "Whether the knet link to the node is connected (1) or down (0)",
        lambda link: link.connected,
    )
    yield _link_gauge(
        snapshot.links,
        "ha_cluster_corosync_link_mtu_bytes",
        "The MTU knet found for the link to the node, in bytes",
        lambda link: link.mtu,
    )
    for field in KNET_FIELDS:
        family: GaugeMetricFamily | CounterMetricFamily
        if field.counter:
            family = CounterMetricFamily(field.metric, field.help, labels=_LINK)
        else:
            family = GaugeMetricFamily(field.metric, field.help, labels=_LINK)
        for link in snapshot.links:
            if field.field in link.stats:
                family.add_metric(_link_labels(link), link.stats[field.field] * field.scale)
        yield family


def _link_gauge(
    links: Iterable[KnetLink], name: str, help: str, value: _LinkValue
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help, labels=_LINK)
    for link in links:
        family.add_metric(_link_labels(link), value(link))
    return family


def _link_labels(link: KnetLink) -> list[str]:
    return [str(link.node_id), link.name, str(link.link)]


def _bool(value: bool) -> str:
    return "true" if value else "false"
