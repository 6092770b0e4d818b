"""Typed Python binding to the Corosync cluster engine.

Services: :class:`CPG` (process groups), with its types :class:`Address`,
:class:`GroupMember`, :class:`Guarantee` and :class:`Reason`; :class:`CMAP` (the
configuration and runtime database), with :class:`TypedValue`, :class:`ValueType`,
:class:`TrackEvent` and :class:`CmapMap`; :class:`Quorum` and :class:`Votequorum` (with
:class:`TrackFlags`, :class:`NodeInfo`, :class:`NodeStatus`, :class:`NodeState`,
:class:`InfoFlag`); :class:`CFG` (node and link status, reload, node kill, shutdown
coordination; :mod:`corosync.cfg` has its types); :mod:`corosync.sam` (a process that
corosync supervises and restarts: module functions). Every handle connects on construction,
closes with ``close()`` or ``with``, exposes ``fileno()`` for event loops and runs its
callbacks inside ``dispatch()``. Failures raise :class:`CorosyncError` subclasses
(see :mod:`corosync.errors`).
"""

from __future__ import annotations

# SAM is module functions (one per process): reached as corosync.sam, its names not copied
# to the top level.
from corosync import sam
from corosync._corosync import CPG, DispatchFlags, TrackFlags

# The version the compiled module was built as (pyproject.toml's, through CMake): the one
# place it is kept, and always that of the code that runs, installed or built in place.
from corosync._corosync import __version__ as __version__
from corosync.cfg import CFG, ShutdownFlags, ShutdownReply
from corosync.cmap import CMAP, CmapMap, TrackEvent, TypedValue, ValueType
from corosync.cpg import Address, GroupMember, Guarantee, Reason
from corosync.errors import (
    AccessError,
    BadFlagsError,
    BadHandleError,
    BadOperationError,
    BusyError,
    ClosedError,
    ContextNotFoundError,
    CorosyncError,
    CsError,
    ExistError,
    FailedOperationError,
    InitError,
    InterruptError,
    InvalidParamError,
    LibraryError,
    MessageError,
    NameNotFoundError,
    NameTooLongError,
    NoMemoryError,
    NoResourcesError,
    NoSectionsError,
    NoSpaceError,
    NotExistError,
    NotSupportedError,
    QueueFullError,
    QueueNotAvailableError,
    SecurityError,
    TooBigError,
    TooManyGroupsError,
    TryAgainError,
    VersionError,
)
from corosync.errors import (
    TimeoutError as TimeoutError,  # by name only: see __all__
)
from corosync.quorum import Quorum, QuorumType
from corosync.types import RingId
from corosync.votequorum import InfoFlag, NodeInfo, NodeState, NodeStatus, Votequorum

# TimeoutError is importable by name (corosync.TimeoutError) but left out of __all__: a
# star import would shadow the builtin TimeoutError, which it also derives from.
__all__ = [
    "CFG",
    "CMAP",
    "CPG",
    "AccessError",
    "Address",
    "BadFlagsError",
    "BadHandleError",
    "BadOperationError",
    "BusyError",
    "ClosedError",
    "CmapMap",
    "ContextNotFoundError",
    "CorosyncError",
    "CsError",
    "DispatchFlags",
    "ExistError",
    "FailedOperationError",
    "GroupMember",
    "Guarantee",
    "InfoFlag",
    "InitError",
    "InterruptError",
    "InvalidParamError",
    "LibraryError",
    "MessageError",
    "NameNotFoundError",
    "NameTooLongError",
    "NoMemoryError",
    "NoResourcesError",
    "NoSectionsError",
    "NoSpaceError",
    "NodeInfo",
    "NodeState",
    "NodeStatus",
    "NotExistError",
    "NotSupportedError",
    "QueueFullError",
    "QueueNotAvailableError",
    "Quorum",
    "QuorumType",
    "Reason",
    "RingId",
    "SecurityError",
    "ShutdownFlags",
    "ShutdownReply",
    "TooBigError",
    "TooManyGroupsError",
    "TrackEvent",
    "TrackFlags",
    "TryAgainError",
    "TypedValue",
    "ValueType",
    "VersionError",
    "Votequorum",
    "sam",
]
