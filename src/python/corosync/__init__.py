"""Typed Python binding to the Corosync cluster engine.

Services: :class:`CPG` (process groups). Every handle connects on construction, closes with
``close()`` or ``with``, exposes ``fileno()`` for event loops and runs its callbacks inside
``dispatch()``. Failures raise :class:`CorosyncError` subclasses (see :mod:`corosync.errors`).
"""

from __future__ import annotations

from corosync._corosync import CPG, DispatchFlags
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
    TimeoutError,
    TooBigError,
    TooManyGroupsError,
    TryAgainError,
    VersionError,
)
from corosync.types import RingId

__all__ = [
    "CPG",
    "AccessError",
    "BadFlagsError",
    "BadHandleError",
    "BadOperationError",
    "BusyError",
    "ClosedError",
    "ContextNotFoundError",
    "CorosyncError",
    "CsError",
    "DispatchFlags",
    "ExistError",
    "FailedOperationError",
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
    "NotExistError",
    "NotSupportedError",
    "QueueFullError",
    "QueueNotAvailableError",
    "RingId",
    "SecurityError",
    "TimeoutError",
    "TooBigError",
    "TooManyGroupsError",
    "TryAgainError",
    "VersionError",
]
