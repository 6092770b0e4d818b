"""A node of a test cluster: one corosync daemon in its own network namespace.

Also :class:`ClusterError`, raised by nodes and clusters alike. :class:`QuorumStatus` (a
node's view of quorum, read with ``corosync-quorumtool``) lives in :mod:`.status`.

The harness's own waiting reads a node's quorum and membership through the binding
(:meth:`Node.members`, and :meth:`Node._view` behind :class:`Cluster`'s waits): a short-lived
:class:`corosync.Quorum` handle opened in the node's namespace costs a few milliseconds,
where running ``corosync-quorumtool`` costs a few tens.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import select
import subprocess
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import (
    IO,
    TYPE_CHECKING,
    Any,
    Literal,
    NamedTuple,
    ParamSpec,
    TypedDict,
    TypeVar,
    Unpack,
    overload,
)

import corosync
from corosync.types import RingId

from . import netns
from ._resources import Resources
from .status import QdeviceStatus, QuorumStatus

if TYPE_CHECKING:
    from .cluster import Cluster

__all__ = [
    "ClusterError",
    "Node",
    "PopenOptions",
    "QdeviceStatus",
    "QuorumStatus",
    "python_env",
]

_log = logging.getLogger(__name__)

_P = ParamSpec("_P")
_T = TypeVar("_T")

#: Seconds a node's daemon gets to answer one look at its quorum (as corosync-quorumtool did).
_ANSWER_TIMEOUT = 10.0

# A knet link's state in the stats map (cmap_keys(8)): peer node id, link number.
_CONNECTED_KEY = re.compile(r"stats\.knet\.node(\d+)\.link(\d+)\.connected")


class ClusterError(RuntimeError):
    """A test cluster could not be set up, did not reach the expected state, or misbehaved.

    Messages about daemons include the tail of every node's log.
    """


_File = int | IO[Any] | None


class PopenOptions(TypedDict, total=False):
    """The keywords of :class:`subprocess.Popen` that :meth:`Node.popen` passes on, besides
    ``text``, ``encoding``, ``errors`` and ``universal_newlines`` (which decide whether the
    Popen speaks ``str`` or ``bytes``). ``shell`` and ``executable`` are left out: the
    command line starts with ``ip netns exec``."""

    stdin: _File
    stdout: _File
    stderr: _File
    bufsize: int
    cwd: str | bytes | os.PathLike[str] | os.PathLike[bytes] | None
    env: Mapping[str, str] | None
    close_fds: bool
    pass_fds: Collection[int]
    start_new_session: bool
    restore_signals: bool
    umask: int


def _tail(path: str, lines: int) -> str:
    try:
        with open(path, "rb") as f:
            # Logs of test clusters are small, but bound the read anyway.
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            data = f.read()
    except OSError as e:
        return f"({e.strerror})"
    text = data.decode("utf-8", "replace").splitlines()
    return "\n".join(text[-lines:])


def python_env() -> dict[str, str]:
    """This process's environment, with the imported corosync package first on PYTHONPATH,
    so that a Python program started on a node (:meth:`Node.popen`) imports the same one."""
    # This file is <root>/corosync/testing/node.py.
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    rest = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join([root, *rest]))


class _View(NamedTuple):
    """A node's quorum and membership as its quorum service reports them (the binding's
    :class:`corosync.Quorum`, ``trackstart(CURRENT)``)."""

    quorate: bool
    members: frozenset[int]


def _stopped(pid: int) -> bool:
    """Whether process ``pid`` is stopped (SIGSTOP) or traced: it would not answer, and a
    client connecting to it would block until it runs again."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False  # gone: connecting fails at once
    # "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ")".
    state = stat[stat.rfind(b")") + 2 :][:1]
    return state in (b"T", b"t")


#: Runs the command that follows with every signal at its default action: env(1) of
#: coreutils resets them, then a shell execs the command, which env would take for a
#: NAME=VALUE if its path held "=". Each execs in place, so the pid stays the program's.
_DEFAULT_SIGNALS = ["env", "--default-signal", "--", "/bin/sh", "-c", 'exec "$0" "$@"']


