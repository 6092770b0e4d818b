"""Closed process groups (corosync's CPG service, ``cpg.h``).

A message multicast to a group reaches every member, in one total order across the
cluster; membership changes arrive in the same order as the messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from corosync._corosync import CPG, Guarantee, Reason

__all__ = ["CPG", "CPG_MAX_NAME_LENGTH", "Address", "GroupMember", "Guarantee", "Reason"]

#: The longest group name corosync accepts, in bytes (``CPG_MAX_NAME_LENGTH``).
CPG_MAX_NAME_LENGTH = 128


@dataclass(frozen=True, slots=True)
class Address:
    """A group member (``struct cpg_address``); ``reason`` says why it joined or left."""

    nodeid: int
    pid: int
    reason: Reason


@dataclass(frozen=True, slots=True)
class GroupMember:
    """One member of one group as listed by ``CPG.groups()`` (cpg_iteration)."""

    group: str | bytes
    nodeid: int
    pid: int
