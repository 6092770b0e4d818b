"""Closed process groups (corosync's CPG service, ``cpg.h``).

A message multicast to a group reaches every member, in one total order across the
cluster; membership changes arrive in the same order as the messages.

Group names are bytes to corosync (at most :data:`CPG_MAX_NAME_LENGTH`). A ``str`` is sent
as its UTF-8 encoding; a name is given back as ``str`` whenever it is valid UTF-8 and as
``bytes`` otherwise, however it was joined. Both directions are lossless: ``join(b"x")``
is reported as ``"x"``, and ``"x".encode()`` is ``b"x"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from corosync import _corosync
from corosync._corosync import CPG, Guarantee, Reason
from corosync.types import RingId

__all__ = [
    "CPG",
    "CPG_MAX_NAME_LENGTH",
    "Address",
    "ConfChg",
    "Deliver",
    "GroupMember",
    "Guarantee",
    "Reason",
    "TotemConfChg",
]

#: The longest group name corosync takes, in bytes (``CPG_MAX_NAME_LENGTH``, ``cpg.h``).
CPG_MAX_NAME_LENGTH: Final = _corosync.CPG_MAX_NAME_LENGTH


@dataclass(frozen=True, slots=True)
class Address:
    """A group member (``struct cpg_address``); ``reason`` says why it joined or left."""

    nodeid: int
    pid: int
    #: A :class:`Reason`, or the plain number of a reason newer than this binding.
    reason: Reason | int


@dataclass(frozen=True, slots=True)
class GroupMember:
    """One member of one group as listed by ``CPG.groups()`` (cpg_iteration)."""

    group: str | bytes
    nodeid: int
    pid: int


# The events of a CPG as values (corosync.aio.events yields them): one per callback, with the
# callback's arguments as fields.


@dataclass(frozen=True, slots=True)
class Deliver:
    """A message multicast to a joined group (the ``on_deliver`` callback)."""

    group: str | bytes
    nodeid: int
    pid: int
    message: bytes


@dataclass(frozen=True, slots=True)
class ConfChg:
    """A joined group's membership changed (the ``on_confchg`` callback)."""

    group: str | bytes
    members: list[Address]
    left: list[Address]
    joined: list[Address]


@dataclass(frozen=True, slots=True)
class TotemConfChg:
    """The totem ring, the cluster's set of nodes, changed (``on_totem_confchg``)."""

    ring_id: RingId
    members: list[int]
