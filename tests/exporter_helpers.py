"""Running ``python -m corosync exporter`` as a real program inside a node's namespace,
scraping it with a real HTTP client (urllib, from inside that namespace) and parsing the
scrape with prometheus_client's own parser; and what corosync's tools print on the same node,
as the metrics they stand for (test helpers)."""

from __future__ import annotations

import re
import signal
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cfg_helpers import DEADLINE, parse_link_status, parse_nodes
from cli_helpers import CLI, member_names, tool
from example_processes import Program
from prometheus_client.parser import text_string_to_metric_families

from corosync.testing import ClusterError, Node, QuorumStatus

__all__ = [
    "PORT",
    "TOOL_METRICS",
    "Exporter",
    "Scrape",
    "Table",
    "Tools",
    "agrees",
    "cpgtool_members",
    "scrape_metrics",
    "tools_metrics",
]

#: The port the tests' exporters listen on: each node has a network namespace of its own.
PORT = 19664

#: A metric's samples by the values of some of their labels.
Table = dict[tuple[str, ...], float]


@dataclass(frozen=True)
class Scrape:
    """One scrape of ``/metrics``: each sample's value by sample name and labels, and each
    family's type and label names."""

    samples: dict[str, list[tuple[dict[str, str], float]]]
    #: Family name (a counter's without ``_total``) -> (type, the label names its samples use).
    families: dict[str, tuple[str, frozenset[str]]]

    @classmethod
    def parse(cls, text: str) -> Scrape:
        """Parse the exposition text with prometheus_client's parser."""
        samples: dict[str, list[tuple[dict[str, str], float]]] = {}
        families: dict[str, tuple[str, frozenset[str]]] = {}
        for family in text_string_to_metric_families(text):
            labels = frozenset(name for s in family.samples for name in s.labels)
            families[family.name] = (family.type, labels)
            for s in family.samples:
                samples.setdefault(s.name, []).append((s.labels, s.value))
        return cls(samples, families)

    def table(self, name: str, *keys: str) -> Table:
        """The samples named ``name``, by the values of the labels ``keys``."""
        table: Table = {}
        for labels, value in self.samples.get(name, []):
            key = tuple(labels[k] for k in keys)
            assert key not in table, (
                f"two samples of {name} with {dict(zip(keys, key, strict=True))}"
            )
            table[key] = value
        return table

    def value(self, name: str, **labels: str) -> float:
        """The one sample of ``name`` with exactly these labels."""
        found = [v for got, v in self.samples.get(name, []) if got == labels]
        assert len(found) == 1, (name, labels, self.samples.get(name))
        return found[0]

    @property
    def up(self) -> bool:
        """Whether ``ha_cluster_corosync_up`` is 1."""
        return self.value("ha_cluster_corosync_up") == 1


class Exporter(Program):
    """``python -m corosync exporter --port PORT ARGS`` on a node, once it says it serves."""

    def __init__(self, node: Node, *args: str, port: int = PORT) -> None:
        super().__init__(node, [*CLI, "exporter", "--port", str(port), *args], python=True)
        self.node, self.port = node, port
        self.wait_for(r"serving metrics on ")

    def scrape(self, address: str = "127.0.0.1") -> Scrape:
        """GET /metrics, from inside the node's namespace."""
        url = f"http://{address}:{self.port}/metrics"
        with self.node.entered(), urllib.request.urlopen(url, timeout=DEADLINE) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            return Scrape.parse(response.read().decode())

    def wait_scrape(self, holds: Callable[[Scrape], bool], what: str) -> Scrape:
        """The first scrape for which ``holds`` is true, scraping until one is."""

        def scraped() -> Scrape | None:
            scrape = self.scrape()
            return scrape if holds(scrape) else None

        found = self.node.cluster.wait_for(scraped, DEADLINE, f"a scrape with {what}")
        assert found is not None
        return found

    def logged(self, pattern: str) -> int:
        """How many of its log lines so far match ``pattern``."""
        return sum(1 for line in self.lines if re.search(pattern, line))

    def wait_logged(self, pattern: str, times: int = 1) -> None:
        """Wait until ``times`` of its log lines match ``pattern``."""

        def enough() -> bool:
            self.read(0.1)
            return self.logged(pattern) >= times

        self.node.cluster.wait_for(enough, DEADLINE, f"{times} lines matching {pattern!r}")

    def stop(self) -> int:
        """SIGTERM, and the exit status once it ended (all its output collected)."""
        self.proc.send_signal(signal.SIGTERM)
        return self.finish()


# --- corosync's tools, as metrics ---------------------------------------------------------


@dataclass(frozen=True)
class Tools:
    """What corosync-quorumtool -s -p and corosync-cfgtool -s and -n print on a node."""

    quorumtool: str
    cfgtool_s: str
    cfgtool_n: str

    @classmethod
    def read(cls, node: Node) -> Tools:
        """Run the three on ``node``."""
        return cls(
            tool(node, "corosync-quorumtool", "-s", "-p", statuses=(0, 2)),
            tool(node, "corosync-cfgtool", "-s"),
            tool(node, "corosync-cfgtool", "-n"),
        )

    def __eq__(self, other: object) -> bool:
        # The same view, but for quorumtool's Date line.
        return (
            isinstance(other, Tools)
            and _undated(self.quorumtool) == _undated(other.quorumtool)
            and (self.cfgtool_s, self.cfgtool_n) == (other.cfgtool_s, other.cfgtool_n)
        )

    __hash__ = None  # type: ignore[assignment]


def _undated(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("Date:")]


