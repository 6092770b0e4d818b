"""What corosync stores in CMAP for a parsed file, and the values its parser refuses.

This follows ``main_config_parser_cb`` of exec/coroparse.c (corosync 3.1.7). A key is named
by the sections around it (``totem.token``, ``quorum.device.votes``); a later key of the
same name replaces an earlier one, in the same section or in a second section of the same
name (two ``totem`` sections merge). A few sections are stored differently:

* ``nodelist { node { ... } }``: the keys of the N-th ``node`` section (from 0, counting
  anew in each ``nodelist`` section) become ``nodelist.node.N.<key>``.
* ``totem { interface { ... } }``: ``linknumber`` (0 when absent) names the link, and the
  link's options become ``totem.interface.<link>.<key>`` when the section closes;
  ``member { memberaddr: ... }`` becomes ``totem.interface.<link>.member.<i>``.
* ``logging { logger_subsys { subsys: NAME ... } }``: ``logging.logger_subsys.NAME.<key>``
  (``subsys`` is required). ``logging_daemon`` sections (``name`` required) likewise.
* ``uidgid { uid: U  gid: G }``: ``uidgid.config.uid.U`` (the value is what the line says).

Values are strings to corosync, except where it reads a number (``totem.token``,
``nodelist.node.N.nodeid``, ``quorum.expected_votes``...), which must then be a decimal
integer in the range of its type, with nothing after it: ``token: 5000 # ms`` is refused.
A handful of keys take one of a fixed set of words. Everything else, including keys corosync
knows nothing of, is kept as a string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .problem import Problem, Severity
from .syntax import Entry, Section

__all__ = [
    "KNET_COMPRESS_MODELS",
    "KNET_CRYPTO_MODELS",
    "Resolved",
    "c_integer",
    "resolve",
    "valid_key_name",
    "value_problem",
]

UINT8 = (0, 2**8 - 1)
UINT16 = (0, 2**16 - 1)
UINT32 = (0, 2**32 - 1)
INT32 = (-(2**31), 2**31 - 1)

#: The crypto and compression models of knet; an installed knet may lack some of them
#: (``corosync -v`` lists those it has).
KNET_CRYPTO_MODELS = ("nss", "openssl", "gcrypt")
KNET_COMPRESS_MODELS = ("zlib", "lz4", "lz4hc", "lzo2", "lzma", "bzip2", "zstd")

_TOTEM_UINT32 = frozenset(
    f"totem.{k}"
    for k in (
        "version nodeid threads token token_coefficient token_retransmit token_warning hold"
        " token_retransmits_before_loss_const join send_join consensus merge downcheck"
        " fail_recv_const seqno_unchanged_const rrp_token_expired_timeout"
        " rrp_problem_count_timeout rrp_problem_count_threshold"
        " rrp_problem_count_mcast_threshold rrp_autorecovery_check_timeout"
        " heartbeat_failures_allowed max_network_delay window_size max_messages"
        " miss_count_const knet_pmtud_interval knet_mtu knet_compression_threshold netmtu"
    ).split()
)
_NUMBERS: dict[str, tuple[int, int]] = {
    **dict.fromkeys(_TOTEM_UINT32, UINT32),
    "totem.knet_compression_level": INT32,
    **dict.fromkeys(
        (
            "quorum.expected_votes",
            "quorum.votes",
            "quorum.last_man_standing_window",
            "quorum.leaving_timeout",
        ),
        UINT32,
    ),
    **dict.fromkeys(
        (
            "quorum.two_node",
            "quorum.expected_votes_tracking",
            "quorum.allow_downscale",
            "quorum.wait_for_all",
            "quorum.auto_tie_breaker",
            "quorum.last_man_standing",
        ),
        UINT8,
    ),
    **dict.fromkeys(
        ("quorum.device.timeout", "quorum.device.sync_timeout", "quorum.device.votes"), UINT32
    ),
    "quorum.device.master_wins": UINT8,
}
_INTERFACE_NUMBERS = {
    "linknumber": UINT8,
    "mcastport": UINT16,
    "ttl": UINT8,
    "knet_link_priority": UINT8,
    "knet_ping_interval": UINT32,
    "knet_ping_timeout": UINT32,
    "knet_ping_precision": UINT32,
    "knet_pong_count": UINT32,
}
#: Interface keys stored per link when the section closes, in corosync's order.
INTERFACE_KEYS = (
    "bindnetaddr",
    "mcastaddr",
    "broadcast",
    "mcastport",
    "ttl",
    "knet_link_priority",
    "knet_ping_interval",
    "knet_ping_timeout",
    "knet_ping_precision",
    "knet_pong_count",
    "knet_transport",
)
_WORDS: dict[str, tuple[tuple[str, ...], str]] = {
    "totem.ip_version": (("ipv4", "ipv6", "ipv6-4", "ipv4-6"), "Invalid ip_version type"),
    "totem.crypto_cipher": (
        ("none", "aes256", "aes192", "aes128"),
        "Invalid cipher type. Should be none, aes256, aes192 or aes128",
    ),
    "totem.crypto_hash": (
        ("none", "md5", "sha1", "sha256", "sha384", "sha512"),
        "Invalid hash type. Should be none, md5, sha1, sha256, sha384 or sha512",
    ),
    "totem.crypto_model": (KNET_CRYPTO_MODELS, "Invalid crypto model. Should be nss or openssl"),
    "totem.knet_compression_model": (
        KNET_COMPRESS_MODELS,
        "Invalid compression model. Should be zlib, lz4, lz4hc, lzo2, lzma, bzip2 or zstd",
    ),
    "system.qb_ipc_type": (("native", "shm", "socket"), "Invalid system.qb_ipc_type"),
    "system.sched_rr": (("yes", "no"), "Invalid system.sched_rr value"),
    "system.move_to_root_cgroup": (("yes", "no", "auto"), "Invalid system.move_to_root_cgroup"),
    "system.allow_knet_handle_fallback": (
        ("yes", "no"),
        "Invalid system.allow_knet_handle_fallback",
    ),
}
# Where coroparse switches to a special state; nested sections inherit their parent's.
_STATES = {
    "totem": "totem",
    "totem.interface": "interface",
    "totem.interface.member": "member",
    "system": "system",
    "logging.logger_subsys": "subsys",
    "logging.logging_daemon": "daemon",
    "uidgid": "uidgid",
    "quorum": "quorum",
    "quorum.device": "quorum",
    "nodelist": "nodelist",
    "nodelist.node": "node",
    "resources": "resources",
    "resources.system": "poll",
    "resources.process": "poll",
    "resources.system.memory_used": "poll",
    "resources.process.memory_used": "poll",
}
_STRTOLL = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+)")
_NAME_CHARS = re.compile(r"[a-zA-Z0-9._/:-]*")


def c_integer(value: str, low: int, high: int) -> int | None:
    """``value`` as corosync's ``safe_atoq`` reads it (strtoll: decimal, optional sign,
    nothing after it) if within ``low..high``; else None."""
    match = _STRTOLL.fullmatch(value)
    if match is None:
        return None
    number = int(match[1])
    return number if low <= number <= high and -(2**63) <= number < 2**63 else None


def c_unsigned_long_long(value: str) -> int | None:
    """``value`` as corosync's ``str_to_ull`` reads it (strtoull: ``-1`` wraps around)."""
    match = _STRTOLL.fullmatch(value)
    if match is None or abs(int(match[1])) >= 2**64:
        return None
    return int(match[1]) % 2**64


