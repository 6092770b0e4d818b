"""Value types shared by several corosync services."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RingId"]


@dataclass(frozen=True, slots=True)
class RingId:
    """A totem ring's identity: the node that formed it and its sequence number."""

    nodeid: int
    seq: int
