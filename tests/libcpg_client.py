"""A CPG client that calls corosync's libcpg directly through ctypes, without the binding:
the order audit's reference member (tests/audit_member.py --libcpg). Run beside a member that
uses the binding, on the same node, it receives the same events from the same daemon, so the
two members' logs show whether the binding delivered exactly what libcpg did, and whether a
lapse the audit finds is the binding's or corosync's.

Only what the audit member needs: join one group, multicast (agreed order), dispatch, with
the three callbacks of CPG_MODEL_V1 (deliver, confchg, totem confchg) and
CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF, as the member that uses the binding asks for.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable
from typing import Any

__all__ = ["CpgLost", "LibcpgClient"]

_CS_OK = 1
_CS_ERR_TRY_AGAIN = 6
_CS_DISPATCH_ALL = 2
_CPG_MODEL_V1 = 1
_CPG_TYPE_AGREED = 1
_DELIVER_INITIAL_TOTEM_CONF = 1


class _Name(ctypes.Structure):
    _fields_ = [("length", ctypes.c_uint32), ("value", ctypes.c_char * 128)]


class _Address(ctypes.Structure):
    _fields_ = [("nodeid", ctypes.c_uint32), ("pid", ctypes.c_uint32), ("reason", ctypes.c_uint32)]


class _RingId(ctypes.Structure):
    _fields_ = [("nodeid", ctypes.c_uint32), ("seq", ctypes.c_uint64)]


class _Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("length", ctypes.c_size_t)]


_Deliver = ctypes.CFUNCTYPE(
    None,
    ctypes.c_uint64,
    ctypes.POINTER(_Name),
    ctypes.c_uint32,
    ctypes.c_uint32,
    ctypes.c_void_p,
    ctypes.c_size_t,
)
_Confchg = ctypes.CFUNCTYPE(
    None,
    ctypes.c_uint64,
    ctypes.POINTER(_Name),
    ctypes.POINTER(_Address),
    ctypes.c_size_t,
    ctypes.POINTER(_Address),
    ctypes.c_size_t,
    ctypes.POINTER(_Address),
    ctypes.c_size_t,
)
_TotemConfchg = ctypes.CFUNCTYPE(
    None, ctypes.c_uint64, _RingId, ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint32)
)


class _ModelV1(ctypes.Structure):
    _fields_ = [
        ("model", ctypes.c_int),
        ("deliver", _Deliver),
        ("confchg", _Confchg),
        ("totem_confchg", _TotemConfchg),
        ("flags", ctypes.c_uint),
    ]


class CpgLost(Exception):
    """A libcpg call failed with an error other than TRY_AGAIN (the daemon went away)."""


#: (nodeid, pid) of each member of a confchg.
Members = list[tuple[int, int]]


class LibcpgClient:
    """One libcpg handle. Callbacks: ``on_deliver(nodeid, pid, message)``,
    ``on_confchg(members)``, ``on_totem_confchg((ring_nodeid, ring_seq), nodes)``."""

    def __init__(
        self,
        on_deliver: Callable[[int, int, bytes], None],
        on_confchg: Callable[[Members], None],
        on_totem_confchg: Callable[[tuple[int, int], list[int]], None],
    ) -> None:
        self._lib: Any = ctypes.CDLL("libcpg.so.4")

        def deliver(h: int, group: Any, nodeid: int, pid: int, msg: int, size: int) -> None:
            on_deliver(nodeid, pid, ctypes.string_at(msg, size))

        def confchg(h: int, group: Any, members: Any, n: int, *_: Any) -> None:
            on_confchg([(members[i].nodeid, members[i].pid) for i in range(n)])

        def totem_confchg(h: int, ring: _RingId, n: int, nodes: Any) -> None:
            on_totem_confchg((ring.nodeid, ring.seq), [nodes[i] for i in range(n)])

        # Kept: libcpg calls these for as long as the handle lives.
        self._model = _ModelV1(
            _CPG_MODEL_V1,
            _Deliver(deliver),
            _Confchg(confchg),
            _TotemConfchg(totem_confchg),
            _DELIVER_INITIAL_TOTEM_CONF,
        )
        self._handle = ctypes.c_uint64()
        self._check(
            "cpg_model_initialize",
            self._lib.cpg_model_initialize(
                ctypes.byref(self._handle), _CPG_MODEL_V1, ctypes.byref(self._model), None
            ),
        )
        nodeid, fd = ctypes.c_uint(), ctypes.c_int()
        self._check("cpg_local_get", self._lib.cpg_local_get(self._handle, ctypes.byref(nodeid)))
        self._check("cpg_fd_get", self._lib.cpg_fd_get(self._handle, ctypes.byref(fd)))
        self.nodeid, self.fd = nodeid.value, fd.value

    @staticmethod
    def _check(function: str, rc: int) -> None:
        if rc != _CS_OK:
            raise CpgLost(f"{function} failed: cs_error_t {rc}")

    def join(self, group: str, timeout: float) -> None:
        """Join, waiting out TRY_AGAIN (a node still synchronizing) up to ``timeout`` s."""
        raw = group.encode()
        name = _Name(len(raw), raw)
        deadline = time.monotonic() + timeout
        while (rc := self._lib.cpg_join(self._handle, ctypes.byref(name))) == _CS_ERR_TRY_AGAIN:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self._check("cpg_join", rc)

    def mcast(self, message: bytes) -> bool:
        """Send with agreed order; False on TRY_AGAIN (flow control, a membership change)."""
        buffer = ctypes.create_string_buffer(message, len(message))
        iov = _Iovec(ctypes.cast(buffer, ctypes.c_void_p), len(message))
        rc = self._lib.cpg_mcast_joined(self._handle, _CPG_TYPE_AGREED, ctypes.byref(iov), 1)
        if rc == _CS_ERR_TRY_AGAIN:
            return False
        self._check("cpg_mcast_joined", rc)
        return True

    def dispatch(self) -> None:
        """Everything queued (CS_DISPATCH_ALL), as the binding's member does."""
        self._check("cpg_dispatch", self._lib.cpg_dispatch(self._handle, _CS_DISPATCH_ALL))

    def close(self) -> None:
        self._lib.cpg_finalize(self._handle)
