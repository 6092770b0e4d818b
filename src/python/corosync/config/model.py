"""Typed views of a ``corosync.conf``: :class:`Totem`, :class:`Node`, :class:`Quorum`,
:class:`Logging` and their parts.

Each view is a snapshot built from what corosync stores in CMAP (:mod:`.cmap`): a value is
the last one given for its key, wherever it is in the file. A field is None when the file
leaves the key out, and corosync then applies its default (named in the field's comment).
Numbers are read as corosync reads them; a value corosync would refuse raises
:class:`~corosync.config.ConfigError` naming its line when the view is built
(:meth:`Config.validate <corosync.config.Config.validate>` lists them all instead).
Yes/no keys read ``yes``/``on`` as True and ``no``/``off`` as False (logging's words);
votequorum's flags are numbers, any non-zero one True.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .cmap import UINT8, UINT16, UINT32, Resolved, c_integer
from .syntax import ConfigError

__all__ = ["Interface", "LoggerSubsys", "Logging", "Node", "Quorum", "QuorumDevice", "Totem"]

RING_ADDR = re.compile(r"ring([0-9]+)_addr")


class _Reader:
    """Typed reads of the keys below ``prefix``, raising ConfigError for a bad value."""

    def __init__(self, resolved: Resolved, prefix: str, filename: str) -> None:
        self.resolved, self.prefix, self.filename = resolved, prefix, filename

    def text(self, key: str) -> str | None:
        entry = self.resolved.values.get(self.prefix + key)
        return None if entry is None else entry.value

    def number(self, key: str, bounds: tuple[int, int] = UINT32) -> int | None:
        entry = self.resolved.values.get(self.prefix + key)
        if entry is None:
            return None
        number = c_integer(entry.value, *bounds)
        if number is None:
            raise ConfigError(
                f"{self.prefix}{key} must be an integer in {bounds[0]}..{bounds[1]}, not"
                f" {entry.value!r}",
                line=entry.lineno,
                filename=self.filename,
            )
        return number

    def flag(self, key: str) -> bool | None:
        """votequorum's 0/1 flags (uint8: any non-zero value is on)."""
        number = self.number(key, UINT8)
        return None if number is None else bool(number)

    def yes_no(self, key: str) -> bool | None:
        entry = self.resolved.values.get(self.prefix + key)
        if entry is None:
            return None
        if entry.value in ("yes", "on", "no", "off"):
            return entry.value in ("yes", "on")
        raise ConfigError(
            f"{self.prefix}{key} must be yes, no, on or off, not {entry.value!r}",
            line=entry.lineno,
            filename=self.filename,
        )

    def below(self) -> dict[str, str]:
        """Every key below the prefix (relative name -> value)."""
        n = len(self.prefix)
        return {
            k[n:]: e.value for k, e in self.resolved.values.items() if k.startswith(self.prefix)
        }


@dataclass(frozen=True)
class Interface:
    """``totem { interface { linknumber: L ... } }``: options of knet link ``linknumber``
    (or, for udp, the bind and multicast addresses). ``line`` is its section's line."""

    linknumber: int
    line: int
    knet_link_priority: int | None = None  # 1
    knet_ping_interval: int | None = None  # token / (knet_pong_count * 2)
    knet_ping_timeout: int | None = None  # token / knet_pong_count
    knet_ping_precision: int | None = None  # 2048
    knet_pong_count: int | None = None  # 2
    knet_transport: str | None = None  # udp
    bindnetaddr: str | None = None
    mcastaddr: str | None = None
    mcastport: int | None = None  # 5405 + link
    ttl: int | None = None  # 1
    broadcast: str | None = None


