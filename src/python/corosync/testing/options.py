"""Votequorum settings of a test cluster: :class:`QuorumOptions` and :class:`QdeviceOptions`.

They become the ``quorum { ... }`` section of ``corosync.conf`` (:func:`quorum_settings`; and,
with per-node votes, ``nodelist.node.quorum_votes``), with the key names and meanings of
votequorum(5) and corosync-qdevice(8) of corosync 3.1. Every option left at its default is
left out of the file, so that corosync applies its own default, exactly as in a hand-written
config.

Besides rendering, this module checks a combination before any daemon starts, raising
``ValueError`` where corosync would refuse to start or would silently switch a requested
feature off (it logs that, and a test would then test something else than it says), and
predicts whether a set of members is quorate, which is what :class:`~corosync.testing.Cluster`
waits for.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "QdeviceOptions",
    "QuorumOptions",
    "check_settings",
    "expect_quorate",
    "qdevice_votes",
    "quorum_settings",
]

#: Largest value corosync reads into its 32-bit votequorum settings.
_UINT32_MAX = 2**32 - 1


def _check_flag(name: str, value: object, *, optional: bool = False) -> None:
    # bool only: 1 and "yes" are refused rather than guessed at, as corosync.conf has "1".
    if optional and value is None:
        return
    if not isinstance(value, bool):
        kind = "a bool or None" if optional else "a bool"
        raise TypeError(f"{name} must be {kind}, got {value!r}")


def _check_count(name: str, value: object, *, low: int, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        kind = "an int or None" if optional else "an int"
        raise TypeError(f"{name} must be {kind}, got {value!r}")
    if not low <= value <= _UINT32_MAX:
        raise ValueError(f"{name} must be between {low} and {_UINT32_MAX}, got {value}")


@dataclass(frozen=True)
class QuorumOptions:
    """Votequorum options of a test cluster (the ``quorum`` section, votequorum(5)).

    Pass one as ``Cluster(..., quorum=QuorumOptions(...))``. The defaults are corosync's
    own: plain majority of the votes, no special feature.

    * ``two_node``: a 2-node cluster stays quorate with one node (quorum is forced to 1);
      corosync then also turns ``wait_for_all`` on unless it is given as False. Only for a
      cluster of exactly 2 nodes, and not with ``auto_tie_breaker`` or a qdevice.
    * ``wait_for_all``: the cluster is quorate for the first time only once all nodes (all
      the expected votes) have been seen together. None leaves it out of the file, which
      means on with ``two_node`` and off otherwise; False writes ``wait_for_all: 0``.
    * ``last_man_standing``: after ``last_man_standing_window_ms`` (corosync's default
      10000) of a smaller membership, expected votes and quorum are recalculated down to it.
      Needs one vote per node (votequorum(5): "LMS does not work with asymmetric voting").
    * ``auto_tie_breaker``: an exact half of the votes is quorate if it holds the tie
      breaker node: ``auto_tie_breaker_node`` is ``"lowest"`` (corosync's default),
      ``"highest"`` or node ids in order of preference. With an odd number of votes it
      requires ``wait_for_all=True`` (corosync otherwise disables it).
    * ``allow_downscale``: expected votes decrease when nodes leave cleanly (corosync says:
      incomplete and unsupported); implies expected-votes tracking.
    * ``expected_votes_tracking``: the highest expected votes seen is kept in the state dir
      (``ev_tracking``) and used as a minimum after a restart.
    * ``expected_votes``: overrides the sum of the nodes' votes as the cluster's expected
      votes. Higher than that sum, the cluster can never become quorate on its own. Not with
      expected-votes tracking: corosync 3.1 then takes expected votes from the ``ev_tracking``
      file (0 at first, meaning the nodes' votes) and ignores ``expected_votes``.
    """

    two_node: bool = False
    wait_for_all: bool | None = None
    last_man_standing: bool = False
    last_man_standing_window_ms: int | None = None
    auto_tie_breaker: bool = False
    #: Stored as a tuple when given as a sequence of node ids.
    auto_tie_breaker_node: Literal["lowest", "highest"] | Sequence[int] | None = None
    allow_downscale: bool = False
    expected_votes_tracking: bool = False
    expected_votes: int | None = None

    def __post_init__(self) -> None:
        for name in (
            "two_node",
            "last_man_standing",
            "auto_tie_breaker",
            "allow_downscale",
            "expected_votes_tracking",
        ):
            _check_flag(name, getattr(self, name))
        _check_flag("wait_for_all", self.wait_for_all, optional=True)
        _check_count("expected_votes", self.expected_votes, low=1, optional=True)
        _check_count(
            "last_man_standing_window_ms", self.last_man_standing_window_ms, low=1, optional=True
        )
        if self.last_man_standing_window_ms is not None and not self.last_man_standing:
            raise ValueError("last_man_standing_window_ms needs last_man_standing=True")
        tie_breaker = self.auto_tie_breaker_node
        if tie_breaker is not None:
            if isinstance(tie_breaker, str):
                if tie_breaker not in ("lowest", "highest"):
                    raise ValueError(
                        "auto_tie_breaker_node must be 'lowest', 'highest' or a sequence of"
                        f" node ids, got {tie_breaker!r}"
                    )
            elif isinstance(tie_breaker, Sequence):
                ids = tuple(tie_breaker)
                for nodeid in ids:
                    _check_count("a node id in auto_tie_breaker_node", nodeid, low=1)
                if not ids or len(set(ids)) != len(ids):
                    raise ValueError(
                        f"auto_tie_breaker_node needs distinct node ids, got {list(ids)}"
                    )
                object.__setattr__(self, "auto_tie_breaker_node", ids)  # a list becomes a tuple
            else:
                raise TypeError(
                    "auto_tie_breaker_node must be 'lowest', 'highest', a sequence of node ids"
                    f" or None, got {tie_breaker!r}"
                )
            if not self.auto_tie_breaker:
                raise ValueError("auto_tie_breaker_node needs auto_tie_breaker=True")
        if self.expected_votes is not None and self.tracks_expected_votes:
            # votequorum_readconfig(): "if (ev_tracking) expected_votes = ev_tracking_barrier;"
            raise ValueError(
                "expected_votes is ignored by corosync while expected votes are tracked"
                " (allow_downscale or expected_votes_tracking)"
            )
        if self.two_node and self.auto_tie_breaker:
            # corosync logs that they are incompatible and drops two_node.
            raise ValueError("two_node and auto_tie_breaker cannot be combined")

    @property
    def effective_wait_for_all(self) -> bool:
        """Whether corosync runs with wait_for_all: as given, or else as ``two_node``."""
        return self.two_node if self.wait_for_all is None else self.wait_for_all

    @property
    def tracks_expected_votes(self) -> bool:
        """Whether corosync keeps an ``ev_tracking`` file (``allow_downscale`` implies it)."""
        return self.expected_votes_tracking or self.allow_downscale


_MODEL = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class QdeviceOptions:
    """A quorum device section (``quorum { device { ... } }``, corosync-qdevice(8)).

    With it, a program on a node can register a quorum device through the votequorum API
    (``votequorum_qdevice_register``, then ``votequorum_qdevice_poll`` with the current ring
    id at least every ``timeout_ms``) and its ``votes`` count toward quorum while it polls
    with ``cast_vote``. corosync itself needs only a non-empty ``model`` for that; the model's
    value matters to the corosync-qdevice daemon alone, and the default ``"python"`` names
    none of its models, so a real corosync-qdevice would not take the device over.

    * ``votes``: the device's votes. None lets corosync choose: number of nodes - 1, which it
      can do only when every node has one vote and ``expected_votes`` is not set (otherwise
      :class:`~corosync.testing.Cluster` refuses the combination, as corosync would).
    * ``timeout_ms``: how long a poll keeps the vote (corosync's default 10000).
    * ``sync_timeout_ms``: how long a membership change waits for the device's poll
      (corosync's default 30000).

    corosync refuses a device together with ``two_node``, ``last_man_standing``,
    ``auto_tie_breaker`` or ``allow_downscale``.
    """

    votes: int | None = None
    timeout_ms: int | None = None
    sync_timeout_ms: int | None = None
    model: str = "python"

    def __post_init__(self) -> None:
        _check_count("qdevice votes", self.votes, low=1, optional=True)
        _check_count("timeout_ms", self.timeout_ms, low=1, optional=True)
        _check_count("sync_timeout_ms", self.sync_timeout_ms, low=1, optional=True)
        if not isinstance(self.model, str):
            raise TypeError(f"model must be a str, got {self.model!r}")
        if not _MODEL.fullmatch(self.model):
            raise ValueError(
                f"model must be a non-empty word of letters, digits, '_', '.', '-', got"
                f" {self.model!r}"
            )


def check_settings(
    nodes: int,
    votes: Mapping[int, int] | None,
    quorum: QuorumOptions | None,
    qdevice: QdeviceOptions | None,
) -> dict[int, int]:
    """Check a cluster's votequorum settings together; return every node's votes.

    Raises TypeError for arguments of the wrong type, ValueError for combinations corosync
    refuses or would quietly change.
    """
    if quorum is not None and not isinstance(quorum, QuorumOptions):
        raise TypeError(f"quorum must be a QuorumOptions or None, got {quorum!r}")
    if qdevice is not None and not isinstance(qdevice, QdeviceOptions):
        raise TypeError(f"qdevice must be a QdeviceOptions or None, got {qdevice!r}")
    if votes is not None and not isinstance(votes, Mapping):
        raise TypeError(f"votes must be a mapping of node id to votes, got {votes!r}")
    everyone = range(1, nodes + 1)
    resolved = dict.fromkeys(everyone, 1)
    for nodeid, count in (votes or {}).items():
        if isinstance(nodeid, bool) or not isinstance(nodeid, int):
            raise TypeError(f"votes: node ids must be ints, got {nodeid!r}")
        if nodeid not in resolved:
            raise ValueError(f"votes: no node {nodeid} in a cluster of {nodes} (ids 1..{nodes})")
        _check_count(f"votes of node {nodeid}", count, low=0)
        resolved[nodeid] = count
    total = sum(resolved.values())
    if total == 0:
        raise ValueError("votes: the nodes need at least one vote between them")
    if total > _UINT32_MAX:
        raise ValueError(f"votes: {total} votes in all is more than corosync counts")
    q = quorum or QuorumOptions()
    if q.two_node and nodes != 2:
        raise ValueError(f"two_node needs a cluster of exactly 2 nodes, not {nodes}")
    if isinstance(q.auto_tie_breaker_node, tuple):
        strangers = [i for i in q.auto_tie_breaker_node if i not in resolved]
        if strangers:
            raise ValueError(
                f"auto_tie_breaker_node: no node {strangers[0]} in a cluster of {nodes}"
            )
    if q.auto_tie_breaker and total % 2 and q.wait_for_all is not True:
        # corosync: with last_man_standing a fatal configuration error, without it ATB is
        # disabled with a log message.
        raise ValueError(
            f"auto_tie_breaker with an odd number of votes ({total}) needs wait_for_all=True"
        )
    if q.last_man_standing and any(v != 1 for v in resolved.values()):
        raise ValueError("last_man_standing needs one vote per node (votequorum(5))")
    if qdevice is not None:
        for name in ("two_node", "last_man_standing", "auto_tie_breaker", "allow_downscale"):
            if getattr(q, name):
                raise ValueError(f"a qdevice cannot be combined with {name} (corosync refuses)")
        if qdevice.votes is None:
            if q.expected_votes is not None:
                raise ValueError("a qdevice needs votes= when expected_votes is set")
            if total != nodes:
                raise ValueError("a qdevice needs votes= when not every node has one vote")
            if nodes == 1:
                raise ValueError("a qdevice of a 1-node cluster needs votes= (nodes - 1 is 0)")
        elif q.expected_votes is not None and q.expected_votes - qdevice.votes < 2:
            raise ValueError(
                f"qdevice votes ({qdevice.votes}) must be at least 2 below expected_votes"
                f" ({q.expected_votes})"
            )
    return resolved


def qdevice_votes(votes: Mapping[int, int], qdevice: QdeviceOptions | None) -> int:
    """The votes corosync gives the quorum device: as configured, or nodes - 1; 0 without."""
    if qdevice is None:
        return 0
    return len(votes) - 1 if qdevice.votes is None else qdevice.votes


def quorum_settings(
    quorum: QuorumOptions | None, qdevice: QdeviceOptions | None
) -> list[tuple[str, str | int]]:
    """The keys of the ``quorum`` section (below ``quorum.``, without ``provider``) and their
    values, in the order they are written; options left at their default are left out."""
    settings: list[tuple[str, str | int]] = []
    q = quorum or QuorumOptions()
    if q.expected_votes is not None:
        settings.append(("expected_votes", q.expected_votes))
    for name in ("two_node", "wait_for_all", "last_man_standing"):
        value = getattr(q, name)
        if value is not None and (value or name == "wait_for_all"):
            settings.append((name, int(value)))
    if q.last_man_standing_window_ms is not None:
        settings.append(("last_man_standing_window", q.last_man_standing_window_ms))
    if q.auto_tie_breaker:
        settings.append(("auto_tie_breaker", 1))
    if isinstance(q.auto_tie_breaker_node, tuple):
        settings.append(("auto_tie_breaker_node", " ".join(map(str, q.auto_tie_breaker_node))))
    elif isinstance(q.auto_tie_breaker_node, str):
        settings.append(("auto_tie_breaker_node", q.auto_tie_breaker_node))
    for name in ("allow_downscale", "expected_votes_tracking"):
        if getattr(q, name):
            settings.append((name, 1))
    if qdevice is not None:
        settings.append(("device.model", qdevice.model))
        for key, value in (
            ("votes", qdevice.votes),
            ("timeout", qdevice.timeout_ms),
            ("sync_timeout", qdevice.sync_timeout_ms),
        ):
            if value is not None:
                settings.append((f"device.{key}", value))
    return settings


def expect_quorate(
    members: Collection[int],
    votes: Mapping[int, int],
    quorum: QuorumOptions | None,
    qdevice: QdeviceOptions | None,
    *,
    fresh: bool = False,
) -> bool | None:
    """Whether the nodes ``members`` form a quorate partition, as votequorum computes it
    from the configured settings; None where that depends on history the harness does not
    track.

    ``votes`` holds every node's votes. With ``fresh`` (every daemon just started from
    scratch) no quorum device has registered yet; otherwise one may be casting its votes.
    Runtime changes (``set_expected``, ``set_votes``, a reload) are not taken into account.
    """
    q = quorum or QuorumOptions()
    total = sum(votes.values())
    present = sum(votes[i] for i in members)
    device = qdevice_votes(votes, qdevice)
    if frozenset(members) != frozenset(votes):
        if (
            q.two_node
            or q.effective_wait_for_all
            or q.last_man_standing
            or q.auto_tie_breaker
            or q.tracks_expected_votes
            or qdevice is not None
            or (q.expected_votes is not None and q.expected_votes < total)
        ):
            return None
        expected = max(q.expected_votes or 0, total)
        return present >= (expected + 2) // 2
    # The whole cluster: expected votes rise to the votes present, device included.
    expected = max(q.expected_votes or total, total + device)
    outcomes = {_whole_quorate(q, len(votes), total, expected)}
    if device and not fresh:
        outcomes.add(_whole_quorate(q, len(votes) + 1, total + device, expected))
    return outcomes.pop() if len(outcomes) == 1 else None


def _whole_quorate(q: QuorumOptions, voters: int, present: int, expected: int) -> bool | None:
    # votequorum.c, are_we_quorate() and calculate_quorum(); "voters" counts the device.
    if q.effective_wait_for_all and present != expected:
        return False
    needed = max((expected + 2) // 2, (present + 2) // 2)
    if q.two_node and voters <= 2:
        needed = 1
    if present >= needed:
        return True
    if q.auto_tie_breaker and present == expected // 2:
        return None
    return False
