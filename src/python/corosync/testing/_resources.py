"""What a test cluster owns outside the Python process, and how to give it all back.

Three things live here:

* :class:`SubnetLease`: an exclusive ``flock`` on ``/run/lock/corosync-testing/subnet-K.lock``
  reserves index K (the ``10.213.K.0/24`` subnet, and ``10.<213+L>.K.0/24`` for knet link L
  of a cluster with several links; the cluster name and the veth names) for one cluster at
  a time, across processes. The lock file also records what the cluster created, so that
  the leftovers of a process that died without cleaning up (SIGKILL, CI timeout) are
  reclaimed by the next harness that finds the lock free.
* :func:`remove_shm`: libqb's shared-memory files of one daemon.
* :class:`Resources`: the list of daemons, namespaces, temp dir and lease of one cluster, and
  :meth:`Resources.release`, the teardown used by ``Cluster.close()``, the ``weakref.finalize``
  safety net and (through ``finalize``) ``atexit``.

libqb's /dev/shm names, as seen with libqb 2.0.6 / corosync 3.1.7:

* ``qb-corosync-<daemon pid>-blackbox-{header,data}``: the daemon's flight recorder, removed
  by corosync on a clean exit, left behind by SIGKILL.
* ``qb-<daemon pid>-<client pid>-<fd>-<random>/``: one *directory* per client connection,
  holding ``qb-{request,response,event}-<service>-{header,data}`` (the daemon creates them,
  the client maps them). The daemon removes it when the client disconnects, and also when
  the client was SIGKILLed (it notices the socket closing, within a second). It stays
  behind when the daemon dies first: a client that finalizes its handle after its daemon
  was killed only unmaps the files, it does not remove them.

Everything of ours therefore starts with ``qb-<pid>-`` or ``qb-corosync-<pid>-`` for one
of our daemon pids. We remove those right after reaping the daemon, before its pid can be
reused by someone else's process, and never touch other names.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import netns

__all__ = [
    "LOCK_DIR",
    "SHM_DIR",
    "SUBNETS",
    "Resources",
    "SubnetLease",
    "remove_shm",
    "shm_entries",
    "start_time",
    "terminate",
]

_log = logging.getLogger(__name__)

LOCK_DIR = "/run/lock/corosync-testing"
SHM_DIR = "/dev/shm"
#: Usable values of K in 10.213.K.0/24 (and in 10.<213+L>.K.0/24, link L's subnet).
SUBNETS = range(1, 251)

# How long a daemon gets to shut down cleanly on SIGTERM before SIGKILL. corosync 3.1
# takes about one second to leave the ring.
TERM_GRACE = 2.0
# The same for programs started on nodes (Node.popen): a test's helper program should exit
# at once on SIGTERM; one that does not is not worth waiting long for.
PROGRAM_TERM_GRACE = 1.0


def shm_entries(pid: int) -> list[str]:
    """Paths in /dev/shm that libqb created for the corosync daemon with this pid."""
    prefixes = (f"qb-{pid}-", f"qb-corosync-{pid}-")
    try:
        names = os.listdir(SHM_DIR)
    except OSError:
        return []
    return [os.path.join(SHM_DIR, n) for n in names if n.startswith(prefixes)]


def remove_shm(pid: int) -> None:
    """Remove the /dev/shm files and directories of the (already reaped) daemon ``pid``."""
    paths = shm_entries(pid)
    if paths:
        _log.debug("removing %d /dev/shm entries of daemon %d", len(paths), pid)
    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


def terminate(procs: Iterable[subprocess.Popen[Any]], grace: float) -> None:
    """SIGTERM the processes still running, wait up to ``grace`` seconds for all of them,
    SIGKILL the ones left, and reap every one."""
    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            _log.debug("stopping pid %d (SIGTERM)", proc.pid)
            try:
                proc.terminate()
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _log.debug("pid %d outlived SIGTERM by %g s: SIGKILL", proc.pid, grace)
            try:
                proc.kill()
            except ProcessLookupError:
                pass
            proc.wait(timeout=10.0)


def _pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process; for processes we cannot wait for."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    # The state follows the parenthesised command name, which may itself contain ") ".
    # A zombie is dead for our purposes, even if its new parent has not reaped it yet.
    return stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] not in (b"Z", b"X")


def start_time(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot, /proc/PID/stat field 22), or
    None if there is no such process. With the pid, it names one process for good: a
    recycled pid comes with another start time."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # Fields after the parenthesised command name: state is field 3, starttime field 22.
    return int(stat[stat.rindex(b")") + 2 :].split()[19])


def _reclaim(record: dict[str, Any]) -> None:
    """Clean up after a previous lease holder that died without releasing its resources."""
    _log.info("reclaiming what a dead test process left behind: %s", record)
    tmpdir = record.get("tmpdir")
    for entry in record.get("programs", []):
        # Programs run whatever the test chose, so only the recorded start time proves that
        # the pid is still the same process.
        match entry:
            case [int(pid), int(started)] if start_time(pid) == started:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
    for pid in record.get("daemons", []):
        if not isinstance(pid, int) or not _pid_alive(pid):
            if isinstance(pid, int):
                remove_shm(pid)
            continue
        # Only kill a process that is provably one of that cluster's daemons: its command
        # line names a config file inside that cluster's temp dir.
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if not tmpdir or b"corosync" not in cmdline or os.fsencode(tmpdir) not in cmdline:
            continue
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 5.0
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not _pid_alive(pid):
            remove_shm(pid)
    for name in record.get("netns", []):
        if isinstance(name, str) and name.startswith("cst-") and netns.exists(name):
            netns.run(["ip", "netns", "delete", name], check=False)
    if isinstance(tmpdir, str) and os.path.basename(tmpdir).startswith("corosync-testing-"):
        shutil.rmtree(tmpdir, ignore_errors=True)


class SubnetLease:
    """Exclusive use of subnet index ``index`` while this object holds its lock."""

    def __init__(self, index: int, fd: int) -> None:
        self.index = index
        self._fd: int | None = fd

    @classmethod
    def acquire(cls) -> SubnetLease:
        """Lock the lowest free index, reclaiming leftovers of dead holders on the way.

        Raises :class:`OSError` with ``EBUSY`` when every index is in use.
        """
        os.makedirs(LOCK_DIR, mode=0o755, exist_ok=True)
        lease: SubnetLease | None = None
        for k in SUBNETS:
            path = os.path.join(LOCK_DIR, f"subnet-{k}.lock")
            if lease is not None and not os.path.exists(path):
                # Past our own pick only existing files can hold leftovers to reclaim.
                continue
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            except BaseException:
                os.close(fd)
                raise
            candidate = cls(k, fd)
            try:
                candidate._reclaim_leftovers()
            except BaseException:
                candidate.release()
                raise
            if lease is None:
                lease = candidate
            else:
                candidate.release()
        if lease is None:
            raise OSError(errno.EBUSY, f"all {len(SUBNETS)} test subnets in {LOCK_DIR} are in use")
        return lease

    def _reclaim_leftovers(self) -> None:
        assert self._fd is not None
        data = os.pread(self._fd, 1 << 20, 0)
        if data.strip():
            try:
                record = json.loads(data)
            except ValueError:
                record = None
            if isinstance(record, dict):
                _reclaim(record)
        os.ftruncate(self._fd, 0)

    def record(self, state: dict[str, Any]) -> None:
        """Store ``state`` in the lock file, for reclaiming should this process die."""
        if self._fd is None:
            return
        data = json.dumps(state).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def release(self) -> None:
        """Forget the record and unlock (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            # An empty file tells the next holder there is nothing to reclaim.
            os.ftruncate(fd, 0)
        finally:
            # Closing drops the flock. The file itself stays: unlinking a lock file races
            # with another process that has it open and is about to lock it.
            os.close(fd)


@dataclass
class Resources:
    """Everything one cluster created that must be given back, in creation order."""

    #: How warnings about this cluster name it.
    label: str = "corosync test cluster"
    tmpdir: str | None = None
    lease: SubnetLease | None = None
    netns: list[str] = field(default_factory=list)
    daemons: list[subprocess.Popen[bytes]] = field(default_factory=list)
    #: Programs started on nodes with Node.popen, stopped before the daemons.
    programs: list[subprocess.Popen[Any]] = field(default_factory=list)

    def save(self) -> None:
        """Write the current state into the lease's lock file (for crash reclaiming)."""
        if self.lease is None:
            return
        self.lease.record(
            {
                "owner": os.getpid(),
                "tmpdir": self.tmpdir,
                "netns": self.netns,
                "daemons": [p.pid for p in self.daemons],
                "programs": [
                    [p.pid, start_time(p.pid)] for p in self.programs if p.returncode is None
                ],
            }
        )

    # A daemon stays in ``daemons`` until its /dev/shm files are gone: whichever call reaps
    # it (poll() and wait() here, or anywhere else), the next alive()/reap() of a daemon
    # still listed cleans up after it. Its pid cannot be reused before we reap it, and we
    # remove the files in the same call, so they cannot be someone else's.

    def alive(self, proc: subprocess.Popen[bytes]) -> bool:
        """Whether daemon ``proc`` runs; if it died, reap it and clean up after it."""
        if proc.poll() is None:
            return True
        self._forget(proc)
        return False

    def reap(self, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
        """SIGKILL daemon ``proc`` if it still runs, wait for it, and clean up after it."""
        if proc.poll() is None:
            try:
                proc.kill()
            except ProcessLookupError:
                pass
            proc.wait(timeout=timeout)
        self._forget(proc)

    def _forget(self, proc: subprocess.Popen[bytes]) -> None:
        if proc not in self.daemons:
            return  # cleaned up earlier: its pid may be someone else's by now
        remove_shm(proc.pid)
        self.daemons.remove(proc)
        self.save()

    def stop_daemons(self, procs: Iterable[subprocess.Popen[bytes]]) -> None:
        """SIGTERM the running daemons, give them TERM_GRACE seconds, then SIGKILL."""
        procs = list(procs)
        terminate(procs, TERM_GRACE)
        for proc in procs:
            self.reap(proc)

    def release(self, keep_tmpdir: bool = False) -> list[str]:
        """Give everything back; never raises, returns a description of each failure."""
        errors: list[str] = []

        def attempt(what: str, fn: Callable[..., object], *args: object) -> None:
            # Teardown goes on whatever fails: one stuck step must not leak the rest.
            try:
                fn(*args)
            except Exception as e:
                errors.append(f"{what}: {e}")

        # Programs first: they are typically clients of the daemons, which then remove
        # the programs' connection files themselves.
        attempt("stopping programs started on nodes", terminate, self.programs, PROGRAM_TERM_GRACE)
        self.programs = []
        attempt("stopping daemons", self.stop_daemons, list(self.daemons))
        for name in reversed(self.netns):
            if netns.exists(name):
                _log.debug("deleting network namespace %s", name)
                attempt(f"deleting netns {name}", netns.ip, "netns", "delete", name)
        self.netns = []
        self.daemons = []
        if self.tmpdir is not None and not keep_tmpdir:
            attempt(f"removing {self.tmpdir}", shutil.rmtree, self.tmpdir)
        if self.lease is not None:
            attempt("releasing the subnet lock", self.lease.release)
        return errors