@dataclass(frozen=True)
class Totem:
    """The ``totem`` section (corosync.conf(5)); every key is in :attr:`options`."""

    version: int | None = None  # required: 2
    cluster_name: str | None = None
    transport: str | None = None  # knet
    ip_version: str | None = None  # ipv6-4 (udp: ipv4)
    link_mode: str | None = None  # passive
    token: int | None = None  # 3000 ms, plus token_coefficient per node beyond 2
    token_coefficient: int | None = None  # 650 ms
    token_retransmits_before_loss_const: int | None = None  # 4
    consensus: int | None = None  # 1.2 * token
    join: int | None = None  # 50 ms
    crypto_cipher: str | None = None  # none
    crypto_hash: str | None = None  # none
    crypto_model: str | None = None  # nss
    keyfile: str | None = None  # /etc/corosync/authkey
    netmtu: int | None = None
    knet_pmtud_interval: int | None = None  # 30 s
    knet_compression_model: str | None = None  # no compression
    interfaces: Mapping[int, Interface] = field(default_factory=dict)
    #: Every ``totem.*`` key as written (``interface.0.knet_link_priority`` for links).
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Node:
    """One ``nodelist { node { ... } }`` entry: ``nodelist.node.<index>`` in CMAP.

    ``addresses`` maps each link number to its address (``ring<L>_addr``); ``line`` is the
    line of the ``node {`` that opens it.
    """

    index: int
    line: int
    nodeid: int | None = None
    name: str | None = None
    addresses: Mapping[int, str] = field(default_factory=dict)
    quorum_votes: int | None = None  # 1
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class QuorumDevice:
    """``quorum { device { ... } }``: a quorum device (corosync-qdevice(8)); the keys of
    its model's subsections (``net.host``...) are in :attr:`options`."""

    line: int
    model: str | None = None
    votes: int | None = None  # number of nodes - 1
    timeout: int | None = None  # 10000 ms
    sync_timeout: int | None = None  # 30000 ms
    master_wins: bool | None = None
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Quorum:
    """The ``quorum`` section (votequorum(5)); every key is in :attr:`options`."""

    provider: str | None = None  # no quorum at all
    expected_votes: int | None = None  # the nodes' votes
    votes: int | None = None  # deprecated: nodelist.node.N.quorum_votes
    two_node: bool | None = None
    wait_for_all: bool | None = None  # as two_node
    last_man_standing: bool | None = None
    last_man_standing_window: int | None = None  # 10000 ms
    auto_tie_breaker: bool | None = None
    auto_tie_breaker_node: str | None = None  # lowest
    allow_downscale: bool | None = None
    expected_votes_tracking: bool | None = None
    device: QuorumDevice | None = None
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoggerSubsys:
    """``logging { logger_subsys { subsys: NAME ... } }``: one subsystem's logging."""

    subsys: str
    line: int
    debug: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Logging:
    """The ``logging`` section (corosync.conf(5)); every key is in :attr:`options`."""

    to_stderr: bool | None = None  # yes
    to_logfile: bool | None = None  # no
    to_syslog: bool | None = None  # yes
    logfile: str | None = None
    logfile_priority: str | None = None  # info
    syslog_facility: str | None = None  # daemon
    syslog_priority: str | None = None  # info
    debug: str | None = None  # off (on, trace)
    timestamp: str | None = None  # hires (on, off)
    fileline: bool | None = None
    function_name: bool | None = None
    blackbox: bool | None = None  # on
    subsystems: Mapping[str, LoggerSubsys] = field(default_factory=dict)
    options: Mapping[str, str] = field(default_factory=dict)


def totem_view(resolved: Resolved, filename: str) -> Totem:
    """The :class:`Totem` of a resolved file."""
    r = _Reader(resolved, "totem.", filename)
    links = sorted(
        {
            int(k.split(".")[2])
            for k in resolved.values
            if re.match(r"totem\.interface\.[0-9]+\.", k)
        }
        | set(resolved.interfaces)
    )
    interfaces = {}
    for link in links:
        i = _Reader(resolved, f"totem.interface.{link}.", filename)
        sections = resolved.interfaces.get(link, [])
        interfaces[link] = Interface(
            linknumber=link,
            line=sections[0].lineno if sections else 0,
            knet_link_priority=i.number("knet_link_priority", UINT8),
            knet_ping_interval=i.number("knet_ping_interval"),
            knet_ping_timeout=i.number("knet_ping_timeout"),
            knet_ping_precision=i.number("knet_ping_precision"),
            knet_pong_count=i.number("knet_pong_count"),
            knet_transport=i.text("knet_transport"),
            bindnetaddr=i.text("bindnetaddr"),
            mcastaddr=i.text("mcastaddr"),
            mcastport=i.number("mcastport", UINT16),
            ttl=i.number("ttl", UINT8),
            broadcast=i.text("broadcast"),
        )
    return Totem(
        version=r.number("version"),
        cluster_name=r.text("cluster_name"),
        transport=r.text("transport"),
        ip_version=r.text("ip_version"),
        link_mode=r.text("link_mode"),
        token=r.number("token"),
        token_coefficient=r.number("token_coefficient"),
        token_retransmits_before_loss_const=r.number("token_retransmits_before_loss_const"),
        consensus=r.number("consensus"),
        join=r.number("join"),
        crypto_cipher=r.text("crypto_cipher"),
        crypto_hash=r.text("crypto_hash"),
        crypto_model=r.text("crypto_model"),
        keyfile=r.text("keyfile"),
        netmtu=r.number("netmtu"),
        knet_pmtud_interval=r.number("knet_pmtud_interval"),
        knet_compression_model=r.text("knet_compression_model"),
        interfaces=interfaces,
        options=r.below(),
    )