def value_problem(key: str, value: str) -> str | None:
    """What corosync's parser says of ``value`` for the CMAP key ``key`` (None: it takes it).

    Covers the numbers and fixed words of the sections corosync reads them in: ``totem``,
    ``quorum``, ``system``, ``totem.interface.<L>`` and ``nodelist.node.<N>``.
    """
    parts = key.split(".")
    bounds = _NUMBERS.get(key)
    if len(parts) == 4 and parts[:2] == ["totem", "interface"]:
        bounds = _INTERFACE_NUMBERS.get(parts[3])
    elif len(parts) == 4 and parts[:2] == ["nodelist", "node"]:
        bounds = UINT32 if parts[3] in ("nodeid", "quorum_votes") else None
    if bounds is not None and c_integer(value, *bounds) is None:
        return (
            f'Value of key "{key}" is expected to be integer in range ({bounds[0]}..'
            f'{bounds[1]}), but "{value}" was given'
        )
    if key == "totem.config_version" and c_unsigned_long_long(value) is None:
        return f'Value of key "{key}" is expected to be an unsigned 64-bit integer'
    if key in _WORDS and value not in _WORDS[key][0]:
        return f"{_WORDS[key][1]} (got '{value}')"
    return None


def valid_key_name(name: str) -> bool:
    """Whether CMAP takes ``name``: 3 to 255 characters of ``a-z A-Z 0-9 . _ - / :``."""
    return 3 <= len(name) <= 255 and _NAME_CHARS.fullmatch(name) is not None


