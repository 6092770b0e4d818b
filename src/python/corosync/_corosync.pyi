"""
Compiled core of the corosync package; import `corosync` instead.
"""

from __future__ import annotations

import collections.abc
import enum
import ipaddress
import typing

import typing_extensions

import corosync.cfg
import corosync.cmap
import corosync.cpg
import corosync.types
import corosync.votequorum

class CsError(enum.IntEnum):
    """
    corosync's cs_error_t codes (CS_OK, CS_ERR_* in corotypes.h).
    """

    OK = 1
    LIBRARY = 2
    VERSION = 3
    INIT = 4
    TIMEOUT = 5
    TRY_AGAIN = 6
    INVALID_PARAM = 7
    NO_MEMORY = 8
    BAD_HANDLE = 9
    BUSY = 10
    ACCESS = 11
    NOT_EXIST = 12
    NAME_TOO_LONG = 13
    EXIST = 14
    NO_SPACE = 15
    INTERRUPT = 16
    NAME_NOT_FOUND = 17
    NO_RESOURCES = 18
    NOT_SUPPORTED = 19
    BAD_OPERATION = 20
    FAILED_OPERATION = 21
    MESSAGE_ERROR = 22
    QUEUE_FULL = 23
    QUEUE_NOT_AVAILABLE = 24
    BAD_FLAGS = 25
    TOO_BIG = 26
    NO_SECTIONS = 27
    CONTEXT_NOT_FOUND = 28
    TOO_MANY_GROUPS = 30
    SECURITY = 100

class DispatchFlags(enum.IntEnum):
    """
    How much dispatch() runs (corosync's CS_DISPATCH_*).
    """

    ONE = 1
    ALL = 2
    BLOCKING = 3
    ONE_NONBLOCKING = 4

class TrackFlags(enum.IntFlag):
    """
    What quorum and votequorum tracking reports (CS_TRACK_*): CURRENT, the state now, once; CHANGES,
    every change; CHANGES_ONLY, the changes without the current state.
    """

    CURRENT = 1
    CHANGES = 2
    CHANGES_ONLY = 4

class Guarantee(enum.IntEnum):
    """
    Delivery guarantee of CPG.mcast (cpg_guarantee_t). corosync implements AGREED; FIFO behaves as
    AGREED and UNORDERED and SAFE are accepted but not implemented by corosync.
    """

    UNORDERED = 0
    FIFO = 1
    AGREED = 2
    SAFE = 3

class Reason(enum.IntEnum):
    """
    Why a member joined or left a group (cpg_reason_t).
    """

    UNDEFINED = 0
    JOIN = 1
    LEAVE = 2
    NODEDOWN = 3
    NODEUP = 4
    PROCDOWN = 5

