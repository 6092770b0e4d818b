"""Checking a whole ``corosync.conf``: :func:`validate`.

It gathers what corosync's parser refuses (:mod:`.cmap`), what its logging configuration
refuses (exec/logconfig.c, here), what totem refuses (:mod:`.totem_rules`), what votequorum
refuses when the daemon starts (:mod:`.quorum_rules`), and this package's own warnings
(component ``lint``): keys corosync knows nothing of (it keeps them in CMAP without a word:
``tokem: 5000`` is silently no token at all), keys given twice in a section (the last one
counts), sections given twice (corosync merges them), and keys outside any section.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from .cmap import INTERFACE_KEYS, Resolved
from .model import RING_ADDR
from .problem import Problem, Severity
from .quorum_rules import check_quorum
from .syntax import Entry, Section
from .totem_rules import check_totem

if TYPE_CHECKING:
    from .document import Config

__all__ = ["KNOWN_KEYS", "validate"]

_LOGGER_KEYS = (
    "to_stderr to_logfile to_syslog to_file logfile logfile_priority syslog_facility"
    " syslog_priority syslog_level debug"
)
#: The keys corosync 3.1 reads, by section (corosync.conf(5), votequorum(5)); the sections
#: left out (quorum.device, resources, nozzle, uidgid...) are not checked key by key.
KNOWN_KEYS: dict[str, frozenset[str]] = {
    name: frozenset(keys.split())
    for name, keys in {
        "totem": (
            "version clear_node_high_bit crypto_model crypto_hash crypto_cipher secauth keyfile"
            " key link_mode netmtu transport cluster_name config_version ip_version token"
            " token_warning token_coefficient token_retransmit knet_compression_model"
            " knet_compression_threshold knet_compression_level hold"
            " token_retransmits_before_loss_const join send_join consensus merge downcheck"
            " fail_recv_const seqno_unchanged_const heartbeat_failures_allowed"
            " max_network_delay window_size max_messages miss_count_const knet_pmtud_interval"
            " knet_mtu block_unlisted_ips cancel_token_hold_on_retransmit nodeid threads"
        ),
        "totem.interface": " ".join(("linknumber", *INTERFACE_KEYS)),
        "logging": "timestamp fileline function_name blackbox " + _LOGGER_KEYS,
        "logging.logger_subsys": "subsys " + _LOGGER_KEYS,
        "quorum": (
            "provider expected_votes votes two_node wait_for_all last_man_standing"
            " last_man_standing_window auto_tie_breaker auto_tie_breaker_node allow_downscale"
            " expected_votes_tracking leaving_timeout"
        ),
        "nodelist.node": "nodeid name quorum_votes",
        "system": (
            "qb_ipc_type sched_rr priority move_to_root_cgroup allow_knet_handle_fallback state_dir"
        ),
    }.items()
}
_KNOWN_SECTIONS = {
    "": {"totem", "logging", "quorum", "nodelist", "system", "resources", "nozzle", "uidgid"},
    "totem": {"interface"},
    "totem.interface": {"member"},
    "logging": {"logger_subsys", "logging_daemon"},
    "quorum": {"device"},
    "nodelist": {"node"},
}
_PRIORITIES = ("alert", "crit", "debug", "emerg", "err", "error", "info", "notice", "warning")
_FACILITIES = (
    "auth authpriv cron daemon ftp kern lpr mail news syslog user uucp local0 local1 local2"
    " local3 local4 local5 local6 local7"
).split()


def validate(config: Config) -> list[Problem]:
    """Every problem of ``config``, in line order (see :class:`~corosync.config.Problem`)."""
    resolved = config.resolved
    problems = [
        *resolved.problems,
        *_check_logging(resolved),
        *check_totem(resolved, config.root),
        *check_quorum(resolved),
        *_lint(config.root),
    ]
    return sorted(problems, key=lambda p: (p.line, p.severity is not Severity.ERROR))


def _check_logging(resolved: Resolved) -> list[Problem]:
    # corosync_main_config_read_logging(): "parse error in config: <reason>." for the first.
    problems: list[Problem] = []
    values = resolved.values

    def error(key: str, message: str, reason: str) -> None:
        problems.append(
            Problem(
                values[key].lineno,
                Severity.ERROR,
                "logging",
                message,
                f"parse error in config: {reason}.",
            )
        )

    def words(key: str, allowed: tuple[str, ...], reason: str) -> None:
        entry = values.get(key)
        if entry is not None and entry.value not in allowed:
            error(
                key,
                f"{key} must be {', '.join(allowed[:-1])} or {allowed[-1]}, not {entry.value!r}",
                reason,
            )

    words("logging.fileline", ("on", "off"), "unknown value for fileline")
    words("logging.function_name", ("on", "off"), "unknown value for function_name")
    words("logging.timestamp", ("on", "hires", "off"), "unknown value for timestamp")
    words("logging.blackbox", ("on", "off"), "unknown value for blackbox")
    loggers = ["logging"] + [f"logging.logger_subsys.{name}" for name in resolved.subsystems]
    for path in loggers:
        for key in ("to_stderr", "to_syslog", "to_file", "to_logfile"):
            words(f"{path}.{key}", ("yes", "no", "on", "off"), f"unknown value for {key}")
        facility = values.get(f"{path}.syslog_facility")
        if facility is not None and facility.value not in _FACILITIES:
            error(
                f"{path}.syslog_facility",
                f"{path}.syslog_facility must be one of {', '.join(_FACILITIES)}",
                "unknown syslog facility specified",
            )
        for key, what in (
            ("syslog_level", "syslog level"),
            ("syslog_priority", "syslog priority"),
            ("logfile_priority", "logfile priority"),
        ):
            entry = values.get(f"{path}.{key}")
            if entry is not None and entry.value.lower() not in _PRIORITIES:
                error(
                    f"{path}.{key}",
                    f"{path}.{key} must be one of {', '.join(_PRIORITIES)}",
                    f"unknown {what} specified",
                )
        words(f"{path}.debug", ("trace", "on", "off"), "unknown value for debug")
        for old, new in (("to_file", "to_logfile"), ("syslog_level", "syslog_priority")):
            if f"{path}.{old}" in values:
                problems.append(
                    Problem(
                        values[f"{path}.{old}"].lineno,
                        Severity.WARNING,
                        "logging",
                        f"{old} is obsolete: use {new}",
                        None,
                    )
                )
    return problems


def _lint(root: Section) -> list[Problem]:
    problems: list[Problem] = []

    def warn(line: int, message: str) -> None:
        problems.append(Problem(line, Severity.WARNING, "lint", message, None))

    for item in (root, *root.walk()):
        if not isinstance(item, Section):
            continue
        path = item.path
        seen: dict[str, Entry] = {}
        for entry in item.entries():
            if entry.key in seen:
                warn(
                    entry.lineno,
                    f"{entry.key} is given again (line {seen[entry.key].lineno}):"
                    " corosync keeps the last one",
                )
            seen[entry.key] = entry
            known = KNOWN_KEYS.get(path)
            if item.is_root:
                warn(entry.lineno, f"{entry.key} is outside any section")
            elif (
                known is not None
                and entry.key not in known
                and not (path == "nodelist.node" and RING_ADDR.fullmatch(entry.key))
            ):
                close = difflib.get_close_matches(entry.key, sorted(known), 1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                warn(
                    entry.lineno,
                    f"corosync knows no key {entry.key} in {path}{hint}: it"
                    " stores it and nothing reads it",
                )
        names = [s.name for s in item.sections()]
        expected = _KNOWN_SECTIONS.get(path)
        for section in item.sections():
            if expected is not None and section.name not in expected:
                warn(
                    section.lineno,
                    f"corosync knows no section {section.name!r} here: it"
                    " stores its keys and nothing reads them",
                )
            repeatable = section.name in (
                "node",
                "logger_subsys",
                "logging_daemon",
                "interface",
                "member",
            )
            if (
                not repeatable
                and names.count(section.name) > 1
                and (section is item.sections(section.name)[-1])
            ):
                first = item.sections(section.name)[0]
                warn(
                    section.lineno,
                    f"section {section.name} is given again (line"
                    f" {first.lineno}): corosync merges them key by key",
                )
    return problems