class Node:
    """One corosync daemon of a :class:`Cluster`, in its own network namespace.

    Nodes are created by the cluster; get them with ``cluster.node(nodeid)``. A node keeps
    its cluster alive: holding only a node does not let the cluster be cleaned up early.
    """

    def __init__(
        self,
        cluster: Cluster,
        resources: Resources,
        nodeid: int,
        netns_name: str,
        addresses: Sequence[str],
        workdir: str,
    ) -> None:
        self._cluster = cluster
        self._resources = resources
        self._nodeid = nodeid
        self._netns = netns_name
        self._addresses = tuple(addresses)
        self._workdir = workdir
        self._proc: subprocess.Popen[bytes] | None = None

    # Read-only properties rather than plain attributes: help(Node) documents them, and a
    # test cannot rename a node under the harness's feet.

    @property
    def cluster(self) -> Cluster:
        """The cluster this node belongs to."""
        return self._cluster

    @property
    def nodeid(self) -> int:
        """corosync node id, 1..N: also this node's index in the cluster."""
        return self._nodeid

    @property
    def netns(self) -> str:
        """Name of the node's network namespace (``ip netns exec NAME ...``)."""
        return self._netns

    @property
    def address(self) -> str:
        """The node's ring0 address, on knet link 0 (``10.213.K.<nodeid>``; ``127.0.0.1``
        for one node)."""
        return self._addresses[0]

    @property
    def addresses(self) -> list[str]:
        """The node's address on each knet link, by link number: ``ring<L>_addr`` is
        ``addresses[L]`` (``10.<213+L>.K.<nodeid>``; ``127.0.0.<L+1>`` for one node)."""
        return list(self._addresses)

    @property
    def workdir(self) -> str:
        """Directory with this node's config, log, ``/run`` and state dir."""
        return self._workdir

    @property
    def conf_path(self) -> str:
        """The node's ``corosync.conf``."""
        return os.path.join(self._workdir, "corosync.conf")

    @property
    def log_path(self) -> str:
        """corosync's log file (``logging.logfile``)."""
        return os.path.join(self._workdir, "corosync.log")

    @property
    def output_path(self) -> str:
        """Standard output and error of the daemon (errors from before logging starts)."""
        return os.path.join(self._workdir, "daemon.out")

    @property
    def run_dir(self) -> str:
        """Bind-mounted on ``/run`` for the daemon (corosync locks ``/run/corosync.pid``)."""
        return os.path.join(self._workdir, "run")

    @property
    def state_dir(self) -> str:
        """corosync's ``system.state_dir``."""
        return os.path.join(self._workdir, "state")

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.alive else "down"
        return f"<corosync.testing.Node {self.nodeid} netns={self.netns} {self.address} {state}>"

    @property
    def alive(self) -> bool:
        """Whether this node's corosync daemon is running."""
        return self._proc is not None and self._resources.alive(self._proc)

    @property
    def pid(self) -> int | None:
        """Pid of the running corosync daemon, or None when it is not running."""
        return self._proc.pid if self._proc is not None and self.alive else None

    def entered(self) -> contextlib.AbstractContextManager[None]:
        """Context manager running its body with this thread in the node's network namespace."""
        return netns.entered(self.netns)

    def connect(self, factory: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Call ``factory(*args, **kwargs)`` inside this node's namespace and return the result.

        This is how a test opens a corosync client handle bound to this node, e.g.
        ``node.connect(corosync.CPG, on_deliver=...)``: the handle connects to the daemon of
        the namespace it is created in and keeps using it after the thread switches back.
        """
        with netns.entered(self.netns):
            return factory(*args, **kwargs)

    def run(
        self, argv: Sequence[str], *, check: bool = False, timeout: float | None = 30.0
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside the node's namespace (``ip netns exec``), capturing text output.

        With ``check=True`` a non-zero exit status raises :class:`ClusterError` with stderr.
        """
        try:
            return netns.run(netns.exec_argv(self.netns, argv), check=check, timeout=timeout)
        except netns.CommandError as e:
            raise ClusterError(str(e)) from e

    # The overloads mirror typeshed's for subprocess.Popen: any of text=True, an encoding,
    # errors or universal_newlines=True gives a Popen[str]; none of them a Popen[bytes].
    @overload
    def popen(
        self,
        argv: Sequence[str],
        *,
        text: Literal[True],
        encoding: str | None = None,
        errors: str | None = None,
        universal_newlines: bool | None = None,
        **kwargs: Unpack[PopenOptions],
    ) -> subprocess.Popen[str]: ...
    @overload
    def popen(
        self,
        argv: Sequence[str],
        *,
        text: bool | None = None,
        encoding: str,
        errors: str | None = None,
        universal_newlines: bool | None = None,
        **kwargs: Unpack[PopenOptions],
    ) -> subprocess.Popen[str]: ...
    @overload
    def popen(
        self,
        argv: Sequence[str],
        *,
        text: bool | None = None,
        encoding: str | None = None,
        errors: str,
        universal_newlines: bool | None = None,
        **kwargs: Unpack[PopenOptions],
    ) -> subprocess.Popen[str]: ...
    @overload
    def popen(
        self,
        argv: Sequence[str],
        *,
        text: bool | None = None,
        encoding: str | None = None,
        errors: str | None = None,
        universal_newlines: Literal[True],
        **kwargs: Unpack[PopenOptions],
    ) -> subprocess.Popen[str]: ...
    @overload
    def popen(
        self,
        argv: Sequence[str],
        *,
        text: Literal[False] | None = None,
        encoding: None = None,
        errors: None = None,
        universal_newlines: Literal[False] | None = None,
        **kwargs: Unpack[PopenOptions],
    ) -> subprocess.Popen[bytes]: ...
    @overload
    def popen(
        self,
        argv: Sequence[str],
        *,
        text: bool | None = None,
        encoding: str | None = None,
        errors: str | None = None,
        universal_newlines: bool | None = None,
        **kwargs: Unpack[PopenOptions],
    ) -> subprocess.Popen[Any]: ...
    def popen(
        self,
        argv: Sequence[str],
        *,
        text: bool | None = None,
        encoding: str | None = None,
        errors: str | None = None,
        universal_newlines: bool | None = None,
        **kwargs: Unpack[PopenOptions],
    ) -> subprocess.Popen[Any]:
        """Start a program inside the node's namespace (``ip netns exec``) and return its
        Popen. ``text``, ``encoding``, ``errors``, ``universal_newlines`` and the keywords of
        :class:`PopenOptions` go to :class:`subprocess.Popen`; as there, any of the first
        four makes it a ``Popen[str]``. For a Python program that uses this corosync
        package, pass ``env=python_env()``.

        The cluster owns the program: :meth:`Cluster.close` (and the cluster's garbage
        collection or interpreter exit) SIGTERMs it if it still runs, SIGKILLs it a second
        later, and reaps it. ``ip netns exec`` execs the program in place, so the Popen's
        pid is the program's own and the signals reach it.

        The program starts with every signal at its default action, as from a terminal:
        a test run started by ``nohup``, or as a background job of a script, has SIGHUP or
        SIGINT ignored, which exec would otherwise pass on, and a program that a test stops
        with SIGINT (as Ctrl-C does) or SIGHUP would go on running.
        """
        proc = subprocess.Popen(
            netns.exec_argv(self.netns, [*_DEFAULT_SIGNALS, *argv]),
            text=text,
            encoding=encoding,
            errors=errors,
            universal_newlines=universal_newlines,
            **kwargs,
        )
        self._resources.programs.append(proc)
        self._resources.save()  # for reclaiming, should this process die without cleanup
        _log.debug("node %d: started %s as pid %d", self.nodeid, list(argv), proc.pid)
        return proc

    def quorum_status(self) -> QuorumStatus | None:
        """This node's quorum, votes and membership (``corosync-quorumtool -s -p``), or None
        if its daemon does not answer."""
        if not self.alive:
            return None
        try:
            proc = self.run(["corosync-quorumtool", "-s", "-p"], timeout=10.0)
        except subprocess.TimeoutExpired:
            return None
        # Exit status 2 means "not quorate", which is an answer; anything else is not.
        if proc.returncode not in (0, 2):
            return None
        try:
            return QuorumStatus.parse(proc.stdout)
        except ValueError:
            return None

    def members(self) -> frozenset[int] | None:
        """Node ids in this node's membership, or None if its daemon does not answer.

        Read through the binding (a :class:`corosync.Quorum` handle opened for the call): the
        same membership :meth:`quorum_status` shows, without running a program.
        """
        view = self._view()
        return None if view is None else view.members

    def _view(self) -> _View | None:
        """This node's quorum and membership, or None if its daemon does not answer (not
        running, stopped, restarting, or silent for ``_ANSWER_TIMEOUT`` seconds): what the
        cluster's waits poll. The handle lives for this call only, so a restarted daemon
        needs no reconnecting and nothing is left open. A daemon that is stopped (SIGSTOP)
        while a look is connecting holds that look until it continues: corosync's IPC has
        no timeout."""
        proc = self._proc
        if proc is None or not self.alive or _stopped(proc.pid):
            return None
        views: list[_View] = []

        def on_notify(quorate: bool, ring_id: RingId, members: list[int]) -> None:
            views.append(_View(quorate, frozenset(members)))

        deadline = time.monotonic() + _ANSWER_TIMEOUT
        try:
            with self.connect(corosync.Quorum, on_notify=on_notify, retry_timeout=0) as handle:
                handle.trackstart(corosync.TrackFlags.CURRENT)
                while not views:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return None
                    readable, _, _ = select.select([handle.fileno()], [], [], remaining)
                    if readable:
                        handle.dispatch(corosync.DispatchFlags.ALL)
        except corosync.CorosyncError:  # e.g. LibraryError: the daemon is gone or going
            return None
        return views[-1]

    def _connected_links(self) -> frozenset[tuple[int, int]] | None:
        """(node id, link) of each knet link from this node to another that knet reports
        connected, or None if the daemon does not answer: what the cluster's waits poll with
        several links. Read from the stats map (``stats.knet.node<N>.link<L>.connected``,
        what ``corosync-cfgtool -s`` shows) through a handle that lives for this call only."""
        proc = self._proc
        if proc is None or not self.alive or _stopped(proc.pid):
            return None
        connected: set[tuple[int, int]] = set()
        try:
            with self.connect(corosync.CMAP, corosync.CmapMap.STATS, retry_timeout=0) as stats:
                # keys(), then get() of the few wanted: each link has some forty keys.
                for key in stats.keys("stats.knet.node"):
                    match = _CONNECTED_KEY.fullmatch(key)
                    if match and int(match[1]) != self.nodeid and stats[key]:
                        connected.add((int(match[1]), int(match[2])))
        except corosync.CorosyncError:
            return None
        return frozenset(connected)

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines of the daemon's output and log, for error messages."""
        parts = []
        output = _tail(self.output_path, lines)
        if output.strip() and not output.startswith("("):
            parts.append(f"--- {self.output_path}\n{output}")
        parts.append(f"--- {self.log_path}\n{_tail(self.log_path, lines)}")
        return "\n".join(parts)

    # The cluster drives the daemon's life cycle through these.

    def _write_config(self, text: str) -> None:
        for d in (self.workdir, self.run_dir, self.state_dir):
            os.makedirs(d, exist_ok=True)
        with open(self.conf_path, "w", encoding="utf-8") as f:
            f.write(text)

    def _start(self) -> None:
        if self.alive:
            raise ClusterError(f"node {self.nodeid} is already running (pid {self.pid})")
        # ip netns exec, then unshare -m and sh all exec() in place, and sh execs corosync:
        # the Popen's pid is corosync's own pid, so signals reach the daemon directly.
        script = 'mount --bind "$0" /run && exec corosync -f -c "$1"'
        argv = netns.exec_argv(
            self.netns, ["unshare", "-m", "sh", "-c", script, self.run_dir, self.conf_path]
        )
        with open(self.output_path, "ab") as out:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )
        self._proc = proc
        self._resources.daemons.append(proc)
        self._resources.save()
        _log.debug(
            "node %d: started corosync, pid %d, netns %s, address %s, config %s",
            self.nodeid,
            proc.pid,
            self.netns,
            ", ".join(self._addresses),
            self.conf_path,
        )

    def _kill(self) -> None:
        if self._proc is None or not self.alive:
            raise ClusterError(f"node {self.nodeid} is not running")
        self._resources.reap(self._proc)