class CPG:
    """
    A closed process group connection (cpg_model_initialize, model V1).

    Messages multicast to a group are delivered to every member in one total order. Callbacks run
    inside dispatch() in the calling thread.
    """
    def __enter__(self) -> typing.Self: ...
    def __exit__(
        self, exc_type: typing.Any, exc_value: typing.Any, traceback: typing.Any
    ) -> None: ...
    def __init__(
        self,
        *,
        on_deliver: collections.abc.Callable[[str | bytes, int, int, bytes], None] | None = None,
        on_confchg: collections.abc.Callable[
            [
                str | bytes,
                list[corosync.cpg.Address],
                list[corosync.cpg.Address],
                list[corosync.cpg.Address],
            ],
            None,
        ]
        | None = None,
        on_totem_confchg: collections.abc.Callable[[corosync.types.RingId, list[int]], None]
        | None = None,
        deliver_initial_totem_conf: bool = False,
        retry_timeout: typing.SupportsFloat | typing.SupportsIndex = 3.0,
        send_window_messages: int = 8192,
        send_window_bytes: int = 33554432,
    ) -> None:
        """
        Connect to the local corosync's CPG service (cpg_model_initialize).

        on_deliver(group, nodeid, pid, message), on_confchg(group, members, left, joined) and
        on_totem_confchg(ring_id, members) run inside dispatch(). With deliver_initial_totem_conf
        the current totem configuration arrives as an on_totem_confchg after the first join's
        confchg (corosync sends it on join). Each joined group has a connection of its own, so
        events of different groups, and ring changes, have no order among them; within a group they
        keep corosync's total order. Calls answered with CS_ERR_TRY_AGAIN are retried for up to
        retry_timeout seconds (0 disables retrying), then raise TryAgainError.

        The send window bounds what this handle queues in corosync, which keeps a client's
        undispatched events without limit: once send_window_messages of this handle's messages, or
        send_window_bytes of them, were sent and not yet delivered back to it (a member receives its
        own messages), mcast waits as under flow control for a dispatch to deliver them, up to
        retry_timeout, then raises TryAgainError. A message larger than the byte window is sent once
        nothing else is outstanding.
        """
    def __repr__(self) -> str: ...
    def close(self) -> None:
        """
        Finalize the connection (cpg_finalize). Idempotent; later calls raise ClosedError.
        """
    def cxx_handle(self) -> typing_extensions.CapsuleType:
        """
        This handle's C++ object (corosync_cxx), for another extension module built against the
        installed corosync_cxx package: a capsule named 'corosync_cxx.Cpg corosync_cxx 0.1 cxx11abi
        1' (COROSYNC_CXX_CAPSULE in <corosync_cxx/version.hpp>) that keeps the handle alive.
        ClosedError once closed.
        """
    def dispatch(self, flags: DispatchFlags = DispatchFlags.ALL) -> None:
        """
        Run the callbacks of queued events in this thread (cpg_dispatch).

        ALL runs what is queued and returns; ONE_NONBLOCKING runs at most one callback; ONE waits
        until one callback has run; BLOCKING runs events until the handle is closed or the
        connection is lost (LibraryError). Waiting releases the GIL and reacts to Ctrl-C. An
        exception raised by a callback propagates after that callback; later events stay queued.
        Calling dispatch from one of this handle's callbacks raises RuntimeError. flags may be a
        DispatchFlags or its int value.
        """
    def fileno(self) -> int:
        """
        An fd to poll for readability (select, selectors, asyncio), over the connection's
        (cpg_fd_get); never read from it. It is the same fd, open, for the handle's life: readable
        while an event is queued, and for good once the handle is closed (from any thread) or the
        daemon is lost, so that a poll always ends with a dispatch() that says why (ClosedError,
        LibraryError).
        """
    def group_names(self) -> list[str | bytes]:
        """
        The names of every group in the cluster (cpg_iteration_* with CPG_ITERATION_NAME_ONLY).
        """
    def groups(self, *, group: str | bytes | None = None) -> list[corosync.cpg.GroupMember]:
        """
        Every (group, nodeid, pid) in the cluster, or only the members of `group`
        (cpg_iteration_initialize with CPG_ITERATION_ALL or CPG_ITERATION_ONE_GROUP,
        cpg_iteration_next, cpg_iteration_finalize).
        """
    def join(self, group: str | bytes) -> None:
        """
        Join a group (cpg_join); a handle may join several (each on a connection of its own, as
        corosync allows one group per connection). Names are at most 128 bytes (NameTooLongError
        beyond); joining twice raises ExistError. After leave(), joining again works from the
        on_confchg that reports the leave or after it was dispatched (BusyError before).
        """
    def leave(self, group: str | bytes) -> None:
        """
        Leave a joined group (cpg_leave); NotExistError for a group not joined. The leave completes
        with an on_confchg listing this process as left.
        """
    def mcast(
        self,
        *args: typing_extensions.Buffer,
        guarantee: Guarantee = Guarantee.AGREED,
        group: str | bytes | None = None,
        retry_timeout: typing.SupportsFloat | typing.SupportsIndex | None = None,
    ) -> None:
        """
        Multicast one message, the concatenation of the given bytes-like objects, to a joined group
        (cpg_mcast_joined): `group`, which may be omitted when this handle joined exactly one. The
        buffers are not copied in Python. Messages above max_atomic_msgsize are fragmented by libcpg
        and arrive whole; one that a membership change of the group interrupts is sent again whole
        (InterruptError once retry_timeout runs out). NotExistError when the group was not joined;
        TooBigError for 4 GiB or more. retry_timeout, if given, replaces the handle's for this call:
        0 raises TryAgainError at once instead of waiting for the send window or for corosync (what
        an event loop wants; corosync.aio.mcast waits without blocking).
        """
    def mcast_many(
        self,
        messages: collections.abc.Iterable[typing_extensions.Buffer],
        *,
        guarantee: Guarantee = Guarantee.AGREED,
        group: str | bytes | None = None,
        retry_timeout: typing.SupportsFloat | typing.SupportsIndex | None = None,
    ) -> int:
        """
        Multicast each item of `messages` (an iterable of bytes-like objects) as a message of its
        own, in order, to a joined group (cpg_mcast_joined per message); returns how many were sent.
        The GIL is released once per batch of items, not per message, and the buffers are not copied
        in Python. When sending stops (TryAgainError after retry_timeout, TypeError for an item that
        is not bytes-like, or an exception from the iterable), the items before the failing one have
        been sent and the exception's `sent` attribute says how many. retry_timeout, if given,
        replaces the handle's for this call, as for mcast().
        """
    def membership(self, group: str | bytes) -> list[corosync.cpg.Address]:
        """
        The members of a group, joined by this handle or not (cpg_membership_get).
        """
    @property
    def closed(self) -> bool:
        """
        True once close() was called.
        """
    @property
    def flow_control_enabled(self) -> bool:
        """
        True while this handle's send window is full (see the constructor): mcast then waits for a
        dispatch to deliver this handle's own messages back to it. Also true if corosync itself asks
        senders to pause (cpg_flow_control_state_get; corosync 3's libcpg always answers disabled).
        """
    @property
    def local_address(self) -> tuple[int, int]:
        """
        (local_nodeid, pid): this process as the callbacks name it, e.g. `(a.nodeid, a.pid) ==
        cpg.local_address` finds it among a confchg's members.
        """
    @property
    def local_nodeid(self) -> int:
        """
        This node's id (cpg_local_get, asked once when the handle connects: it cannot change while
        the daemon runs).
        """
    @property
    def max_atomic_msgsize(self) -> int:
        """
        The largest message sent without fragmenting (cpg_max_atomic_msgsize_get).
        """
    @property
    def on_confchg(
        self,
    ) -> (
        collections.abc.Callable[
            [
                str | bytes,
                list[corosync.cpg.Address],
                list[corosync.cpg.Address],
                list[corosync.cpg.Address],
            ],
            None,
        ]
        | None
    ):
        """
        fn(group, members, left, joined): a joined group's membership changed; each list holds
        Address(nodeid, pid, reason).
        """
    @on_confchg.setter
    def on_confchg(
        self,
        arg1: collections.abc.Callable[
            [
                str | bytes,
                list[corosync.cpg.Address],
                list[corosync.cpg.Address],
                list[corosync.cpg.Address],
            ],
            None,
        ]
        | None,
    ) -> None: ...
    @property
    def on_deliver(self) -> collections.abc.Callable[[str | bytes, int, int, bytes], None] | None:
        """
        fn(group, nodeid, pid, message: bytes): a message multicast to a joined group.
        """
    @on_deliver.setter
    def on_deliver(
        self, arg1: collections.abc.Callable[[str | bytes, int, int, bytes], None] | None
    ) -> None: ...
    @property
    def on_totem_confchg(
        self,
    ) -> collections.abc.Callable[[corosync.types.RingId, list[int]], None] | None:
        """
        fn(ring_id, members: list[int]): the totem ring (the cluster's nodes) changed.
        """
    @on_totem_confchg.setter
    def on_totem_confchg(
        self, arg1: collections.abc.Callable[[corosync.types.RingId, list[int]], None] | None
    ) -> None: ...
    @property
    def retry_timeout(self) -> float:
        """
        Seconds a call answered with CS_ERR_TRY_AGAIN is retried (the constructor's retry_timeout).
        """
    @property
    def send_window_bytes(self) -> int:
        """
        How many bytes of this handle's messages may be on their way back to it before mcast waits
        (see the constructor).
        """
    @property
    def send_window_messages(self) -> int:
        """
        How many of this handle's messages may be on their way back to it before mcast waits (see
        the constructor).
        """

