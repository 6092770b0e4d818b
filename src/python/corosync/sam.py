"""A process that corosync's SAM library supervises and restarts (``sam.h``,
sam_overview(8)).

SAM is one per process, so it is module functions, not a handle::

    from corosync import sam

    sam.initialize(2000, sam.RecoveryPolicy.RESTART)
    instance = sam.register()     # forks; only the supervised child returns
    saved = sam.data_restore()    # what the previous instance stored, b"" the first time
    sam.start()
    while working:
        ...
        sam.hc_send()             # at least once every 2000 ms
    sam.finalize()                # a clean end: the supervisor exits with this process

How it works (libsam, corosync 3.1.7's lib/sam.c): :func:`register` forks, and the calling
process stays inside it as the supervisor of the child. When the child's health checks stop
for one interval, the supervisor sends it the warn signal (:func:`set_warn_signal`, SIGTERM
by default), after one more interval SIGKILL; a child that exits while started counts as
failed too. Then, under RESTART, it forks a new child with the next instance number; under
QUIT it exits with the child's exit status. The corosync daemon takes part only with the
QUORUM flag (the child may run only while the node is quorate: :func:`start` waits for
quorum, and losing it stops the child) and the CMAP flag (the state is published under
``resources.process.<supervisor pid>.*``, and :func:`mark_failed` is allowed).

What this binding adds and decides:

* **Fork.** :func:`register` raises :class:`RuntimeError` while other Python threads run. It
  flushes ``sys.stdout`` and ``sys.stderr``, and Python's fork hooks run as for
  :func:`os.fork`: ``os.register_at_fork`` *before* and *after_in_parent* handlers in the
  supervisor around every fork (inside fork's prepare and parent stages: they must not fork
  themselves), *after_in_child* in each child.
* **Stopping the supervisor.** SIGINT, SIGTERM or SIGHUP to the supervisor is passed on to
  the child (a second one sends SIGKILL); no new child is started, the supervisor removes its
  CMAP keys and exits with 128 + the signal's number. If the supervisor dies anyway, the
  child gets SIGTERM: no child is left running unsupervised. The supervisor never runs Python
  exit handlers (they belong to the children).
* **Event-driven checks.** :func:`set_hc_callback` ``(fn)``: libsam sends the checks from a
  thread of its own and asks ``fn()`` once per interval. ``fn`` runs on a thread of the
  binding's (libsam's has a 32 KiB stack, too small for Python code), with the GIL. Returning
  ``False`` or raising fails the check (the exception is reported through
  :func:`sys.unraisablehook`); returning ``None`` or ``True`` passes it. A call that takes
  longer than the interval stops the checks too.
* **Errors.** A call in the wrong state (:func:`start` before :func:`register`,
  :func:`hc_send` before :func:`start`, :func:`register` twice, anything after
  :func:`finalize`) raises :class:`~corosync.errors.BadHandleError` naming the state, before
  libsam is called; a bad interval, policy or signal number, or :func:`mark_failed` without
  the CMAP flag, raises :class:`~corosync.errors.InvalidParamError` (a :class:`ValueError`);
  an interval or signal number beyond a C ``int`` raises :class:`OverflowError`; wrong types
  :class:`TypeError`; a lost daemon under the QUORUM or CMAP flag
  :class:`~corosync.errors.LibraryError`. libsam puts no limit on the stored data beyond
  memory.
* **No asyncio layer.** SAM has no handle and no events to wait for: :func:`hc_send` only
  writes to a pipe, and the event-driven check runs on its own thread, so both are safe to
  call from a coroutine as they are.
* **Exiting.** A child that exits while started is a failure (it is restarted under
  RESTART): call :func:`finalize` or :func:`stop` first to end cleanly. Under QUIT the
  supervisor's exit status is the child's exit status, which is 0 for a child killed by a
  signal (libsam's rule).
"""

from __future__ import annotations

from corosync import _corosync
from corosync._corosync import RecoveryPolicy
from corosync._corosync import sam_data_restore as data_restore
from corosync._corosync import sam_data_size as data_size
from corosync._corosync import sam_data_store as data_store
from corosync._corosync import sam_finalize as finalize
from corosync._corosync import sam_hc_send as hc_send
from corosync._corosync import sam_initialize as initialize
from corosync._corosync import sam_mark_failed as mark_failed
from corosync._corosync import sam_register as register
from corosync._corosync import sam_set_hc_callback as set_hc_callback
from corosync._corosync import sam_set_warn_signal as set_warn_signal
from corosync._corosync import sam_start as start
from corosync._corosync import sam_state as state
from corosync._corosync import sam_stop as stop

__all__ = [
    "RecoveryPolicy",
    "State",
    "data_restore",
    "data_size",
    "data_store",
    "finalize",
    "hc_send",
    "initialize",
    "mark_failed",
    "register",
    "set_hc_callback",
    "set_warn_signal",
    "start",
    "state",
    "stop",
]

#: Where this process is in SAM's life cycle, as :func:`state` tells (the compiled module's
#: ``SamState``).
State = _corosync.SamState
