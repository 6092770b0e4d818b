"""What ``corosync-cfgtool -s`` and ``-n`` show, read through CMAP and CFG: every node of the
nodelist and knet's status of each of its links, as the local node sees them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from corosync import CFG, CMAP, FailedOperationError, NotExistError
from corosync.cfg import LinkStatus, NodeStatus
from corosync.cli.nodelist import node_name, read_nodelist

__all__ = ["LinkFacts", "NodeLinks", "read_links"]

_TRANSPORT_KEY = re.compile(r"totem\.interface\.(\d+)\.knet_transport")


@dataclass(frozen=True, slots=True)
class NodeLinks:
    """A node of the nodelist; ``status`` is None when corosync has none for it."""

    node_id: int
    name: str
    local: bool
    status: NodeStatus | None

    @property
    def links(self) -> list[LinkStatus]:
        return [] if self.status is None else self.status.links


@dataclass(frozen=True, slots=True)
class LinkFacts:
    """The local node, the cluster's transport, each link's transport and the nodes."""

    node_id: int
    transport: str
    link_transports: dict[int, str]
    nodes: tuple[NodeLinks, ...]

    def transport_of(self, link: int) -> str:
        """A link's transport as corosync-cfgtool names it (``udp`` unless configured)."""
        default = "udp" if self.transport == "knet" else ""
        return self.link_transports.get(link, default)

    def shown_links(self) -> list[int]:
        """The links corosync-cfgtool -s lists: those enabled towards the other nodes (the
        local node's own status has only its loopback link), or in a cluster of one, the
        local node's."""
        others = [node for node in self.nodes if not node.local] or list(self.nodes)
        return sorted({link.link for node in others for link in node.links if link.enabled})


def read_links(cmap: CMAP, cfg: CFG) -> LinkFacts:
    """Read the nodelist, the transports and each node's knet status."""
    try:
        transport = cmap.get("totem.transport").value
    except NotExistError:
        transport = "knet"  # corosync's default
    link_transports: dict[int, str] = {}
    for key, typed in cmap.items("totem.interface."):
        if (match := _TRANSPORT_KEY.fullmatch(key)) and isinstance(typed.value, str):
            link_transports[int(match[1])] = typed.value
    local = cfg.local_nodeid
    names = read_nodelist(cmap)
    nodes = tuple(
        NodeLinks(nodeid, node_name(names, cfg, nodeid), nodeid == local, _status(cfg, nodeid))
        for nodeid in names
    )
    return LinkFacts(local, str(transport), link_transports, nodes)


def _status(cfg: CFG, nodeid: int) -> NodeStatus | None:
    try:
        return cfg.node_status(nodeid)
    except FailedOperationError:
        return None  # knet does not know the node (corosync-cfgtool says so on stderr)