class ValueType(enum.IntEnum):
    """
    The type of a CMAP value (cmap_value_types_t).
    """

    INT8 = 1
    UINT8 = 2
    INT16 = 3
    UINT16 = 4
    INT32 = 5
    UINT32 = 6
    INT64 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    STRING = 11
    BINARY = 12

class TrackEvent(enum.IntFlag):
    """
    What a CMAP track reports (CMAP_TRACK_ADD, _DELETE, _MODIFY).
    """

    DELETE = 1
    MODIFY = 2
    ADD = 4

class CmapMap(enum.IntEnum):
    """
    Which map a CMAP handle reads (cmap_map_t): ICMAP, the configuration and runtime keys; STATS,
    the statistics.
    """

    ICMAP = 0
    STATS = 1

class Track:
    """
    A CMAP track (cmap.track()): its callback runs inside dispatch() for every change it follows,
    until cmap.untrack(track) or cmap.close().
    """
    def __repr__(self) -> str: ...
    @property
    def active(self) -> bool:
        """
        True until untrack() or the handle's close().
        """
    @property
    def callback(
        self,
    ) -> (
        collections.abc.Callable[
            [TrackEvent, str, corosync.cmap.TypedValue | None, corosync.cmap.TypedValue | None],
            None,
        ]
        | None
    ):
        """
        fn(event, key, new, old): called for each change.
        """
    @property
    def events(self) -> TrackEvent:
        """
        The changes reported.
        """
    @property
    def key(self) -> str:
        """
        The key followed, or the prefix of the keys followed.
        """
    @property
    def prefix(self) -> bool:
        """
        Whether every key that starts with `key` is followed.
        """

class KeyIterator:
    """
    The keys of a CMAP, in corosync's order (cmap.keys()).
    """
    def __iter__(self) -> KeyIterator: ...
    def __next__(self) -> str:
        """
        The next key (cmap_iter_next).
        """
    def close(self) -> None:
        """
        End the iteration early (cmap_iter_finalize); idempotent. Dropping the iterator does the
        same.
        """

class ItemIterator:
    """
    (key, TypedValue) pairs of a CMAP (cmap.items()).
    """
    def __iter__(self) -> ItemIterator: ...
    def __next__(self) -> tuple[str, corosync.cmap.TypedValue]:
        """
        The next (key, TypedValue) (cmap_iter_next).
        """
    def close(self) -> None:
        """
        End the iteration early (cmap_iter_finalize); idempotent. Dropping the iterator does the
        same.
        """