#: The metrics the tools show, and the labels a sample is told apart by (the node names of
#: the link metrics are checked on their own: the tools name members only).
TOOL_METRICS: dict[str, Sequence[str]] = {
    "ha_cluster_corosync_quorate": (),
    "ha_cluster_corosync_quorum_votes": ("type",),
    "ha_cluster_corosync_member_votes": ("node_id", "node", "local"),
    "ha_cluster_corosync_rings": ("ring_id", "node_id", "number", "address"),
    "ha_cluster_corosync_ring_errors": (),
    "ha_cluster_corosync_node_reachable": ("node_id",),
    "ha_cluster_corosync_link_enabled": ("node_id", "link"),
    "ha_cluster_corosync_link_connected": ("node_id", "link"),
    "ha_cluster_corosync_link_mtu_bytes": ("node_id", "link"),
}


def tools_metrics(tools: Tools) -> dict[str, Table]:
    """The samples of :data:`TOOL_METRICS` that the tools' output stands for. The link MTU
    only of the nodes corosync-cfgtool -n shows (those knet reaches); a ring is faulty when
    its link is down towards a node that knet reaches."""
    q = QuorumStatus.parse(tools.quorumtool)
    names = member_names(tools.quorumtool)
    local = str(q.nodeid)
    links = parse_link_status(tools.cfgtool_s)
    reachable = parse_nodes(tools.cfgtool_n)
    peers = sorted({n for ls in links.values() for n in ls.states if n != q.nodeid})
    ring_id = "{:x}.{:x}".format(*q.ring_id)
    members: Table = {(str(n), *_named(names[n])): float(v) for n, v in q.votes.items()}
    if q.qdevice is not None:
        members[("0", q.qdevice.name, "false")] = q.qdevice.votes if q.qdevice.cast_vote else 0
    rings: Table = {}
    for number, ls in links.items():
        faulty = any(ls.states[n] == "disconnected" and n in reachable for n in peers)
        rings[(ring_id, local, str(number), ls.addr)] = 0.0 if faulty else 1.0
    state: Table = {
        (str(n), str(number)): float(ls.states[n] == "connected")
        for number, ls in links.items()
        for n in peers
    }
    return {
        "ha_cluster_corosync_quorate": {(): float(q.quorate)},
        "ha_cluster_corosync_quorum_votes": {
            ("expected_votes",): q.expected_votes,
            ("highest_expected",): q.highest_expected,
            ("total_votes",): q.total_votes,
            ("quorum",): q.quorum,
        },
        "ha_cluster_corosync_member_votes": members,
        "ha_cluster_corosync_rings": rings,
        "ha_cluster_corosync_ring_errors": {(): sum(v == 0 for v in rings.values())},
        "ha_cluster_corosync_node_reachable": {(str(n),): float(n in reachable) for n in peers},
        # corosync-cfgtool -s lists the enabled links, with every node on each.
        "ha_cluster_corosync_link_enabled": dict.fromkeys(state, 1.0),
        "ha_cluster_corosync_link_connected": state,
        "ha_cluster_corosync_link_mtu_bytes": {
            (str(n), str(link.link)): link.mtu
            for n, shown in reachable.items()
            for link in shown.links.values()
        },
    }


def _named(row: tuple[str, bool]) -> tuple[str, str]:
    name, local = row
    return name, "true" if local else "false"


def scrape_metrics(scrape: Scrape, reachable_mtu: Sequence[tuple[str, ...]]) -> dict[str, Table]:
    """The samples of :data:`TOOL_METRICS` in a scrape (of the MTUs, those of
    ``reachable_mtu``, which the tools show)."""
    metrics = {name: scrape.table(name, *keys) for name, keys in TOOL_METRICS.items()}
    mtu = metrics["ha_cluster_corosync_link_mtu_bytes"]
    metrics["ha_cluster_corosync_link_mtu_bytes"] = {k: mtu[k] for k in reachable_mtu if k in mtu}
    return metrics


def agrees(exporter: Exporter) -> tuple[Tools, Scrape]:
    """A scrape that says what corosync's tools say on the exporter's node, taken while
    the tools' view held still around it (knet raises MTUs, notifications take a moment to
    arrive): tries until both agree, then returns them."""
    last: list[tuple[dict[str, Table], dict[str, Table]]] = []

    def agreeing() -> tuple[Tools, Scrape] | None:
        before = Tools.read(exporter.node)
        scrape = exporter.scrape()
        if Tools.read(exporter.node) != before:
            return None
        expected = tools_metrics(before)
        shown = scrape_metrics(scrape, list(expected["ha_cluster_corosync_link_mtu_bytes"]))
        last[:] = [(expected, shown)]
        return (before, scrape) if shown == expected else None

    nodeid = exporter.node.nodeid
    try:
        found = exporter.node.cluster.wait_for(agreeing, DEADLINE, f"node {nodeid} to agree")
    except ClusterError as error:
        expected, shown = last[0] if last else ({}, {})
        differ = {k: (v, shown.get(k)) for k, v in expected.items() if v != shown.get(k)}
        raise AssertionError(f"node {nodeid}: (tools, scrape) differ: {differ}") from error
    assert found is not None
    return found


_MEMBER = re.compile(r"\t\t\s*(\d+)\t\s*(\d+) \(.*\)")


def cpgtool_members(node: Node) -> Counter[tuple[str, str]]:
    """corosync-cpgtool's table on ``node``: processes by (group, node id)."""
    counts: Counter[tuple[str, str]] = Counter()
    group = ""
    for line in tool(node, "corosync-cpgtool").splitlines()[1:]:
        if match := _MEMBER.fullmatch(line):
            counts[(group, match[2])] += 1
        else:
            group = line
    return counts