@dataclass
class Resolved:
    """A tree as corosync stores it: every CMAP key with the line that sets it (the last
    one), where the nodes, links and logging subsystems are, and the values refused."""

    values: dict[str, Entry] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: nodelist.node.N -> the sections holding its keys.
    nodes: dict[int, list[Section]] = field(default_factory=dict)
    #: totem.interface.L -> the interface sections of link L.
    interfaces: dict[int, list[Section]] = field(default_factory=dict)
    #: logging.logger_subsys.NAME -> its sections.
    subsystems: dict[str, list[Section]] = field(default_factory=dict)

    def error(self, line: int, message: str, corosync: str | None = None) -> None:
        """Record a value corosync's parser refuses (``corosync`` defaults to ``message``)."""
        self.problems.append(
            Problem(
                line, Severity.ERROR, "parser", message, message if corosync is None else corosync
            )
        )

    def store(self, key: str, entry: Entry) -> None:
        """Store ``key`` as corosync would, refusing a name CMAP does not take."""
        if key not in self.values and not valid_key_name(key):
            self.error(
                entry.lineno,
                f'"{key}" is not a valid CMAP key name: 3 to 255 characters of a-z A-Z'
                " 0-9 . _ - / :",
                f'Can\'t store key "{key}" into icmap, returned error is CS_ERR_NAME_TOO_LONG',
            )
        self.values[key] = entry


@dataclass
class _Scratch:
    # coroparse's struct main_cp_cb_data: one for the whole file, as in C.
    node_number: int = 0
    linknumber: int = 0
    deferred: dict[str, Entry] = field(default_factory=dict)
    members: list[Entry] = field(default_factory=list)
    subsys: Entry | None = None
    name: Entry | None = None
    items: list[Entry] = field(default_factory=list)


def resolve(root: Section) -> Resolved:
    """Store ``root``'s keys as corosync does; see the module's description."""
    out = Resolved()
    _walk(root, "normal", _Scratch(), out)
    return out


def _walk(section: Section, state: str, data: _Scratch, out: Resolved) -> None:
    for item in section.items:
        if isinstance(item, Entry):
            path = f"{section.path}.{item.key}" if not section.is_root else item.key
            _item(item, path, state, data, out)
        elif isinstance(item, Section):
            inner = _STATES.get(item.path, state)
            if inner == "interface" and item.path == "totem.interface":
                data.linknumber, data.members = 0, []
                data.deferred = {
                    k: v
                    for k, v in data.deferred.items()
                    if k not in _INTERFACE_NUMBERS and k != "knet_transport"
                }
            elif item.path in ("logging.logger_subsys", "logging.logging_daemon"):
                data.subsys, data.name, data.items = None, None, []
            elif item.path == "nodelist":
                data.node_number = 0
            if item.path == "nodelist.node":
                out.nodes.setdefault(data.node_number, []).append(item)
            _walk(item, inner, data, out)
            _end(item, inner, data, out)


def _number(entry: Entry, name: str, bounds: tuple[int, int], out: Resolved) -> int | None:
    number = c_integer(entry.value, *bounds)
    if number is None:
        text = (
            f'Value of key "{name}" is expected to be integer in range'
            f' ({bounds[0]}..{bounds[1]}), but "{entry.value}" was given'
        )
        hint = " (a comment needs a line of its own)" if "#" in entry.value else ""
        out.error(entry.lineno, text + hint, text)
    return number