class CMAP:
    """
    A connection to corosync's configuration and runtime database (cmap_initialize_map).

    Keys are str; values are typed (ValueType). The mapping protocol reads and writes values; get()
    gives their types too. Track callbacks run inside dispatch() in the calling thread.
    """
    def __contains__(self, key: typing.Any) -> bool:
        """
        key in cmap: whether `key` exists (cmap_get without reading the value). False for anything
        that is not a key name corosync could store.
        """
    def __delitem__(self, key: str) -> None:
        """
        del cmap[key] (cmap_delete).
        """
    def __enter__(self) -> typing.Self: ...
    def __exit__(
        self, exc_type: typing.Any, exc_value: typing.Any, traceback: typing.Any
    ) -> None: ...
    def __getitem__(self, key: str) -> int | float | str | bytes:
        """
        cmap[key]: get(key).value (cmap_get).
        """
    def __init__(
        self,
        map: CmapMap = CmapMap.ICMAP,
        *,
        retry_timeout: typing.SupportsFloat | typing.SupportsIndex = 3.0,
    ) -> None:
        """
        Connect to the local corosync's CMAP service (cmap_initialize_map): the configuration and
        runtime keys (CmapMap.ICMAP) or the statistics (CmapMap.STATS, read-only but for
        stats.clear.*). Calls answered with CS_ERR_TRY_AGAIN are retried for up to retry_timeout
        seconds (0 disables retrying), then raise TryAgainError.
        """
    def __iter__(self) -> KeyIterator:
        """
        iter(cmap): keys() (cmap_iter_*).
        """
    def __len__(self) -> int:
        """
        len(cmap): the number of keys, counted by walking the map (cmap_iter_*).
        """
    def __repr__(self) -> str: ...
    def __setitem__(self, key: str, value: int | float | str | typing_extensions.Buffer) -> None:
        """
        cmap[key] = value: set(key, value) (cmap_set).
        """
    def close(self) -> None:
        """
        Finalize the connection (cmap_finalize). Idempotent; later calls raise ClosedError.
        """
    def cxx_handle(self) -> typing_extensions.CapsuleType:
        """
        This handle's C++ object (corosync_cxx), for another extension module built against the
        installed corosync_cxx package: a capsule named 'corosync_cxx.Cmap corosync_cxx 0.1 cxx11abi
        1' (COROSYNC_CXX_CAPSULE in <corosync_cxx/version.hpp>) that keeps the handle alive.
        ClosedError once closed.
        """
    def dec(self, key: str) -> None:
        """
        Subtract 1 from an integer key, wrapping around (cmap_dec); InvalidParamError for other
        types.
        """
    def delete(self, key: str) -> None:
        """
        Delete `key` (cmap_delete); NotExistError when it is missing, AccessError when it is
        read-only.
        """
    def dispatch(self, flags: DispatchFlags = DispatchFlags.ALL) -> None:
        """
        Run the callbacks of queued events in this thread (cmap_dispatch).

        ALL runs what is queued and returns; ONE_NONBLOCKING runs at most one callback; ONE waits
        until one callback has run; BLOCKING runs events until the handle is closed or the
        connection is lost (LibraryError). Waiting releases the GIL and reacts to Ctrl-C. An
        exception raised by a callback propagates after that callback; later events stay queued.
        Calling dispatch from one of this handle's callbacks raises RuntimeError. flags may be a
        DispatchFlags or its int value.
        """
    def fileno(self) -> int:
        """
        An fd to poll for readability (select, selectors, asyncio), over the connection's
        (cmap_fd_get); never read from it. It is the same fd, open, for the handle's life: readable
        while an event is queued, and for good once the handle is closed (from any thread) or the
        daemon is lost, so that a poll always ends with a dispatch() that says why (ClosedError,
        LibraryError).
        """
    def get(self, key: str) -> corosync.cmap.TypedValue:
        """
        The value of `key` with its type, as TypedValue(type, value) (cmap_get). NotExistError (a
        KeyError) when it is missing. STRING values are str when they are UTF-8, else bytes; BINARY
        values are bytes. Values of every size corosync stores (up to CMAP_MAX_VALUE_SIZE, 16 KiB)
        come back whole; those up to 960 bytes take one round trip to the daemon, larger ones three.
        """
    def inc(self, key: str) -> None:
        """
        Add 1 to an integer key, wrapping around (cmap_inc); InvalidParamError for other types.
        """
    def items(self, prefix: str = "") -> ItemIterator:
        """
        An iterator of (key, TypedValue) over the keys that start with `prefix` (cmap_iter_* and one
        cmap_get per key); a key deleted between the two is left out.
        """
    def keys(self, prefix: str = "") -> KeyIterator:
        """
        An iterator over the keys that start with `prefix` (cmap_iter_init, cmap_iter_next,
        cmap_iter_finalize). Dropping it or calling its close() finalizes corosync's iterator; after
        the handle's close() it raises ClosedError.
        """
    def set(
        self,
        key: str,
        value: int | float | str | typing_extensions.Buffer,
        type: ValueType | None = None,
    ) -> None:
        """
        Set `key` to `value` (cmap_set). With type=None an existing key keeps its type and a new key
        gets one from the value: int → INT64 (UINT64 above INT64's range), float → DOUBLE, str →
        STRING, bytes-like → BINARY; anything else (bool too) raises TypeError. Integers out of
        their type's range raise OverflowError, as do finite floats beyond a C float's for FLOAT; a
        STRING cannot hold NUL (ValueError). Values beyond CMAP_MAX_VALUE_SIZE bytes (16 KiB of
        BINARY or of STRING text), which corosync refuses, raise TooBigError; read-only keys raise
        AccessError.
        """
    def track(
        self,
        key: str,
        callback: collections.abc.Callable[
            [TrackEvent, str, corosync.cmap.TypedValue | None, corosync.cmap.TypedValue | None],
            None,
        ],
        events: TrackEvent = TrackEvent.ADD | TrackEvent.DELETE | TrackEvent.MODIFY,
        prefix: bool = False,
    ) -> Track:
        """
        Follow changes of `key`, or of every key it prefixes with prefix=True (cmap_track_add):
        callback(event, key, new, old) runs inside dispatch() for each, with new None for a DELETE
        and old None for an ADD. Returns the Track, which untrack() ends. An exception from the
        callback comes out of dispatch(); later events stay queued.
        """
    def untrack(self, track: Track) -> None:
        """
        End a track of this handle (cmap_track_delete); its callback is not called again. ValueError
        for a track that ended or belongs to another handle.
        """
    @property
    def closed(self) -> bool:
        """
        True once close() was called.
        """
    @property
    def map(self) -> CmapMap:
        """
        The map this handle reads.
        """
    @property
    def retry_timeout(self) -> float:
        """
        Seconds a call answered with CS_ERR_TRY_AGAIN is retried (the constructor's retry_timeout).
        """

class QuorumType(enum.IntEnum):
    """
    Whether the cluster has a quorum provider: FREE (none, so always quorate; QUORUM_FREE) or SET
    (QUORUM_SET).
    """

    FREE = 0
    SET = 1

