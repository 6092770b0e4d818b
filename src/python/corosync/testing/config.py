"""Rendering ``corosync.conf`` for one node of a test cluster.

The file is built with the ``corosync.conf`` model (:mod:`corosync.config`), key by key and
node by node (:meth:`Config.add_node <corosync.config.Config.add_node>`), so every value goes
through its checks. Key names follow corosync.conf(5) of corosync 3.1. Notes on the choices:

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
  ``corosync_testing { config_generation: N }`` section (:func:`with_generation`):
  corosync keeps the keys of sections it does not know in CMAP, so each node shows which
  version of the file it last read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from corosync.config import Config, ConfigError

from .options import QdeviceOptions, QuorumOptions, quorum_settings

__all__ = ["GENERATION_KEY", "NodeEntry", "generation_section", "render", "with_generation"]

#: The CMAP key that holds the number written by :func:`with_generation`.
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
    checked by the dataclasses, their combination by :func:`options.check_settings`; a value
    no ``corosync.conf`` line can hold raises ValueError.
    """
    if not nodes:
        raise ValueError("a cluster needs at least one node")
    if token_ms <= 0:
        raise ValueError(f"token_ms must be positive, got {token_ms}")
    config = Config()
    for key, value in (
        ("version", 2),
        ("cluster_name", cluster_name),
        ("transport", transport),
        ("token", int(token_ms)),
        ("token_coefficient", 0),
        ("crypto_cipher", "none"),
        ("crypto_hash", "none"),
    ):
        config.set(f"totem.{key}", value)
    for node in nodes:
        config.add_node(
            int(node.nodeid),
            node.name,
            node.addresses,
            quorum_votes=None if votes is None else votes.get(node.nodeid),
        )
    config.set("quorum.provider", "corosync_votequorum")
    for key, value in quorum_settings(quorum, qdevice):
        config.set(f"quorum.{key}", value)
    for key, value in (
        ("to_logfile", "yes"),
        ("logfile", log_path),
        ("to_stderr", "no"),
        ("to_syslog", "no"),
        ("timestamp", "on"),
        ("fileline", "off"),
        ("debug", "off"),
    ):
        config.set(f"logging.{key}", value)
    config.set("system.state_dir", state_dir)
    return config.text()


def with_generation(text: str, generation: int) -> str:
    """``text`` with a ``corosync_testing`` section numbering this version of the file, at
    its end (or its number changed, when it has one).

    coroparse stores the keys of a section it does not know in CMAP as strings, and a reload
    copies every key of the new file into CMAP: once a node has read the file,
    ``corosync_testing.config_generation`` (:data:`GENERATION_KEY`) is ``str(generation)``
    there. Nothing in corosync reads the key. A text that corosync cannot parse (a test may
    write one on purpose) gets the section appended as it is: corosync will refuse it
    anyway.
    """
    if isinstance(generation, bool) or not isinstance(generation, int) or generation < 0:
        raise ValueError(f"generation must be an int >= 0, got {generation!r}")
    try:
        config = Config(text)
    except ConfigError:
        return text + "\n" + generation_section(generation)
    config.set(GENERATION_KEY, generation)
    return config.text()


def generation_section(generation: int) -> str:
    """The ``corosync_testing`` section alone, as :func:`with_generation` writes it."""
    if isinstance(generation, bool) or not isinstance(generation, int) or generation < 0:
        raise ValueError(f"generation must be an int >= 0, got {generation!r}")
    config = Config()
    config.set(GENERATION_KEY, generation)
    return config.text()
