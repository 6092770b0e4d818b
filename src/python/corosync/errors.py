"""Exceptions raised by the corosync binding.

Every failed corosync call raises a :class:`CorosyncError` subclass chosen by its
``cs_error_t`` code (``.code``), naming the C function that failed (``.function``) and
carrying corosync's own text for the code. Where a builtin exception fits, the subclass
derives from it too, so ``except ConnectionError`` catches a lost daemon.
"""

from __future__ import annotations

import builtins

from corosync._corosync import CsError

# TimeoutError is left out: a star import would shadow the builtin (import it by name).
__all__ = [
    "AccessError",
    "BadFlagsError",
    "BadHandleError",
    "BadOperationError",
    "BusyError",
    "ClosedError",
    "ContextNotFoundError",
    "CorosyncError",
    "CsError",
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
    "SecurityError",
    "TooBigError",
    "TooManyGroupsError",
    "TryAgainError",
    "VersionError",
    "error_class",
]


class CorosyncError(Exception):
    """A corosync call failed: the base of every class here.

    ``code`` is the :class:`CsError` corosync returned and ``function`` the C call that
    returned it (e.g. ``"cpg_join"``).
    """

    code: CsError
    function: str

    def __init__(self, message: str, *, code: int | CsError, function: str) -> None:
        super().__init__(message)
        self.code = _as_cs_error(code)
        self.function = function

    def __str__(self) -> str:
        # KeyError (a base of NotExistError) would otherwise print the message quoted.
        return str(self.args[0]) if self.args else ""


def _as_cs_error(code: int | CsError) -> CsError:
    try:
        return CsError(code)
    except ValueError:
        return CsError.LIBRARY


class LibraryError(CorosyncError, ConnectionError):
    """CS_ERR_LIBRARY: no corosync is reachable from this process (not running, or in another
    network namespace), or the connection to it was lost; a handle that saw it is good only for
    ``close()``."""


class VersionError(CorosyncError):
    """CS_ERR_VERSION."""


class InitError(CorosyncError):
    """CS_ERR_INIT."""


class TimeoutError(CorosyncError, builtins.TimeoutError):
    """CS_ERR_TIMEOUT: corosync gave up waiting. Import it by name (``corosync.TimeoutError``):
    a star import leaves it out, which would shadow the builtin."""


class TryAgainError(CorosyncError):
    """CS_ERR_TRY_AGAIN still answered when the handle's ``retry_timeout`` ran out: corosync
    syncing after a membership change, flow control, a CPG's full send window (at once with
    ``retry_timeout=0``). After ``mcast_many``, ``sent`` says how many messages went."""


class InvalidParamError(CorosyncError, ValueError):
    """CS_ERR_INVALID_PARAM: an argument corosync refuses, checked before it is asked where the
    binding can: a CMAP key name with a character corosync does not allow, a SAM interval,
    policy or signal, a quorum device's name other than the registered one."""


class NoMemoryError(CorosyncError, MemoryError):
    """CS_ERR_NO_MEMORY: corosync or its client library ran out of memory."""


class BadHandleError(CorosyncError):
    """CS_ERR_BAD_HANDLE: a SAM call in the wrong state (the message names the state); the
    base of :class:`ClosedError`."""


class BusyError(CorosyncError):
    """CS_ERR_BUSY: a CPG join of a group whose leave was not dispatched yet; a CFG shutdown
    request that a tracking client refused."""


class AccessError(CorosyncError, PermissionError):
    """CS_ERR_ACCESS: corosync refused this process's user (the message names its uid and gid
    and how ``uidgid`` grants access), a write to a read-only CMAP key, or a write to the
    statistics map other than to ``stats.clear.*``."""


class NotExistError(CorosyncError, KeyError):
    """CS_ERR_NOT_EXIST: a CMAP key that is not there, a CPG message to a group the handle has
    not joined, a call for a quorum device that is not registered, ``Votequorum.trackstop()``
    without tracking."""


class NameTooLongError(CorosyncError, ValueError):
    """CS_ERR_NAME_TOO_LONG: a CPG group name over 128 bytes, a CMAP key name over 255."""