class Quorum:
    """
    A connection to corosync's quorum service (quorum_model_initialize, model V1).

    Callbacks run inside dispatch() in the calling thread once trackstart() was called.
    """
    def __enter__(self) -> typing.Self: ...
    def __exit__(
        self, exc_type: typing.Any, exc_value: typing.Any, traceback: typing.Any
    ) -> None: ...
    def __init__(
        self,
        *,
        on_notify: collections.abc.Callable[[bool, corosync.types.RingId, list[int]], None]
        | None = None,
        on_nodelist: collections.abc.Callable[
            [corosync.types.RingId, list[int], list[int], list[int]], None
        ]
        | None = None,
        retry_timeout: typing.SupportsFloat | typing.SupportsIndex = 3.0,
    ) -> None:
        """
        Connect to the local corosync's quorum service (quorum_model_initialize with
        QUORUM_MODEL_V1). on_notify(quorate, ring_id, members) and on_nodelist(ring_id, members,
        joined, left) run inside dispatch() after trackstart(). Calls answered with CS_ERR_TRY_AGAIN
        are retried for up to retry_timeout seconds (0 disables retrying), then raise TryAgainError.
        """
    def __repr__(self) -> str: ...
    def close(self) -> None:
        """
        Finalize the connection (quorum_finalize). Idempotent; later calls raise ClosedError.
        """
    def cxx_handle(self) -> typing_extensions.CapsuleType:
        """
        This handle's C++ object (corosync_cxx), for another extension module built against the
        installed corosync_cxx package: a capsule named 'corosync_cxx.Quorum corosync_cxx 0.1
        cxx11abi 1' (COROSYNC_CXX_CAPSULE in <corosync_cxx/version.hpp>) that keeps the handle
        alive. ClosedError once closed.
        """
    def dispatch(self, flags: DispatchFlags = DispatchFlags.ALL) -> None:
        """
        Run the callbacks of queued events in this thread (quorum_dispatch).

        ALL runs what is queued and returns; ONE_NONBLOCKING runs at most one callback; ONE waits
        until one callback has run; BLOCKING runs events until the handle is closed or the
        connection is lost (LibraryError). Waiting releases the GIL and reacts to Ctrl-C. An
        exception raised by a callback propagates after that callback; later events stay queued.
        Calling dispatch from one of this handle's callbacks raises RuntimeError. flags may be a
        DispatchFlags or its int value.
        """
    def fileno(self) -> int:
        """
        An fd to poll for readability (select, selectors, asyncio), over the connection's
        (quorum_fd_get); never read from it. It is the same fd, open, for the handle's life:
        readable while an event is queued, and for good once the handle is closed (from any thread)
        or the daemon is lost, so that a poll always ends with a dispatch() that says why
        (ClosedError, LibraryError).
        """
    def trackstart(self, flags: TrackFlags = TrackFlags.CHANGES) -> None:
        """
        Start reporting to the callbacks (quorum_trackstart): CURRENT, the state now; CHANGES, every
        change from now on (with the state now); CHANGES_ONLY, the changes alone.
        """
    def trackstop(self) -> None:
        """
        Stop reporting (quorum_trackstop).
        """
    @property
    def closed(self) -> bool:
        """
        True once close() was called.
        """
    @property
    def on_nodelist(
        self,
    ) -> (
        collections.abc.Callable[[corosync.types.RingId, list[int], list[int], list[int]], None]
        | None
    ):
        """
        fn(ring_id, members, joined, left: list[int]): the nodes of a new ring.
        """
    @on_nodelist.setter
    def on_nodelist(
        self,
        arg1: collections.abc.Callable[
            [corosync.types.RingId, list[int], list[int], list[int]], None
        ]
        | None,
    ) -> None: ...
    @property
    def on_notify(
        self,
    ) -> collections.abc.Callable[[bool, corosync.types.RingId, list[int]], None] | None:
        """
        fn(quorate: bool, ring_id, members: list[int]): the quorum state of a ring.
        """
    @on_notify.setter
    def on_notify(
        self, arg1: collections.abc.Callable[[bool, corosync.types.RingId, list[int]], None] | None
    ) -> None: ...
    @property
    def quorate(self) -> bool:
        """
        Whether this node's partition is quorate (quorum_getquorate).
        """
    @property
    def quorum_type(self) -> QuorumType:
        """
        QuorumType.SET when a quorum provider decides quorum, FREE when none is configured (then
        always quorate), as quorum_model_initialize reported.
        """
    @property
    def retry_timeout(self) -> float:
        """
        Seconds a call answered with CS_ERR_TRY_AGAIN is retried (the constructor's retry_timeout).
        """

class NodeState(enum.IntEnum):
    """
    A node's state in votequorum (VOTEQUORUM_NODESTATE_*).
    """

    MEMBER = 1
    DEAD = 2
    LEAVING = 3

class InfoFlag(enum.IntFlag):
    """
    The flags of votequorum's node information (VOTEQUORUM_INFO_*).
    """

    TWO_NODE = 1
    QUORATE = 2
    WAIT_FOR_ALL = 4
    LAST_MAN_STANDING = 8
    AUTO_TIE_BREAKER = 16
    ALLOW_DOWNSCALE = 32
    QDEVICE_REGISTERED = 64
    QDEVICE_ALIVE = 128
    QDEVICE_CAST_VOTE = 256
    QDEVICE_MASTER_WINS = 512

