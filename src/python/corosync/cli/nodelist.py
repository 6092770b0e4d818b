"""The nodes of corosync.conf's nodelist as CMAP holds them (``nodelist.node.X.*``), and the
name a node is shown with."""

from __future__ import annotations

import re

from corosync import CFG, CMAP, CorosyncError

__all__ = ["node_name", "read_nodelist"]

_KEY = re.compile(r"nodelist\.node\.(\d+)\.(nodeid|name|ring0_addr)")


def read_nodelist(cmap: CMAP) -> dict[int, str]:
    """Node id -> name of every node of the nodelist, in node id order. The name is
    ``nodelist.node.X.name``, else its ``ring0_addr`` (as corosync-quorumtool falls back to
    an address), else ''."""
    fields: dict[str, dict[str, object]] = {}
    for key, typed in cmap.items("nodelist.node."):
        if match := _KEY.fullmatch(key):
            fields.setdefault(match[1], {})[match[2]] = typed.value
    names: dict[int, str] = {}
    for node in fields.values():
        nodeid = node.get("nodeid")
        if isinstance(nodeid, int):
            name = node.get("name") or node.get("ring0_addr") or ""
            names[nodeid] = name if isinstance(name, str) else ""
    return dict(sorted(names.items()))


def node_name(nodelist: dict[int, str], cfg: CFG, nodeid: int) -> str:
    """The nodelist's name of a node; for a node it does not name, its first address as
    corosync knows it (corosync-quorumtool resolves that address to a host name; this
    shows it as it is), or '' if corosync knows none."""
    if nodelist.get(nodeid):
        return nodelist[nodeid]
    try:
        addresses = cfg.node_addrs(nodeid)
    except CorosyncError:
        return ""
    return str(addresses[0]) if addresses else ""