class ExistError(CorosyncError):
    """CS_ERR_EXIST: joining a CPG group that this handle, or another handle of this process,
    joined; registering a quorum device while another is registered."""


class NoSpaceError(CorosyncError):
    """CS_ERR_NO_SPACE."""


class InterruptError(CorosyncError):
    """CS_ERR_INTERRUPT."""


class NameNotFoundError(CorosyncError):
    """CS_ERR_NAME_NOT_FOUND."""


class NoResourcesError(CorosyncError):
    """CS_ERR_NO_RESOURCES."""


class NotSupportedError(CorosyncError):
    """CS_ERR_NOT_SUPPORTED: a write to a ``stats.clear.*`` key that corosync does not know."""


class BadOperationError(CorosyncError):
    """CS_ERR_BAD_OPERATION."""


class FailedOperationError(CorosyncError):
    """CS_ERR_FAILED_OPERATION."""


class MessageError(CorosyncError):
    """CS_ERR_MESSAGE_ERROR: a quorum device's poll with another ring id than the current one."""


class QueueFullError(CorosyncError):
    """CS_ERR_QUEUE_FULL."""


class QueueNotAvailableError(CorosyncError):
    """CS_ERR_QUEUE_NOT_AVAILABLE."""


class BadFlagsError(CorosyncError):
    """CS_ERR_BAD_FLAGS."""


class TooBigError(CorosyncError, ValueError):
    """CS_ERR_TOO_BIG: a CMAP value over 16 KiB, a CPG message of 4 GiB or more, refused
    before anything is sent."""


class NoSectionsError(CorosyncError):
    """CS_ERR_NO_SECTIONS: a corosync iteration has nothing more; the binding's iterators end
    there instead of raising it."""


class ContextNotFoundError(CorosyncError):
    """CS_ERR_CONTEXT_NOT_FOUND."""


class TooManyGroupsError(CorosyncError):
    """CS_ERR_TOO_MANY_GROUPS."""


class SecurityError(CorosyncError):
    """CS_ERR_SECURITY."""


class ClosedError(BadHandleError, ValueError):
    """A method was called on a handle after ``close()``, or in a forked child on its
    parent's handle (code ``BAD_HANDLE``)."""


_BY_CODE: dict[CsError, type[CorosyncError]] = {
    CsError.LIBRARY: LibraryError,
    CsError.VERSION: VersionError,
    CsError.INIT: InitError,
    CsError.TIMEOUT: TimeoutError,
    CsError.TRY_AGAIN: TryAgainError,
    CsError.INVALID_PARAM: InvalidParamError,
    CsError.NO_MEMORY: NoMemoryError,
    CsError.BAD_HANDLE: BadHandleError,
    CsError.BUSY: BusyError,
    CsError.ACCESS: AccessError,
    CsError.NOT_EXIST: NotExistError,
    CsError.NAME_TOO_LONG: NameTooLongError,
    CsError.EXIST: ExistError,
    CsError.NO_SPACE: NoSpaceError,
    CsError.INTERRUPT: InterruptError,
    CsError.NAME_NOT_FOUND: NameNotFoundError,
    CsError.NO_RESOURCES: NoResourcesError,
    CsError.NOT_SUPPORTED: NotSupportedError,
    CsError.BAD_OPERATION: BadOperationError,
    CsError.FAILED_OPERATION: FailedOperationError,
    CsError.MESSAGE_ERROR: MessageError,
    CsError.QUEUE_FULL: QueueFullError,
    CsError.QUEUE_NOT_AVAILABLE: QueueNotAvailableError,
    CsError.BAD_FLAGS: BadFlagsError,
    CsError.TOO_BIG: TooBigError,
    CsError.NO_SECTIONS: NoSectionsError,
    CsError.CONTEXT_NOT_FOUND: ContextNotFoundError,
    CsError.TOO_MANY_GROUPS: TooManyGroupsError,
    CsError.SECURITY: SecurityError,
}


def error_class(code: int) -> type[CorosyncError]:
    """The exception class for a ``cs_error_t`` code (``CorosyncError`` for unknown ones)."""
    try:
        return _BY_CODE[CsError(code)]
    except ValueError:
        return CorosyncError
    except KeyError:
        return CorosyncError
