"""Votes, expected votes and quorum of the cluster, and the quorum-device API (corosync's
votequorum service, ``votequorum.h``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from corosync import _corosync
from corosync._corosync import (
    InfoFlag,
    NodeState,
    TrackFlags,
    Votequorum,
)
from corosync.types import RingId

__all__ = [
    "VOTEQUORUM_QDEVICE_MAX_NAME_LEN",
    "VOTEQUORUM_QDEVICE_NODEID",
    "ExpectedVotes",
    "InfoFlag",
    "NodeInfo",
    "NodeState",
    "NodeStatus",
    "TrackFlags",
    "Votequorum",
    "VotequorumNodelist",
    "VotequorumNotify",
]

#: The longest quorum device name, in bytes (``VOTEQUORUM_QDEVICE_MAX_NAME_LEN``).
VOTEQUORUM_QDEVICE_MAX_NAME_LEN: Final = _corosync.VOTEQUORUM_QDEVICE_MAX_NAME_LEN
#: The node id under which votequorum lists the quorum device (``VOTEQUORUM_QDEVICE_NODEID``).
VOTEQUORUM_QDEVICE_NODEID: Final = _corosync.VOTEQUORUM_QDEVICE_NODEID


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """What votequorum knows of one node (``struct votequorum_info``)."""

    nodeid: int
    #: A :class:`NodeState`, or the plain number of a state newer than this binding.
    state: NodeState | int
    votes: int
    expected_votes: int
    highest_expected: int
    total_votes: int
    quorum: int
    flags: InfoFlag
    qdevice_votes: int
    qdevice_name: str


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """A node in a votequorum quorum notification (``votequorum_node_t``)."""

    nodeid: int
    #: A :class:`NodeState`, or the plain number of a state newer than this binding.
    state: NodeState | int


@dataclass(frozen=True, slots=True)
class VotequorumNotify:
    """The cluster's quorum state (the ``on_notify`` callback; corosync.aio yields it)."""

    quorate: bool
    ring_id: RingId
    nodes: list[NodeStatus]


@dataclass(frozen=True, slots=True)
class VotequorumNodelist:
    """The nodes of a new ring (the ``on_nodelist`` callback; corosync.aio yields it)."""

    ring_id: RingId
    nodes: list[int]


@dataclass(frozen=True, slots=True)
class ExpectedVotes:
    """The expected votes changed (``on_expectedvotes``; corosync.aio yields it)."""

    expected_votes: int