def nodes_view(resolved: Resolved, filename: str) -> list[Node]:
    """The :class:`Node` entries of a resolved file, by index."""
    indexes = sorted(
        {int(k.split(".")[2]) for k in resolved.values if re.match(r"nodelist\.node\.[0-9]+\.", k)}
        | set(resolved.nodes)
    )
    nodes = []
    for index in indexes:
        r = _Reader(resolved, f"nodelist.node.{index}.", filename)
        options = r.below()
        addresses = {}
        for key, value in options.items():
            match = RING_ADDR.fullmatch(key)
            if match:
                addresses[int(match[1])] = value
        sections = resolved.nodes.get(index, [])
        nodes.append(
            Node(
                index=index,
                line=sections[0].lineno if sections else 0,
                nodeid=r.number("nodeid"),
                name=r.text("name"),
                addresses=dict(sorted(addresses.items())),
                quorum_votes=r.number("quorum_votes"),
                options=options,
            )
        )
    return nodes


def quorum_view(resolved: Resolved, filename: str) -> Quorum:
    """The :class:`Quorum` of a resolved file."""
    r = _Reader(resolved, "quorum.", filename)
    d = _Reader(resolved, "quorum.device.", filename)
    device_options = d.below()
    device = None
    if device_options:
        first = min(resolved.values[f"quorum.device.{k}"].lineno for k in device_options)
        device = QuorumDevice(
            line=first,
            model=d.text("model"),
            votes=d.number("votes"),
            timeout=d.number("timeout"),
            sync_timeout=d.number("sync_timeout"),
            master_wins=d.flag("master_wins"),
            options=device_options,
        )
    return Quorum(
        provider=r.text("provider"),
        auto_tie_breaker_node=r.text("auto_tie_breaker_node"),
        expected_votes=r.number("expected_votes"),
        votes=r.number("votes"),
        two_node=r.flag("two_node"),
        wait_for_all=r.flag("wait_for_all"),
        last_man_standing=r.flag("last_man_standing"),
        last_man_standing_window=r.number("last_man_standing_window"),
        auto_tie_breaker=r.flag("auto_tie_breaker"),
        allow_downscale=r.flag("allow_downscale"),
        expected_votes_tracking=r.flag("expected_votes_tracking"),
        device=device,
        options=r.below(),
    )


def logging_view(resolved: Resolved, filename: str) -> Logging:
    """The :class:`Logging` of a resolved file."""
    r = _Reader(resolved, "logging.", filename)
    subsystems = {}
    for name, sections in resolved.subsystems.items():
        s = _Reader(resolved, f"logging.logger_subsys.{name}.", filename)
        subsystems[name] = LoggerSubsys(name, sections[0].lineno, s.text("debug"), s.below())
    return Logging(
        to_stderr=r.yes_no("to_stderr"),
        to_logfile=r.yes_no("to_logfile"),
        to_syslog=r.yes_no("to_syslog"),
        logfile=r.text("logfile"),
        logfile_priority=r.text("logfile_priority"),
        syslog_facility=r.text("syslog_facility"),
        syslog_priority=r.text("syslog_priority"),
        debug=r.text("debug"),
        timestamp=r.text("timestamp"),
        fileline=r.yes_no("fileline"),
        function_name=r.yes_no("function_name"),
        blackbox=r.yes_no("blackbox"),
        subsystems=subsystems,
        options=r.below(),
    )