def _item(entry: Entry, path: str, state: str, data: _Scratch, out: Resolved) -> None:
    key = entry.key
    if state == "node":
        name = f"nodelist.node.{data.node_number}.{key}"
        if key in ("nodeid", "quorum_votes"):
            _number(entry, name, UINT32, out)
        out.store(name, entry)
    elif (
        state == "interface"
        and path.startswith("totem.interface.")
        and (path.count(".") == 2 and (key in _INTERFACE_NUMBERS or key in INTERFACE_KEYS))
    ):
        bounds = _INTERFACE_NUMBERS.get(key)
        number = _number(entry, path, bounds, out) if bounds else None
        if key == "linknumber":
            data.linknumber = data.linknumber if number is None else number
        else:
            data.deferred[key] = entry
    elif state in ("subsys", "daemon"):
        if key == "subsys":
            data.subsys = entry
        elif key == "name" and state == "daemon":
            data.name = entry
        else:
            data.items.append(entry)
    elif state == "uidgid":
        if key in ("uid", "gid"):
            out.store(f"uidgid.config.{key}.{entry.value}", entry)
        else:
            out.error(entry.lineno, "uidgid: Only uid and gid are allowed items")
    elif state == "member":
        if key == "memberaddr":
            data.members.append(entry)
        else:
            out.error(entry.lineno, "Only memberaddr is allowed in member section")
    else:
        _plain(entry, path, state, out)


def _plain(entry: Entry, path: str, state: str, out: Resolved) -> None:
    if state in ("totem", "quorum") and path in _NUMBERS:
        _number(entry, path, _NUMBERS[path], out)
    elif (state == "totem" and path == "totem.config_version") or (
        state == "poll" and entry.key == "poll_period"
    ):
        if c_unsigned_long_long(entry.value) is None:
            # corosync 3.1.7 has no range to quote for a 64-bit key and aborts instead.
            out.error(
                entry.lineno,
                f'Value of key "{path}" is expected to be an unsigned 64-bit integer,'
                f' but "{entry.value}" was given (corosync 3.1.7 aborts on it)',
                "Assertion `safe_atoq_range(val_type, &min_val, &max_val) == 0' failed.",
            )
    elif state == "resources" and entry.key == "watchdog_timeout":
        _number(entry, path, UINT32, out)
    elif state in ("totem", "system") and path in _WORDS:
        words, message = _WORDS[path]
        if entry.value not in words:
            out.error(entry.lineno, f"{message} (got '{entry.value}')", message)
    out.store(path, entry)


def _end(section: Section, state: str, data: _Scratch, out: Resolved) -> None:
    if state == "interface":
        link = data.linknumber
        if section.path == "totem.interface":
            out.interfaces.setdefault(link, []).append(section)
        for key in INTERFACE_KEYS:
            if key in data.deferred:
                out.store(f"totem.interface.{link}.{key}", data.deferred[key])
        for i, member in enumerate(reversed(data.members)):  # qb_list_add() prepends
            out.store(f"totem.interface.{link}.member.{i}", member)
        for key in ("bindnetaddr", "mcastaddr", "broadcast"):
            data.deferred.pop(key, None)
        data.members = []
    elif state == "subsys":
        if data.subsys is None:
            out.error(section.end_lineno, "No subsys key in logger_subsys directive")
            return
        name = data.subsys.value
        out.subsystems.setdefault(name, []).append(section)
        for entry in reversed(data.items):  # qb_list_add() prepends: the first one wins
            out.store(f"logging.logger_subsys.{name}.{entry.key}", entry)
        out.store(f"logging.logger_subsys.{name}.subsys", data.subsys)
    elif state == "daemon":
        if data.name is None:
            out.error(section.end_lineno, "No name key in logging_daemon directive")
            return
        daemon, subsys = data.name.value, data.subsys
        if daemon == "corosync":
            base = "logging" if subsys is None else f"logging.logger_subsys.{subsys.value}"
        else:
            base = f"logging.logging_daemon.{daemon}" + (f".{subsys.value}" if subsys else "")
        for entry in reversed(data.items):
            out.store(f"{base}.{entry.key}", entry)
        if subsys is not None:
            out.store(f"{base}.subsys", subsys)
        if daemon != "corosync":
            out.store(f"{base}.name", data.name)
    elif state == "node":
        data.node_number += 1
