"""corosync's checks of the ``nodelist`` (``put_nodelist_members_to_config``,
``check_for_duplicate_nodeids`` and the link checks of ``totem_volatile_config_validate`` in
exec/totemconfig.c, corosync 3.1.7), and the helpers :mod:`.totem_rules` shares.

An address is checked as far as the file decides it: a literal IPv4 or IPv6 address must be
one (glibc's reading: ``10.1`` is ``10.0.0.1``) of the family ``totem.ip_version`` allows; a
host name is left to the machine's resolver.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass, field

from .cmap import UINT32, Resolved, c_integer
from .problem import Problem, Severity
from .syntax import Entry

__all__ = ["Checks", "Members", "check_multi_link", "check_nodes", "int32", "parse_address"]

_INTERFACE_MAX = 8
_KNET_MAX_HOST = 65536
_RING = re.compile(r"ring(-?[0-9]+)(.*)")
_IP = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(text: str, ip_version: str) -> _IP | str | None:
    """The address ``text`` as corosync's totemip_parse (getaddrinfo) would take it under
    ``ip_version``: an address for a literal, ``text`` itself for a host name (resolving it
    is the machine's business), None for what cannot be an address."""
    v4_ok, v6_ok = ip_version != "ipv6", ip_version != "ipv4"
    if ":" in text:
        try:
            socket.inet_pton(socket.AF_INET6, text.split("%", 1)[0])
        except OSError:
            return None
        return ipaddress.IPv6Address(text.split("%", 1)[0]) if v6_ok else None
    if re.fullmatch(r"[0-9.]+|0[xX][0-9a-fA-F.xX]+", text):
        try:
            packed = socket.inet_aton(text)  # glibc's own reading: 10.1 is 10.0.0.1
        except OSError:
            return None
        return ipaddress.IPv4Address(packed) if v4_ok else None
    return text


def int32(value: int) -> int:
    """``value`` as corosync prints its unsigned settings (with %d)."""
    return value - 2**32 if value >= 2**31 else value


class Checks:
    """The keys of a resolved file, read leniently, and the problems found in them."""

    def __init__(self, resolved: Resolved) -> None:
        self.values = resolved.values
        self.problems: list[Problem] = []

    def line(self, key: str) -> int:
        """The line that sets ``key`` (0 without one)."""
        entry = self.values.get(key)
        return entry.lineno if entry is not None else 0

    def text(self, key: str) -> str | None:
        """The value of ``key`` (None without one)."""
        entry = self.values.get(key)
        return None if entry is None else entry.value

    def number(self, key: str) -> int | None:
        """The value of ``key`` as a uint32 (None without one, or if it is none)."""
        entry = self.values.get(key)
        return None if entry is None else c_integer(entry.value, *UINT32)

    def error(self, line: int, message: str, corosync: str, prefixed: bool = True) -> None:
        """An error; ``corosync`` is printed after "parse error in config: " if ``prefixed``."""
        printed = f"parse error in config: {corosync}" if prefixed else corosync
        self.problems.append(Problem(line, Severity.ERROR, "totem", message, printed))

    def warning(self, line: int, message: str) -> None:
        """A warning (corosync's own, logged as it starts)."""
        self.problems.append(Problem(line, Severity.WARNING, "totem", message, None))


def _generated_nodeid(address: str, clear_high_bit: bool) -> int | str | None:
    # generate_nodeid(): the IPv4 address as a number; a host name's is the machine's
    # business (returned as it is); None for what gives none (IPv6).
    parsed = parse_address(address, "ipv4")
    if isinstance(parsed, str):
        return parsed
    if not isinstance(parsed, ipaddress.IPv4Address):
        return None
    return int(parsed) & 0x7FFFFFFF if clear_high_bit else int(parsed)


@dataclass
class Members:
    """What the nodelist gives totem."""

    nodelist: bool = False  # whether corosync reads the nodelist at all
    nodes: int = 0
    counts: dict[int, int] = field(default_factory=dict)  # nodes with an address per link


def check_nodes(t: Checks, transport: str, ip_version: str) -> Members:
    """Check every node (put_nodelist_members_to_config, check_for_duplicate_nodeids)."""
    nodes: dict[str, dict[str, Entry]] = {}
    for key, entry in sorted(t.values.items()):  # CMAP's order: node 10 before node 2
        match = re.fullmatch(r"nodelist\.node\.([0-9]+)\.(.+)", key)
        if match:
            nodes.setdefault(match[1], {})[match[2]] = entry
    found = Members()
    if not nodes or not ({"name", "ring0_addr"} & set(nodes.get("0", {}))):
        return found  # corosync ignores a nodelist whose first node has neither
    found.nodelist, found.nodes = True, len(nodes)
    families: dict[int, _IP] = {}
    clear = t.text("totem.clear_node_high_bit") == "yes"
    explicit: dict[str, int] = {}
    for index, keys in nodes.items():
        nodeid = c_integer(keys["nodeid"].value, *UINT32) if "nodeid" in keys else None
        ring0 = keys.get("ring0_addr")
        generated = _generated_nodeid(ring0.value, clear) if ring0 is not None else None
        reported = False
        for key, entry in keys.items():
            ring = _RING.fullmatch(key)
            if ring is None or ring[2] != "_addr":
                continue
            link, address = int(ring[1]) % 2**32, entry.value
            if link >= _INTERFACE_MAX:
                t.error(
                    entry.lineno,
                    f"{key}: links are numbered 0 to 7",
                    f"interface ring number {link} is bigger than allowed maximum 7",
                )
                continue
            if not reported and not nodeid:
                if transport == "knet":
                    reported = True
                    t.error(
                        entry.lineno,
                        f"node {index} needs a nodeid (knet's rule)",
                        "Knet requires an explicit nodeid to be specified for address"
                        f" '{address}'.",
                        prefixed=False,
                    )
                elif ring0 is not None and generated is None:
                    reported = True
                    t.error(
                        entry.lineno,
                        f"node {index} needs a nodeid: its ring0_addr is not"
                        " an IPv4 address to make one of",
                        "An IPV6 network requires that a node ID be specified for address"
                        f" '{address}'.",
                        prefixed=False,
                    )
            elif not reported and transport == "knet" and nodeid and nodeid >= _KNET_MAX_HOST:
                reported = True
                t.error(
                    keys["nodeid"].lineno,
                    f"nodeid {nodeid}: knet takes 1 to 65535",
                    f"Knet requires nodeid to be less than {_KNET_MAX_HOST} for address"
                    f" '{address}'.",
                    prefixed=False,
                )
            parsed = parse_address(address, ip_version)
            if parsed is None:
                t.error(
                    entry.lineno,
                    f"{key}: {address!r} is not an address here (totem.ip_version {ip_version})",
                    f"failed to parse node address '{address}'",
                    prefixed=False,
                )
                continue
            found.counts[link] = found.counts.get(link, 0) + 1
            if not isinstance(parsed, str):
                first = families.setdefault(link, parsed)
                if parsed.version != first.version:
                    t.error(
                        entry.lineno,
                        f"link {link} mixes IPv4 and IPv6 addresses",
                        f"Nodes for link {link} have different IP families (compared"
                        f" {parsed} with {first})",
                    )
        mine = nodeid if nodeid is not None else generated
        if isinstance(mine, int) and (nodeid is not None or transport != "knet"):
            earlier = [i for i, n in explicit.items() if n == mine]
            if earlier:
                origin = ring0.value if ring0 is not None else ""
                auto = "" if nodeid is not None else f"(autogenerated from {origin})"
                t.error(
                    keys["nodeid"].lineno if "nodeid" in keys else 0,
                    f"node {index} has node {earlier[0]}'s nodeid, {mine}",
                    f"Nodeid {mine}{auto} appears twice in corosync.conf",
                    prefixed=False,
                )
        if nodeid is not None:
            explicit[index] = nodeid
    return found


def check_multi_link(t: Checks, links: set[int], counts: dict[int, int]) -> None:
    """Several links: every node named, and on every link."""
    first = counts.get(min(links), 0)
    missing = [i for i in range(first) if f"nodelist.node.{i}.name" not in t.values]
    if missing:
        t.error(
            0,
            f"several links need a name on every node (node {missing[0]} has none)",
            "for a multi-link configuration, all nodes must have a 'name' attribute",
        )
    elif any(counts.get(link, 0) != first for link in links):
        t.error(
            0,
            "every node needs an address on every link: "
            + ", ".join(f"link {k}: {counts.get(k, 0)} nodes" for k in sorted(links)),
            "Not all nodes have the same number of links",
        )
