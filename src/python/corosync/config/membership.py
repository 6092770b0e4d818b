"""Adding and removing nodes and knet links: the edits behind :meth:`Config.add_node
<corosync.config.Config.add_node>`, ``remove_node``, ``add_link`` and ``remove_link``.

corosync's rules that they keep (exec/totemconfig.c): every node has the same links; with
several links every node has a ``name``; knet needs a ``nodeid`` on every node, below 65536;
links are numbered 0 to 7; node ids and names are unique. A new node is written as the last
one is (its key order, indentation, blank line before it); quorum settings are left alone
(:meth:`~corosync.config.Config.validate` warns when ``two_node`` no longer fits).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from . import edits
from .cmap import INTERFACE_KEYS, Resolved, value_problem
from .model import RING_ADDR
from .syntax import Entry, Section, Trivia

if TYPE_CHECKING:
    from .document import Config

__all__ = ["add_link", "add_node", "interface_section", "remove_link", "remove_node"]

MAX_LINKS = 8
KNET_MAX_NODEID = 65535


def _check_nodeid(nodeid: object) -> int:
    if isinstance(nodeid, bool) or not isinstance(nodeid, int):
        raise TypeError(f"nodeid must be an int, got {nodeid!r}")
    if not 1 <= nodeid <= KNET_MAX_NODEID:
        raise ValueError(f"nodeid must be between 1 and {KNET_MAX_NODEID}, got {nodeid}")
    return nodeid


def _links(addresses: Sequence[str] | Mapping[int, str]) -> dict[int, str]:
    if isinstance(addresses, str):
        raise TypeError("addresses must be a sequence or mapping of addresses, not a str")
    pairs = addresses.items() if isinstance(addresses, Mapping) else enumerate(addresses)
    links: dict[int, str] = {}
    for link, address in pairs:
        if isinstance(link, bool) or not isinstance(link, int) or not 0 <= link < MAX_LINKS:
            raise ValueError(f"link numbers go from 0 to {MAX_LINKS - 1}, got {link!r}")
        links[link] = edits.check_value(f"ring{link}_addr", address)
    if not links:
        raise ValueError("a node needs an address on at least one link")
    return dict(sorted(links.items()))


def _nodelist(config: Config) -> Section:
    lists = config.root.sections("nodelist")
    if len(lists) > 1:
        raise ValueError(
            f"{config.filename} has {len(lists)} nodelist sections (lines"
            f" {', '.join(str(s.lineno) for s in lists)}), which corosync merges node by node:"
            " merge them before editing nodes"
        )
    return lists[0] if lists else edits.add_section(config.root, "nodelist")


def _key_order(template: Section | None, links: Sequence[int]) -> list[str]:
    rings = [f"ring{link}_addr" for link in links]
    if template is None:
        return ["nodeid", "name", *rings, "quorum_votes"]
    order = [e.key for e in template.entries()]
    if not any(RING_ADDR.fullmatch(k) for k in order):
        order += rings
    else:
        last_ring = max(i for i, k in enumerate(order) if RING_ADDR.fullmatch(k))
        order[last_ring + 1 : last_ring + 1] = [r for r in rings if r not in order]
    for key in ("nodeid", "name", "quorum_votes"):
        if key not in order:
            order.append(key)
    return order


def add_node(
    config: Config,
    nodeid: int,
    name: str | None,
    addresses: Sequence[str] | Mapping[int, str],
    quorum_votes: int | None,
) -> None:
    """See :meth:`Config.add_node <corosync.config.Config.add_node>`."""
    _check_nodeid(nodeid)
    links = _links(addresses)
    nodes = config.nodelist
    values: dict[str, str] = {"nodeid": str(nodeid)}
    if name is not None:
        values["name"] = edits.check_value("name", name)
    if quorum_votes is not None:
        if isinstance(quorum_votes, bool) or not isinstance(quorum_votes, int):
            raise TypeError(f"quorum_votes must be an int, got {quorum_votes!r}")
        values["quorum_votes"] = str(quorum_votes)
        problem = value_problem("nodelist.node.0.quorum_votes", values["quorum_votes"])
        if problem:
            raise ValueError(problem)
    for node in nodes:
        if node.nodeid == nodeid:
            raise ValueError(f"node id {nodeid} is taken (line {node.line})")
        if name is not None and name in (node.name, node.addresses.get(0)):
            raise ValueError(f"name {name!r} is taken (node {node.nodeid}, line {node.line})")
    if nodes:
        theirs = sorted(nodes[-1].addresses)
        if theirs and theirs != sorted(links):
            raise ValueError(
                f"the other nodes have links {theirs}, not {sorted(links)}: give an address"
                " for each"
            )
    if len(links) > 1 and name is None:
        raise ValueError("a node needs a name when there are several links (corosync's rule)")
    for link, address in links.items():
        values[f"ring{link}_addr"] = address
    nodelist = _nodelist(config)
    olds = nodelist.sections("node")
    template = olds[-1] if olds else None
    if template is not None:
        index = nodelist.items.index(template) + 1
        before = nodelist.items.index(template) - 1
        previous = nodelist.items[before] if before >= 0 else None
        section = edits.add_section(nodelist, "node", index)
        section.header, section.closer = template.header, template.closer
        if isinstance(previous, Trivia) and not previous.is_comment and before > 0:
            edits.insert(nodelist, index, Trivia(previous.text))
    else:
        section = edits.add_section(nodelist, "node")
    like = {e.key: e for e in template.entries()} if template is not None else {}
    for key in _key_order(template, list(links)):
        if key in values:
            entry = edits.make_entry(section, key, values[key], like.get(key))
            edits.insert(section, len(section.items), entry)


def remove_node(config: Config, nodeid: int) -> None:
    """See :meth:`Config.remove_node <corosync.config.Config.remove_node>`."""
    node = config.node(nodeid)
    sections = config.resolved.nodes.get(node.index, [])
    if len(sections) != 1:
        raise ValueError(f"node {nodeid} is spread over {len(sections)} sections: edit by hand")
    edits.remove(sections[0])


def interface_section(root: Section, resolved: Resolved, link: int) -> Section:
    """The interface section of ``link`` (the last one), made if missing: at the end of
    ``totem``, after its other interfaces, with ``linknumber: <link>``."""
    if not 0 <= link < MAX_LINKS:
        raise ValueError(f"link numbers go from 0 to {MAX_LINKS - 1}, got {link}")
    if resolved.interfaces.get(link):
        return resolved.interfaces[link][-1]
    totems = root.sections("totem")
    totem = totems[-1] if totems else edits.add_section(root, "totem")
    section = edits.add_section(totem, "interface")
    edits.add_entry(section, "linknumber", str(link))
    return section


def _ring_entries(section: Section) -> list[tuple[int, Entry]]:
    return [
        (int(m[1]), e) for e in section.entries() if (m := RING_ADDR.fullmatch(e.key)) is not None
    ]


def add_link(
    config: Config,
    addresses: Mapping[int, str],
    linknumber: int | None,
    options: Mapping[str, str | int] | None,
) -> int:
    """See :meth:`Config.add_link <corosync.config.Config.add_link>`."""
    nodes = config.nodelist
    if not nodes:
        raise ValueError("there are no nodes to add a link to")
    used = {link for node in nodes for link in node.addresses}
    transport = config.get("totem.transport") or "knet"
    if transport != "knet" and used:
        raise ValueError(f"only knet has several links (totem.transport is {transport})")
    if linknumber is None:
        free = [link for link in range(MAX_LINKS) if link not in used]
        if not free:
            raise ValueError(f"every link number (0 to {MAX_LINKS - 1}) is in use")
        linknumber = free[0]
    if isinstance(linknumber, bool) or not isinstance(linknumber, int):
        raise TypeError(f"linknumber must be an int, got {linknumber!r}")
    if not 0 <= linknumber < MAX_LINKS or linknumber in used:
        raise ValueError(f"link {linknumber} is in use or not a link number (0 to 7)")
    by_id = {node.nodeid: node for node in nodes if node.nodeid is not None}
    if len(by_id) != len(nodes):
        raise ValueError("add_link() names nodes by node id: every node needs one")
    missing = sorted(set(by_id) - set(addresses), key=str)
    extra = sorted(set(addresses) - set(by_id), key=str)
    if missing or extra:
        raise ValueError(
            f"addresses must name every node by node id: missing {missing}, unknown {extra}"
        )
    if len(used | {linknumber}) > 1 and any(node.name is None for node in nodes):
        raise ValueError("several links need a name on every node (corosync's rule)")
    for nodeid, node in by_id.items():
        key = f"ring{linknumber}_addr"
        address = edits.check_value(key, addresses[nodeid])
        [section] = config.resolved.nodes[node.index][-1:]
        rings = _ring_entries(section)
        lower = [e for link, e in rings if link < linknumber]
        higher = [e for link, e in rings if link > linknumber]
        like = lower[-1] if lower else higher[0] if higher else None
        entry = edits.make_entry(section, key, address, like)
        if lower:
            index = section.items.index(lower[-1]) + 1
        elif higher:
            index = section.items.index(higher[0])
        else:
            index = len(section.items)
        edits.insert(section, index, entry)
    for key, value in (options or {}).items():
        if key not in INTERFACE_KEYS:
            raise ValueError(f"{key!r} is not a link option: {', '.join(INTERFACE_KEYS)}")
        text = edits.check_value(key, value)
        problem = value_problem(f"totem.interface.{linknumber}.{key}", text)
        if problem:
            raise ValueError(problem)
        section = interface_section(config.root, config.resolved, linknumber)
        edits.add_entry(section, key, text)
    return linknumber


def remove_link(config: Config, linknumber: int) -> None:
    """See :meth:`Config.remove_link <corosync.config.Config.remove_link>`."""
    used = {link for node in config.nodelist for link in node.addresses}
    if linknumber not in used:
        raise KeyError(f"no node has an address on link {linknumber}")
    if used == {linknumber}:
        raise ValueError(f"link {linknumber} is the only link: it cannot go")
    for sections in config.resolved.nodes.values():
        for section in sections:
            for link, entry in _ring_entries(section):
                if link == linknumber:
                    edits.remove(entry)
    for section in config.resolved.interfaces.get(linknumber, []):
        edits.remove(section)
