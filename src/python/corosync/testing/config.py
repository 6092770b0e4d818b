"""Rendering ``corosync.conf`` for one node of a test cluster.

Key names follow corosync.conf(5) of corosync 3.1. Notes on the choices:

* ``token`` is the failure-detection time. ``token_coefficient: 0`` keeps it exactly
  ``token_ms`` whatever the number of nodes (corosync otherwise adds 650 ms per node beyond
  two), so that fault tests take the same time on any cluster size.
* Quorum is ``corosync_votequorum``, by default plain: one vote per node, without
  ``two_node``: ``two_node`` implies ``wait_for_all`` and lets a lone survivor keep quorum,
  which would make a 2-node cluster behave unlike every other size. With plain votequorum a
  2-node cluster needs both nodes to be quorate, exactly as the arithmetic (2 of 2) says.
  Per-node votes (``quorum_votes``), the votequorum options and a quorum device section come
  from :mod:`corosync.testing.options` when a test asks for them.
* Several knet links are one ``ring<L>_addr`` per link in every node entry: corosync 3
  configures a knet link for each (``totem.interface.<L>`` in cmap) with default options,
  so no ``totem { interface { linknumber: L } }`` section is needed. knet's default
  ``link_mode: passive`` sends over the lowest-numbered connected link and pings all of
  them, so each link's state is known (``corosync-cfgtool -s``).
* No encryption (``crypto_cipher``/``crypto_hash: none``), so no authkey file is needed;
  the traffic never leaves the machine's namespaces anyway.
* Logging goes to one file per node only (``to_stderr``/``to_syslog: no``), and
  ``system.state_dir`` moves the state files and blackbox out of /var/lib/corosync.
* After a reload (``Cluster.reconfigure``, ``Cluster.add_node``) the file ends with a
  ``corosync_testing { config_generation: N }`` section (:func:`generation_section`):
  corosync keeps the keys of sections it does not know in CMAP, so each node shows which
  version of the file it last read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .options import QdeviceOptions, QuorumOptions, quorum_lines

__all__ = ["GENERATION_KEY", "NodeEntry", "generation_section", "render"]

#: The CMAP key that holds the number written by :func:`generation_section`.
GENERATION_KEY = "corosync_testing.config_generation"


@dataclass(frozen=True)
class NodeEntry:
    """One ``nodelist.node`` entry: corosync node id, ring0 address, name, and the
    addresses of knet links 1 and up (``ring1_addr``, ...), if any."""

    nodeid: int
    address: str
    name: str
    more_addresses: tuple[str, ...] = ()

    @property
    def addresses(self) -> tuple[str, ...]:
        """``ring0_addr``, ``ring1_addr``, ...: the address on each link, by link number."""
        return (self.address, *self.more_addresses)


def _value(key: str, value: str) -> str:
    # corosync.conf values end at the newline; a newline or brace inside one would change
    # the structure of the file, so refuse such values instead of producing a wrong config.
    if any(c in value for c in "\n\r{}"):
        raise ValueError(f"invalid character in corosync.conf value for {key}: {value!r}")
    return value


def render(
    *,
    cluster_name: str,
    nodes: Sequence[NodeEntry],
    log_path: str,
    state_dir: str,
    token_ms: int = 1000,
    transport: str = "knet",
    votes: Mapping[int, int] | None = None,
    quorum: QuorumOptions | None = None,
    qdevice: QdeviceOptions | None = None,
) -> str:
    """Return the text of a ``corosync.conf`` for a member of the cluster ``nodes``.

    Every node of a cluster gets the same text except for the log file and state
    directory; corosync finds its own entry by matching ``ring0_addr`` with a local address.
    ``votes`` gives ``quorum_votes`` to the nodes it names (the others keep corosync's
    default of 1); ``quorum`` and ``qdevice`` fill the ``quorum`` section. Their values are
    checked by the dataclasses, their combination by :func:`options.check_settings`.
    """
    if not nodes:
        raise ValueError("a cluster needs at least one node")
    if token_ms <= 0:
        raise ValueError(f"token_ms must be positive, got {token_ms}")
    lines = [
        "totem {",
        "    version: 2",
        f"    cluster_name: {_value('cluster_name', cluster_name)}",
        f"    transport: {_value('transport', transport)}",
        f"    token: {int(token_ms)}",
        "    token_coefficient: 0",
        "    crypto_cipher: none",
        "    crypto_hash: none",
        "}",
        "",
        "nodelist {",
    ]
    for node in nodes:
        lines += [
            "    node {",
            f"        nodeid: {int(node.nodeid)}",
            f"        name: {_value('name', node.name)}",
        ]
        for link, address in enumerate(node.addresses):
            lines.append(f"        ring{link}_addr: {_value(f'ring{link}_addr', address)}")
        if votes is not None and node.nodeid in votes:
            lines.append(f"        quorum_votes: {int(votes[node.nodeid])}")
        lines.append("    }")
    lines += [
        "}",
        "",
        "quorum {",
        "    provider: corosync_votequorum",
        *quorum_lines(quorum, qdevice),
        "}",
        "",
        "logging {",
        "    to_logfile: yes",
        f"    logfile: {_value('logfile', log_path)}",
        "    to_stderr: no",
        "    to_syslog: no",
        "    timestamp: on",
        "    fileline: off",
        "    debug: off",
        "}",
        "",
        "system {",
        f"    state_dir: {_value('state_dir', state_dir)}",
        "}",
        "",
    ]
    return "\n".join(lines)


def generation_section(generation: int) -> str:
    """A ``corosync_testing`` section numbering a version of the file, to append to it.

    coroparse stores the keys of a section it does not know in CMAP as strings, and a reload
    copies every key of the new file into CMAP: once a node has read the file,
    ``corosync_testing.config_generation`` (:data:`GENERATION_KEY`) is ``str(generation)``
    there. Nothing in corosync reads the key.
    """
    if isinstance(generation, bool) or not isinstance(generation, int) or generation < 0:
        raise ValueError(f"generation must be an int >= 0, got {generation!r}")
    return f"corosync_testing {{\n    config_generation: {generation}\n}}\n"
