"""Node and link status, configuration reload, node kill and shutdown coordination
(corosync's CFG service, ``cfg.h``): what ``corosync-cfgtool`` shows and does, typed.

:class:`CFG` answers :meth:`~CFG.node_status` (knet's view of a node and each of its
links), :meth:`~CFG.node_addrs` and :attr:`~CFG.local_nodeid` at any time. After
:meth:`~CFG.trackstart` its ``on_shutdown(flags)`` runs inside ``dispatch()`` when a shutdown
of this node is asked for; a REQUEST waits for every tracking client's
:meth:`~CFG.reply_to_shutdown`.
"""

from __future__ import annotations

from dataclasses import dataclass

from corosync._corosync import CFG, ShutdownFlags, ShutdownReply

__all__ = [
    "CFG",
    "LinkStatus",
    "NodeStatus",
    "RingStatus",
    "ShutdownFlags",
    "ShutdownReply",
    "ShutdownRequest",
]


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """One knet link to a node, as this node sees it (``corosync_knet_link_status_v1``)."""

    #: The link number (``linknumber`` in corosync.conf, 0 to 7).
    link: int
    #: Configured and administratively enabled.
    enabled: bool
    #: Connected for data.
    connected: bool
    #: Activated by the remote end's dynamic address.
    dynconnected: bool
    mtu: int
    #: This node's address on the link, and the node's, as corosync prints them.
    src: str
    dst: str


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """A node's knet status (``corosync_cfg_node_status_get``, version 1)."""

    nodeid: int
    reachable: bool
    remote: bool
    external: bool
    onwire_min: int
    onwire_max: int
    onwire_ver: int
    #: The configured links only, by link number.
    links: list[LinkStatus]


@dataclass(frozen=True, slots=True)
class RingStatus:
    """One link's name and status text (``corosync_cfg_ring_status_get``)."""

    name: str
    status: str


@dataclass(frozen=True, slots=True)
class ShutdownRequest:
    """A shutdown being asked for (the ``on_shutdown`` callback; corosync.aio yields it)."""

    flags: ShutdownFlags
