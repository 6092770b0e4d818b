"""Whether this node's partition is quorate, and its membership (corosync's quorum service,
``quorum.h``).

:class:`Quorum` answers :attr:`~Quorum.quorate` at any time; after
:meth:`~Quorum.trackstart` its ``on_notify(quorate, ring_id, members)`` and
``on_nodelist(ring_id, members, joined, left)`` run inside ``dispatch()`` for every ring.
"""

from __future__ import annotations

from corosync._corosync import Quorum, QuorumType, TrackFlags

__all__ = ["Quorum", "QuorumType", "TrackFlags"]