class Votequorum:
    """
    A connection to corosync's votequorum service (votequorum_initialize): votes, expected votes,
    quorum, and the qdevice API.

    Callbacks run inside dispatch() in the calling thread once trackstart() was called.
    """
    def __enter__(self) -> typing.Self: ...
    def __exit__(
        self, exc_type: typing.Any, exc_value: typing.Any, traceback: typing.Any
    ) -> None: ...
    def __init__(
        self,
        *,
        on_notify: collections.abc.Callable[
            [bool, corosync.types.RingId, list[corosync.votequorum.NodeStatus]], None
        ]
        | None = None,
        on_nodelist: collections.abc.Callable[[corosync.types.RingId, list[int]], None]
        | None = None,
        on_expectedvotes: collections.abc.Callable[[int], None] | None = None,
        retry_timeout: typing.SupportsFloat | typing.SupportsIndex = 3.0,
    ) -> None:
        """
        Connect to the local corosync's votequorum service (votequorum_initialize).
        on_notify(quorate, ring_id, nodes), on_nodelist(ring_id, nodes) and
        on_expectedvotes(expected_votes) run inside dispatch() after trackstart(); corosync's quorum
        notification has no ring id of its own, so on_notify gets the one of the last on_nodelist,
        which corosync sends first at every ring change (RingId(0, 0) before any). Calls answered
        with CS_ERR_TRY_AGAIN are retried for up to retry_timeout seconds (0 disables retrying),
        then raise TryAgainError.
        """
    def __repr__(self) -> str: ...
    def close(self) -> None:
        """
        Finalize the connection (votequorum_finalize). Idempotent; later calls raise ClosedError.
        """
    def cxx_handle(self) -> typing_extensions.CapsuleType:
        """
        This handle's C++ object (corosync_cxx), for another extension module built against the
        installed corosync_cxx package: a capsule named 'corosync_cxx.Votequorum corosync_cxx 0.1
        cxx11abi 1' (COROSYNC_CXX_CAPSULE in <corosync_cxx/version.hpp>) that keeps the handle
        alive. ClosedError once closed.
        """
    def dispatch(self, flags: DispatchFlags = DispatchFlags.ALL) -> None:
        """
        Run the callbacks of queued events in this thread (votequorum_dispatch).

        ALL runs what is queued and returns; ONE_NONBLOCKING runs at most one callback; ONE waits
        until one callback has run; BLOCKING runs events until the handle is closed or the
        connection is lost (LibraryError). Waiting releases the GIL and reacts to Ctrl-C. An
        exception raised by a callback propagates after that callback; later events stay queued.
        Calling dispatch from one of this handle's callbacks raises RuntimeError. flags may be a
        DispatchFlags or its int value.
        """
    def fileno(self) -> int:
        """
        An fd to poll for readability (select, selectors, asyncio), over the connection's
        (votequorum_fd_get); never read from it. It is the same fd, open, for the handle's life:
        readable while an event is queued, and for good once the handle is closed (from any thread)
        or the daemon is lost, so that a poll always ends with a dispatch() that says why
        (ClosedError, LibraryError).
        """
    def info(self, nodeid: int = 0) -> corosync.votequorum.NodeInfo:
        """
        What votequorum knows of a node (votequorum_getinfo): 0 (the default) is this node;
        NotExistError for a node id votequorum does not know.
        """
    def qdevice_master_wins(self, name: str, allow: bool) -> None:
        """
        Set the device's master_wins (votequorum_qdevice_master_wins).
        """
    def qdevice_poll(self, name: str, cast_vote: bool, ring_id: corosync.types.RingId) -> None:
        """
        Tell votequorum the device is alive and whether it casts its vote (votequorum_qdevice_poll),
        for the ring `ring_id` (the current one, from on_nodelist; corosync answers a stale one with
        MessageError).
        """
    def qdevice_register(self, name: str) -> None:
        """
        Register this process as the node's quorum device `name` (votequorum_qdevice_register);
        names are 1 to 254 bytes.
        """
    def qdevice_unregister(self, name: str) -> None:
        """
        Unregister the quorum device (votequorum_qdevice_unregister).
        """
    def qdevice_update(self, old_name: str, new_name: str) -> None:
        """
        Rename the quorum device (votequorum_qdevice_update).
        """
    def set_expected(self, votes: int) -> None:
        """
        Set the expected votes of the cluster (votequorum_setexpected). corosync refuses
        (InvalidParamError) fewer than the votes present, and values that would make a quorate
        cluster inquorate; values from 2**32 - 2 up, which it takes only because its arithmetic
        wraps around, are refused here.
        """
    def set_votes(self, votes: int, nodeid: int = 0) -> None:
        """
        Set a node's votes (votequorum_setvotes); nodeid 0 (the default) is this node.
        NameNotFoundError for a node votequorum does not know; InvalidParamError for votes that
        would leave the cluster inquorate.
        """
    def trackstart(self, flags: TrackFlags = TrackFlags.CHANGES) -> None:
        """
        Start reporting to the callbacks (votequorum_trackstart).
        """
    def trackstop(self) -> None:
        """
        Stop reporting (votequorum_trackstop).
        """
    @property
    def closed(self) -> bool:
        """
        True once close() was called.
        """
    @property
    def on_expectedvotes(self) -> collections.abc.Callable[[int], None] | None:
        """
        fn(expected_votes: int): they changed.
        """
    @on_expectedvotes.setter
    def on_expectedvotes(self, arg1: collections.abc.Callable[[int], None] | None) -> None: ...
    @property
    def on_nodelist(
        self,
    ) -> collections.abc.Callable[[corosync.types.RingId, list[int]], None] | None:
        """
        fn(ring_id, nodes: list[int]): the nodes of a new ring.
        """
    @on_nodelist.setter
    def on_nodelist(
        self, arg1: collections.abc.Callable[[corosync.types.RingId, list[int]], None] | None
    ) -> None: ...
    @property
    def on_notify(
        self,
    ) -> (
        collections.abc.Callable[
            [bool, corosync.types.RingId, list[corosync.votequorum.NodeStatus]], None
        ]
        | None
    ):
        """
        fn(quorate: bool, ring_id, nodes: list[NodeStatus]): the cluster's quorum state.
        """
    @on_notify.setter
    def on_notify(
        self,
        arg1: collections.abc.Callable[
            [bool, corosync.types.RingId, list[corosync.votequorum.NodeStatus]], None
        ]
        | None,
    ) -> None: ...
    @property
    def retry_timeout(self) -> float:
        """
        Seconds a call answered with CS_ERR_TRY_AGAIN is retried (the constructor's retry_timeout).
        """

