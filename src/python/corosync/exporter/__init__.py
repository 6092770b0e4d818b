"""A Prometheus exporter for the local corosync: ``python -m corosync exporter --port N``.

It serves ha_cluster_exporter's corosync metrics under the same names, help texts and
labels, so that dashboards made for it keep working, and adds what that exporter cannot
show (all of them gauges unless marked as counters):

* ``ha_cluster_corosync_quorate``, ``ha_cluster_corosync_quorum_votes{type}`` (type:
  ``expected_votes``, ``highest_expected``, ``total_votes``, ``quorum``),
  ``ha_cluster_corosync_member_votes{node_id,node,local}`` (the quorum device as node id 0,
  as corosync-quorumtool lists it), ``ha_cluster_corosync_rings{ring_id,node_id,number,
  address}`` (1 healthy, 0 faulty: down towards a node knet still reaches over another
  link), ``ha_cluster_corosync_ring_errors``; ``ha_cluster_scrape_success`` and
  ``ha_cluster_scrape_duration_seconds`` with ``collector="corosync"``;
* ``ha_cluster_corosync_up``: 0 while corosync is not reachable (every other
  ``ha_cluster_corosync_*`` series is then absent);
* ``ha_cluster_corosync_node_reachable{node_id,node}``, and per link to each other node
  (``{node_id,node,link}``): ``_link_enabled``, ``_link_connected``, ``_link_mtu_bytes``
  (CFG), ``_link_latency_seconds`` and the counters ``_link_rx_packets_total``,
  ``_link_tx_packets_total``, ``_link_rx_bytes_total``, ``_link_tx_bytes_total``,
  ``_link_tx_errors_total``, ``_link_down_total``, ``_link_up_total`` (the stats map);
* ``ha_cluster_corosync_cpg_group_members{group,node_id,node}``: processes of a node in a
  CPG group.

Quorum, votes and members follow corosync's notifications; link status, link counters
and CPG groups, which corosync notifies nothing about, are read when Prometheus scrapes
(:mod:`corosync.exporter.watcher`, whose :class:`~corosync.exporter.watcher.Watcher`
builds :class:`~corosync.exporter.snapshot.Snapshot` s). :mod:`corosync.exporter.collector`
renders them; it and :mod:`corosync.exporter.server` need ``prometheus_client`` (``pip
install corosync[exporter]``), the others do not. This module imports none of them.
"""

from __future__ import annotations

__all__ = ["BACKOFF", "READ_TIMEOUT"]

#: Seconds a scrape waits for the reads it asks for before it reports corosync down.
READ_TIMEOUT = 5.0
#: Seconds between attempts to reach corosync: the first wait, and the longest.
BACKOFF = (0.5, 5.0)
