"""The knet link statistics the exporter takes from corosync's stats map
(``stats.knet.node<N>.link<L>.<field>``, libknet's ``struct knet_link_stats``) and the
metric each becomes: :data:`KNET_FIELDS`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KNET_FIELDS", "LATENCY_SAMPLES", "KnetField"]

#: The field that counts knet's latency samples: without any, its latency is no measure.
LATENCY_SAMPLES = "latency_samples"


@dataclass(frozen=True, slots=True)
class KnetField:
    """A field of a link in the stats map and the metric it is exported as."""

    #: The key's last part (``tx_total_packets``).
    field: str
    #: The metric's name; a counter's is exposed with ``_total`` appended.
    metric: str
    counter: bool
    help: str
    #: What the value is multiplied by (knet counts latency in microseconds).
    scale: float = 1.0


#: The fields the exporter serves, each as the metric it names, in the order it serves them.
KNET_FIELDS: tuple[KnetField, ...] = (
    KnetField(
        "latency_ave",
        "ha_cluster_corosync_link_latency_seconds",
        False,
        "Average ping round-trip latency knet measures on the link, in seconds (absent "
        "before its first sample)",
        1e-6,
    ),
    KnetField(
        "rx_total_packets",
        "ha_cluster_corosync_link_rx_packets",
        True,
        "Packets knet received on the link (data, ping, pong and PMTU)",
    ),
    KnetField(
        "tx_total_packets",
        "ha_cluster_corosync_link_tx_packets",
        True,
        "Packets knet sent on the link (data, ping, pong and PMTU)",
    ),
    KnetField(
        "rx_total_bytes",
        "ha_cluster_corosync_link_rx_bytes",
        True,
        "Bytes knet received on the link, on the wire",
    ),
    KnetField(
        "tx_total_bytes",
        "ha_cluster_corosync_link_tx_bytes",
        True,
        "Bytes knet sent on the link, on the wire",
    ),
    KnetField(
        "tx_total_errors",
        "ha_cluster_corosync_link_tx_errors",
        True,
        "Errors knet met sending on the link",
    ),
    KnetField(
        "down_count",
        "ha_cluster_corosync_link_down",
        True,
        "Times knet marked the link down",
    ),
    KnetField(
        "up_count",
        "ha_cluster_corosync_link_up",
        True,
        "Times knet marked the link up",
    ),
)
