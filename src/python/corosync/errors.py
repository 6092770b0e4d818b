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
    """A corosync call failed.

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
    """CS_ERR_LIBRARY: the daemon is not running or the connection to it was lost."""


class VersionError(CorosyncError):
    """CS_ERR_VERSION."""


class InitError(CorosyncError):
    """CS_ERR_INIT."""


class TimeoutError(CorosyncError, builtins.TimeoutError):
    """CS_ERR_TIMEOUT."""


class TryAgainError(CorosyncError):
    """CS_ERR_TRY_AGAIN still returned when the handle's ``retry_timeout`` ran out."""


class InvalidParamError(CorosyncError, ValueError):
    """CS_ERR_INVALID_PARAM."""


class NoMemoryError(CorosyncError, MemoryError):
    """CS_ERR_NO_MEMORY."""


class BadHandleError(CorosyncError):
    """CS_ERR_BAD_HANDLE."""


class BusyError(CorosyncError):
    """CS_ERR_BUSY."""


class AccessError(CorosyncError, PermissionError):
    """CS_ERR_ACCESS: corosync refused the connection or the operation."""


class NotExistError(CorosyncError, KeyError):
    """CS_ERR_NOT_EXIST, e.g. a CMAP key that is not there."""


class NameTooLongError(CorosyncError, ValueError):
    """CS_ERR_NAME_TOO_LONG, e.g. a CPG group name over 128 bytes."""


class ExistError(CorosyncError):
    """CS_ERR_EXIST, e.g. joining a CPG group this handle already joined."""


class NoSpaceError(CorosyncError):
    """CS_ERR_NO_SPACE."""


class InterruptError(CorosyncError):
    """CS_ERR_INTERRUPT."""


class NameNotFoundError(CorosyncError):
    """CS_ERR_NAME_NOT_FOUND."""


class NoResourcesError(CorosyncError):
    """CS_ERR_NO_RESOURCES."""


class NotSupportedError(CorosyncError):
    """CS_ERR_NOT_SUPPORTED."""


class BadOperationError(CorosyncError):
    """CS_ERR_BAD_OPERATION."""


class FailedOperationError(CorosyncError):
    """CS_ERR_FAILED_OPERATION."""


class MessageError(CorosyncError):
    """CS_ERR_MESSAGE_ERROR."""


class QueueFullError(CorosyncError):
    """CS_ERR_QUEUE_FULL."""


class QueueNotAvailableError(CorosyncError):
    """CS_ERR_QUEUE_NOT_AVAILABLE."""


class BadFlagsError(CorosyncError):
    """CS_ERR_BAD_FLAGS."""


class TooBigError(CorosyncError, ValueError):
    """CS_ERR_TOO_BIG: a message or value larger than corosync carries."""


class NoSectionsError(CorosyncError):
    """CS_ERR_NO_SECTIONS: an iteration has nothing more."""


class ContextNotFoundError(CorosyncError):
    """CS_ERR_CONTEXT_NOT_FOUND."""


class TooManyGroupsError(CorosyncError):
    """CS_ERR_TOO_MANY_GROUPS."""


class SecurityError(CorosyncError):
    """CS_ERR_SECURITY."""


class ClosedError(BadHandleError, ValueError):
    """A method was called on a handle after ``close()`` (code ``BAD_HANDLE``)."""


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