class RecoveryPolicy(enum.IntFlag):
    """
    What SAM's supervisor does when the supervised process fails (sam_recovery_policy_t): QUIT or
    RESTART, optionally with QUORUM (run only while the node is quorate) and CMAP (publish the state
    under resources.process.<pid>).
    """

    QUIT = 1
    RESTART = 2
    QUORUM = 8
    CMAP = 16

class SamState(enum.Enum):
    """
    Where this process is in SAM's life cycle.
    """

    NOT_INITIALIZED = 0
    INITIALIZED = 1
    REGISTERED = 2
    STARTED = 3
    FINALIZED = 4

class ShutdownFlags(enum.IntEnum):
    """
    How a shutdown is asked for (corosync_cfg_shutdown_flags_t): REQUEST asks every tracking client
    and goes ahead only if all say yes in time; REGARDLESS asks them alike, waits for the answers,
    then goes ahead whatever they are; IMMEDIATE asks no one.
    """

    REQUEST = 0
    REGARDLESS = 1
    IMMEDIATE = 2

class ShutdownReply(enum.IntEnum):
    """
    The answer to a shutdown request (corosync_cfg_shutdown_reply_flags_t).
    """

    NO = 0
    YES = 1

class CFG:
    """
    A connection to corosync's configuration service (corosync_cfg_initialize): node and link
    status, reload, node kill and shutdown coordination.

    on_shutdown runs inside dispatch() in the calling thread once trackstart() was called.
    """
    def __enter__(self) -> typing.Self: ...
    def __exit__(
        self, exc_type: typing.Any, exc_value: typing.Any, traceback: typing.Any
    ) -> None: ...
    def __init__(
        self,
        *,
        on_shutdown: collections.abc.Callable[[ShutdownFlags], None] | None = None,
        retry_timeout: typing.SupportsFloat | typing.SupportsIndex = 3.0,
    ) -> None:
        """
        Connect to the local corosync's configuration service (corosync_cfg_initialize).
        on_shutdown(flags: ShutdownFlags) runs inside dispatch() after trackstart(), when a shutdown
        is asked for; answer a REQUEST with reply_to_shutdown(). Calls answered with
        CS_ERR_TRY_AGAIN are retried for up to retry_timeout seconds (0 disables retrying), then
        raise TryAgainError.
        """
    def __repr__(self) -> str: ...
    def close(self) -> None:
        """
        Finalize the connection (corosync_cfg_finalize). Idempotent; later calls raise ClosedError.
        """
    def cxx_handle(self) -> typing_extensions.CapsuleType:
        """
        This handle's C++ object (corosync_cxx), for another extension module built against the
        installed corosync_cxx package: a capsule named 'corosync_cxx.Cfg corosync_cxx 0.1 cxx11abi
        1' (COROSYNC_CXX_CAPSULE in <corosync_cxx/version.hpp>) that keeps the handle alive.
        ClosedError once closed.
        """
    def dispatch(self, flags: DispatchFlags = DispatchFlags.ALL) -> None:
        """
        Run the callbacks of queued events in this thread (corosync_cfg_dispatch).

        ALL runs what is queued and returns; ONE_NONBLOCKING runs at most one callback; ONE waits
        until one callback has run; BLOCKING runs events until the handle is closed or the
        connection is lost (LibraryError). Waiting releases the GIL and reacts to Ctrl-C. An
        exception raised by a callback propagates after that callback; later events stay queued.
        Calling dispatch from one of this handle's callbacks raises RuntimeError. flags may be a
        DispatchFlags or its int value.
        """
    def fileno(self) -> int:
        """
        An fd to poll for readability (select, selectors, asyncio), over the connection's
        (corosync_cfg_fd_get); never read from it. It is the same fd, open, for the handle's life:
        readable while an event is queued, and for good once the handle is closed (from any thread)
        or the daemon is lost, so that a poll always ends with a dispatch() that says why
        (ClosedError, LibraryError).
        """
    def kill_node(self, nodeid: int, reason: str) -> None:
        """
        Make a node's daemon exit; it logs `reason` (corosync_cfg_kill_node). The reason is at most
        255 UTF-8 bytes without NUL (NameTooLongError, InvalidParamError); NotExistError for a node
        not in the membership.
        """
    def node_addrs(self, nodeid: int = 0) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        """
        A node's configured addresses, one per link, as ipaddress objects
        (corosync_cfg_get_node_addrs; nodeid 0: this node). NotExistError for a node corosync does
        not know.
        """
    def node_status(self, nodeid: int) -> corosync.cfg.NodeStatus:
        """
        A node's knet status (corosync_cfg_node_status_get, version 1): reachable, remote, external,
        on-wire versions and its configured links, as this node sees them. FailedOperationError (the
        daemon's answer) for a node knet does not know.
        """
    def reload_config(self) -> None:
        """
        Every node rereads corosync.conf (corosync_cfg_reload_config).
        """
    def reopen_log_files(self) -> None:
        """
        This node's daemon reopens its log files, e.g. after logrotate
        (corosync_cfg_reopen_log_files).
        """
    def reply_to_shutdown(self, reply: ShutdownReply = ShutdownReply.YES) -> None:
        """
        Answer a shutdown REQUEST (corosync_cfg_replyto_shutdown). libcfg does not pass on the
        daemon's answer, and keeps this connection open until the process exits; close() stops
        tracking first.
        """
    def ring_status(self) -> list[corosync.cfg.RingStatus]:
        """
        Each link's name and status text, as corosync-cfgtool -s printed them before node_status
        existed (corosync_cfg_ring_status_get).
        """
    def trackstart(self) -> None:
        """
        Receive shutdown requests in on_shutdown (corosync_cfg_trackstart).
        """
    def trackstop(self) -> None:
        """
        Stop receiving shutdown requests (corosync_cfg_trackstop).
        """
    def try_shutdown(self, flags: ShutdownFlags = ShutdownFlags.REQUEST) -> None:
        """
        Ask this node's daemon to shut down (corosync_cfg_try_shutdown). REQUEST waits for every
        other tracking client's reply (up to cfg.shutdown_timeout, 5 s by default) and raises
        BusyError when one says no or does not answer; ExistError while another request is running.
        """
    @property
    def closed(self) -> bool:
        """
        True once close() was called.
        """
    @property
    def local_nodeid(self) -> int:
        """
        This node's id (corosync_cfg_local_get).
        """
    @property
    def on_shutdown(self) -> collections.abc.Callable[[ShutdownFlags], None] | None:
        """
        fn(flags: ShutdownFlags): a shutdown is being asked for; answer with reply_to_shutdown
        (under REGARDLESS it goes ahead whatever the answer).
        """
    @on_shutdown.setter
    def on_shutdown(self, arg1: collections.abc.Callable[[ShutdownFlags], None] | None) -> None: ...
    @property
    def retry_timeout(self) -> float:
        """
        Seconds a call answered with CS_ERR_TRY_AGAIN is retried (the constructor's retry_timeout).
        """

