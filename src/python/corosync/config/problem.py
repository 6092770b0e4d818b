"""What :meth:`Config.validate <corosync.config.Config.validate>` finds: :class:`Problem`.

A problem is an **error** when corosync 3.1 refuses the file: ``corosync -t`` does for every
error of the components ``parser`` (exec/coroparse.c), ``logging`` (exec/logconfig.c) and
``totem`` (exec/totemconfig.c), and the daemon itself, at startup, for those of
``votequorum`` (exec/votequorum.c), which ``corosync -t`` does not run. A **warning** is
something corosync accepts but that is most likely not what was meant: a key it silently
ignores, a duplicate that overrides an earlier line, a feature it switches off with a log
message (component ``lint`` for those that are only this package's advice).

What depends on the machine rather than on the file is not checked: which node is the local
one, whether host names resolve, whether the log file's directory, the state directory, the
authkey file or a ``uidgid`` user exist, which crypto and compression models the installed
knet was built with.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["COROSYNC_T_COMPONENTS", "Problem", "Severity"]

#: The components whose errors ``corosync -t`` reports (it stops before loading services).
COROSYNC_T_COMPONENTS = frozenset({"parser", "logging", "totem"})


class Severity(StrEnum):
    """How bad a :class:`Problem` is."""

    #: corosync refuses the file (or, component ``votequorum``, refuses to start with it).
    ERROR = "error"
    #: corosync accepts the file, but probably not as meant.
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One finding of :meth:`Config.validate <corosync.config.Config.validate>`.

    ``line`` is the 1-based line it concerns (0: the file as a whole), ``component`` the part
    of corosync whose rule it is (``parser``, ``logging``, ``totem``, ``votequorum``, or
    ``lint``), ``message`` says what is wrong in words, and ``corosync_message`` is what
    corosync 3.1.7 prints for it (None where it prints nothing).
    """

    line: int
    severity: Severity
    component: str
    message: str
    corosync_message: str | None = None

    @property
    def refused_by_corosync_t(self) -> bool:
        """Whether ``corosync -t`` refuses a file with this problem."""
        return self.severity is Severity.ERROR and self.component in COROSYNC_T_COMPONENTS

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}: {self.severity}: {self.message}"
