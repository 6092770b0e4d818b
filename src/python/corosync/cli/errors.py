"""Exit statuses of the command line, and the one line it prints for a failure."""

from __future__ import annotations

from corosync.errors import CorosyncError, LibraryError

__all__ = ["EXIT_ERROR", "EXIT_NOT_QUORATE", "EXIT_OK", "CliError", "describe"]

#: Success (for ``status`` and ``quorum status``: this node is quorate).
EXIT_OK = 0
#: Any failure: corosync not reachable, a call it refused, a missing key, a bad argument.
EXIT_ERROR = 1
#: ``status`` and ``quorum status`` only: the command worked and this node is not quorate
#: (what ``corosync-quorumtool -s`` answers).
EXIT_NOT_QUORATE = 2


class CliError(Exception):
    """A failure the command line reports as one line on stderr, exiting with EXIT_ERROR."""


def describe(error: BaseException) -> str:
    """The one line that tells the user what went wrong."""
    if isinstance(error, LibraryError):
        if "initialize" in error.function:
            # The binding's own hint is missing for some services (cmap_initialize_map) and
            # is a paragraph for the others: one line of our own for every service.
            return (
                f"corosync is not reachable ({error.function}: CS_ERR_LIBRARY): is corosync "
                "running in this network namespace, and may this user connect to it?"
            )
        return f"lost the connection to corosync: {error}"
    if isinstance(error, CorosyncError | CliError | OSError):
        return str(error)
    return f"{type(error).__name__}: {error} (run with --debug for a traceback)"