def sam_data_restore() -> bytes:
    """
    sam_data_restore: what was last stored (b'' if nothing).
    """

def sam_data_size() -> int:
    """
    sam_data_getsize: the size of the stored data.
    """

def sam_data_store(data: typing_extensions.Buffer | None) -> None:
    """
    sam_data_store: keeps `data` (bytes-like, or None to clear) in the supervisor for the next
    instance after a failure.
    """

def sam_finalize() -> None:
    """
    sam_finalize: stops if started; SAM cannot be initialized again in this process. Exiting while
    started counts as a failure: finalize (or stop) first to end cleanly.
    """

def sam_hc_send() -> None:
    """
    sam_hc_send: one health check.
    """

def sam_initialize(time_interval_ms: int, policy: RecoveryPolicy) -> None:
    """
    sam_initialize: health checks are due every `time_interval_ms` (> 0) once started; `policy` is
    QUIT or RESTART, optionally | QUORUM and/or | CMAP. Once per process. InvalidParamError (a
    ValueError) for a bad interval or policy, BadHandleError when already initialized or finalized.
    """

def sam_mark_failed() -> None:
    """
    sam_mark_failed: the supervisor kills this process and quits, leaving state 'failed' under
    resources.process.<pid> in CMAP. Needs the CMAP flag (InvalidParamError otherwise).
    """

def sam_register() -> int:
    """
    sam_register: forks. Returns the instance number (1, 2, ...) in the supervised child; the
    calling process stays SAM's supervisor and never returns (it exits when the child does under
    QUIT, and forks a new child after a failure under RESTART). RuntimeError while other Python
    threads run. SIGINT, SIGTERM or SIGHUP to the supervisor are passed on to the child (a second
    one kills it), and the supervisor then exits with 128 + the signal's number; a child whose
    supervisor dies gets SIGTERM.
    """

def sam_set_hc_callback(fn: collections.abc.Callable[[], bool | None]) -> None:
    """
    sam_hc_callback_register: event-driven health checks. From start() on, health checks are sent
    every time_interval / 4 ms and `fn()` is asked once per interval, on a thread of the binding's
    own; returning False or raising (the exception goes to sys.unraisablehook) stops them, and the
    supervisor recovers. Only while registered and not started, with time_interval_ms >= 4.
    """

def sam_set_warn_signal(signum: int) -> None:
    """
    sam_warn_signal_set: the signal sent first when health checks stop (SIGTERM unless set); SIGKILL
    follows one interval later.
    """

def sam_start() -> None:
    """
    sam_start: health checks are due from now on (with the QUORUM flag, waits until the node is
    quorate).
    """

def sam_state() -> SamState:
    """
    Where this process is in SAM's life cycle.
    """

def sam_stop() -> None:
    """
    sam_stop: no health checks are due.
    """

CMAP_KEYNAME_MAXLEN: int = 255
CMAP_KEYNAME_MINLEN: int = 3
CMAP_MAX_VALUE_SIZE: int = 16384
CPG_MAX_NAME_LENGTH: int = 128
CXX_ABI_TAG: str = "corosync_cxx 0.1 cxx11abi 1"
VOTEQUORUM_QDEVICE_MAX_NAME_LEN: int = 255
VOTEQUORUM_QDEVICE_NODEID: int = 0
__version__: str
