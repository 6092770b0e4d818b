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

from corosync._corosync import CPG, CPG_MAX_NAME_LENGTH, Guarantee, Reason

__all__ = ["CPG", "CPG_MAX_NAME_LENGTH", "Address", "GroupMember", "Guarantee", "Reason"]


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
