"""Whether this node's partition is quorate, and its membership (corosync's quorum service,
``quorum.h``).

:class:`Quorum` answers :attr:`~Quorum.quorate` at any time; after
:meth:`~Quorum.trackstart` its ``on_notify(quorate, ring_id, members)`` and
``on_nodelist(ring_id, members, joined, left)`` run inside ``dispatch()`` for every ring.
"""

from __future__ import annotations

from dataclasses import dataclass

from corosync._corosync import Quorum, QuorumType, TrackFlags
from corosync.types import RingId

__all__ = ["Quorum", "QuorumNodelist", "QuorumNotify", "QuorumType", "TrackFlags"]


@dataclass(frozen=True, slots=True)
class QuorumNotify:
    """The quorum state of a ring (the ``on_notify`` callback; corosync.aio yields it)."""

    quorate: bool
    ring_id: RingId
    members: list[int]


@dataclass(frozen=True, slots=True)
class QuorumNodelist:
    """The nodes of a new ring (the ``on_nodelist`` callback; corosync.aio yields it)."""

    ring_id: RingId
    members: list[int]
    joined: list[int]
    left: list[int]
