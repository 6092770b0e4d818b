"""Network namespaces: entering one from the current thread, and running ``ip``.

``setns(2)`` changes the namespace of the calling *thread* only. That is exactly what
:func:`entered` relies on: a thread enters a node's namespace, opens a corosync client
handle there (libqb IPC uses abstract unix sockets, which belong to a network namespace),
switches back, and the handle keeps talking to that node's daemon.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shlex
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = [
    "CLONE_NEWNET",
    "NETNS_DIR",
    "CommandError",
    "entered",
    "exec_argv",
    "exists",
    "inode",
    "ip",
    "run",
    "setns",
]

#: ``CLONE_NEWNET`` from ``<sched.h>``: the namespace type argument of ``setns``.
CLONE_NEWNET = 0x40000000

#: Where ``ip netns add`` bind-mounts named network namespaces.
NETNS_DIR = "/run/netns"

# Python 3.11 has no os.setns (added in 3.12), so call libc's. use_errno=True makes
# ctypes.get_errno() meaningful after a failed call.
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.setns.restype = ctypes.c_int


class CommandError(RuntimeError):
    """A helper command (``ip``, ``corosync-quorumtool``, ...) failed.

    The message contains the command line, its exit status and its standard error.
    """

    def __init__(self, argv: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        detail = stderr.strip() or stdout.strip() or "(no output)"
        super().__init__(
            f"command `{shlex.join(self.argv)}` failed with exit status {returncode}: {detail}"
        )


def setns(fd: int, nstype: int = CLONE_NEWNET) -> None:
    """Move the calling thread into the namespace referred to by ``fd`` (``setns(2)``)."""
    if _libc.setns(fd, nstype) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def inode(path: str = "/proc/thread-self/ns/net") -> int:
    """Inode number identifying the network namespace at ``path``.

    The default is the calling thread's own namespace; pass ``f"{NETNS_DIR}/NAME"`` for a
    named one. Two paths refer to the same namespace exactly when their inodes are equal.
    """
    return os.stat(path).st_ino


def exists(netns_name: str) -> bool:
    """Whether a named network namespace exists (``/run/netns/NAME``)."""
    return os.path.exists(os.path.join(NETNS_DIR, netns_name))


@contextmanager
def entered(netns_name: str) -> Iterator[None]:
    """Run the ``with`` body with the current thread inside network namespace ``netns_name``.

    Only this thread moves; other threads of the process are unaffected. The thread always
    switches back to the namespace it was in, even if the body raises.
    """
    target = os.open(os.path.join(NETNS_DIR, netns_name), os.O_RDONLY | os.O_CLOEXEC)
    try:
        # thread-self, not self: /proc/self/ns/net is the main thread's namespace.
        saved = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            setns(target)
            try:
                yield
            finally:
                # If this failed the thread would silently stay in the node's namespace,
                # so let the error propagate rather than hide it.
                setns(saved)
        finally:
            os.close(saved)
    finally:
        os.close(target)


def exec_argv(netns_name: str, argv: Sequence[str]) -> list[str]:
    """The command line that runs ``argv`` inside a named network namespace."""
    return ["ip", "netns", "exec", netns_name, *argv]


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    timeout: float | None = 30.0,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output as text; ``input`` is fed to its stdin.

    With ``check`` (the default), a non-zero exit raises :class:`CommandError`, whose message
    includes standard error.
    """
    # LC_ALL=C: the output of the corosync tools is parsed, so keep it untranslated.
    env = dict(os.environ, LC_ALL="C")
    proc = subprocess.run(
        list(argv),
        stdin=subprocess.DEVNULL if input is None else None,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    if check and proc.returncode != 0:
        raise CommandError(argv, proc.returncode, proc.stdout, proc.stderr)
    return proc


def ip(*args: str, netns: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``ip ARGS...`` (in ``netns`` when given, via ``ip -n``); raise on failure."""
    prefix = ["ip"] if netns is None else ["ip", "-n", netns]
    return run([*prefix, *args])
