"""votequorum's checks of ``quorum`` (``votequorum_readconfig`` in exec/votequorum.c,
corosync 3.1.7) and of ``quorum.provider`` (exec/vsf_quorum.c).

``corosync -t`` does not run them: the quorum service reads its configuration when the
daemon starts, and then refuses to start ("configuration error: ...", logged at CRIT) for
the errors here. The warnings are features corosync switches off with a log message.
"""

from __future__ import annotations

import re

from .cmap import UINT8, UINT32, Resolved, c_integer
from .problem import Problem, Severity

__all__ = ["check_quorum"]


def check_quorum(resolved: Resolved) -> list[Problem]:
    """The problems votequorum finds in ``resolved`` when corosync starts."""
    values = resolved.values
    problems: list[Problem] = []

    def line(key: str) -> int:
        entry = values.get(f"quorum.{key}")
        return entry.lineno if entry is not None else 0

    def number(key: str, bounds: tuple[int, int] = UINT32) -> int:
        entry = values.get(key)
        found = None if entry is None else c_integer(entry.value, *bounds)
        return found or 0

    def error(at: str, message: str, corosync: str) -> None:
        problems.append(Problem(line(at), Severity.ERROR, "votequorum", message, corosync))

    def warning(at: str, message: str) -> None:
        problems.append(Problem(line(at), Severity.WARNING, "votequorum", message, None))

    provider = values.get("quorum.provider")
    if provider is None:
        return problems
    if provider.value not in ("corosync_votequorum", "corosync_ykd"):
        error(
            "provider",
            f"unknown quorum provider {provider.value!r}: corosync_votequorum is the one",
            "Invalid quorum provider",
        )
        return problems
    if provider.value != "corosync_votequorum":
        return problems
    indexes = {k.split(".")[2] for k in values if re.match(r"nodelist\.node\.[0-9]+\.", k)}
    node_votes = [
        number(f"nodelist.node.{i}.quorum_votes")
        if f"nodelist.node.{i}.quorum_votes" in values
        else 1
        for i in indexes
    ]
    nodes, votes = len(node_votes), sum(node_votes)
    expected = number("quorum.expected_votes")
    model = values.get("quorum.device.model")
    device = model is not None and model.value != ""
    device_votes = number("quorum.device.votes") if "quorum.device.votes" in values else -1
    two_node = bool(number("quorum.two_node", UINT8))
    wfa_given = "quorum.wait_for_all" in values
    wait_for_all = bool(number("quorum.wait_for_all", UINT8)) if wfa_given else two_node
    lms = bool(number("quorum.last_man_standing", UINT8))
    atb = bool(number("quorum.auto_tie_breaker", UINT8))
    downscale = bool(number("quorum.allow_downscale", UINT8))
    atb_node = values.get("quorum.auto_tie_breaker_node")

    prefix = "configuration error: "
    if not nodes and not expected:
        error(
            "provider",
            "votequorum needs a nodelist or quorum.expected_votes",
            prefix + "nodelist or quorum.expected_votes must be configured!",
        )
        return problems
    if two_node and device:
        error(
            "two_node",
            "two_node and a quorum device cannot be combined",
            prefix + "two_node and quorum device cannot be configured at the same time!",
        )
    if atb and atb_node is not None and not _valid_atb_node(atb_node.value):
        warning(
            "auto_tie_breaker_node",
            "auto_tie_breaker_node must be 'lowest', 'highest'"
            " or node ids separated by spaces: corosync disables auto_tie_breaker",
        )
        atb = False
    if not atb and atb_node is not None:
        warning(
            "auto_tie_breaker_node",
            "auto_tie_breaker_node means nothing without auto_tie_breaker: 1",
        )
    if two_node and atb:
        warning(
            "two_node",
            "two_node and auto_tie_breaker are not compatible: corosync disables two_node",
        )
        two_node = False
    if atb and votes % 2 and not wait_for_all:
        if lms:
            error(
                "auto_tie_breaker",
                "auto_tie_breaker with last_man_standing and an odd"
                " number of votes needs wait_for_all: 1",
                prefix + "auto_tie_breaker & last_man_standing not available in odd sized cluster",
            )
        else:
            warning(
                "auto_tie_breaker",
                "auto_tie_breaker with an odd number of votes needs"
                " wait_for_all: 1: corosync disables auto_tie_breaker",
            )
            atb = False
    for flag, name in (
        (lms, "last_man_standing"),
        (atb, "auto_tie_breaker"),
        (downscale, "allow_downscale"),
    ):
        if device and flag:
            error(
                name,
                f"a quorum device cannot be combined with {name}",
                f"{prefix}quorum.device is not compatible with {name}",
            )
    if device and device_votes == -1 and expected:
        error(
            "device.model",
            "quorum.device.votes is needed when quorum.expected_votes is set",
            prefix + "quorum.device.votes must be specified when quorum.expected_votes is set",
        )
    if device and device_votes == -1 and nodes and nodes != votes:
        error(
            "device.model",
            "quorum.device.votes is needed when a node has other than 1 vote",
            prefix + "quorum.device.votes must be specified when not all nodes votes 1",
        )
    if device_votes > 0 and expected and expected - device_votes < 2:
        error(
            "device.votes",
            "quorum.device.votes must be at least 2 below expected_votes",
            prefix + "quorum.device.votes is too high or expected_votes is too low",
        )
    if two_node and nodes not in (0, 2):
        warning(
            "two_node",
            f"two_node: 1 with {nodes} nodes: it means nothing beyond 2 nodes,"
            " but still turns wait_for_all on",
        )
    if lms and any(v != 1 for v in node_votes):
        warning("last_man_standing", "last_man_standing needs one vote per node (votequorum(5))")
    return problems


def _valid_atb_node(text: str) -> bool:
    # parse_atb_string(): "lowest", "highest", or a list strtol reads at least one id from.
    if text in ("lowest", "highest"):
        return True
    first = re.match(r"[ \t\n\v\f\r]*[+-]?[0-9]+", text)
    return first is not None and int(first[0]) != 0
