"""CMAP test helpers: unique key names, recording track callbacks, waiting for an event, reading
what ``corosync-cmapctl`` prints, and counting the requests corosync received on one CMAP
connection. (Pumping handles until something happened: cpg_events.pump, for CMAP too.)"""

from __future__ import annotations

import math
import os
import re
import select
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import corosync

# The type names corosync-cmapctl prints (``key (u32) = 5``) and takes (``-s key u32 5``): the
# command line's table, which its own tests check against corosync-cmapctl.
from corosync.cli.cmap_values import TYPE_NAMES as TYPE_NAMES
from corosync.cmap import TrackEvent, TypedValue, ValueType
from corosync.testing import Node

#: The range of each integer type.
INT_RANGES: dict[ValueType, tuple[int, int]] = {
    ValueType.INT8: (-(2**7), 2**7 - 1),
    ValueType.UINT8: (0, 2**8 - 1),
    ValueType.INT16: (-(2**15), 2**15 - 1),
    ValueType.UINT16: (0, 2**16 - 1),
    ValueType.INT32: (-(2**31), 2**31 - 1),
    ValueType.UINT32: (0, 2**32 - 1),
    ValueType.INT64: (-(2**63), 2**63 - 1),
    ValueType.UINT64: (0, 2**64 - 1),
}

#: The largest finite C float (FLT_MAX).
FLT_MAX: float = struct.unpack("<f", b"\xff\xff\x7f\x7f")[0]

#: The largest value corosync stores (ICMAP_MAX_VALUE_LEN in exec/icmap.c, 16 KiB): BINARY
#: values up to this many bytes; STRING values up to this many bytes before the NUL that
#: corosync adds (as cmap_set_string() and ``corosync-cmapctl -s`` send them).
MAX_VALUE_LEN = 16 * 1024


def unique_prefix(tag: str = "test") -> str:
    """A key prefix no other test uses, ending with a dot."""
    return f"{tag}.{uuid.uuid4().hex[:12]}."


def as_float(value: float) -> float:
    """`value` rounded to a C float, as a FLOAT key stores it."""
    rounded: float = struct.unpack("<f", struct.pack("<f", value))[0]
    return rounded


@dataclass(frozen=True)
class Change:
    """One call of a track callback."""

    event: TrackEvent
    key: str
    new: TypedValue | None
    old: TypedValue | None


@dataclass
class ChangeRecorder:
    """A track callback that records every call, in order."""

    changes: list[Change] = field(default_factory=list)

    def __call__(
        self, event: TrackEvent, key: str, new: TypedValue | None, old: TypedValue | None
    ) -> None:
        self.changes.append(Change(event, key, new, old))

    def keys(self) -> list[str]:
        return [c.key for c in self.changes]


def wait_readable(handle: corosync.CMAP, timeout: float = 10.0) -> None:
    assert select.select([handle], [], [], timeout)[0], "no event arrived"


# --- corosync-cmapctl -------------------------------------------------------------------


@dataclass(frozen=True)
class Printed:
    """One line of ``corosync-cmapctl`` output: ``key (type) = value``. ``value`` is None for
    a BINARY key listed without ``-b`` (cmapctl then prints no value at all)."""

    key: str
    type_name: str
    value: str | None


_LINE = re.compile(r"^(?P<key>\S+) \((?P<type>[a-z0-9]+)\)(?: = (?P<value>.*))?$")


def parse_cmapctl(text: str) -> list[Printed]:
    """The lines of ``corosync-cmapctl`` (listing or ``-g``) output, in order. Values are kept
    exactly, trailing spaces included (``runtime.members.1.ip`` ends with one)."""
    printed = []
    for line in text.split("\n"):
        if not line:
            continue
        match = _LINE.match(line)
        assert match, f"unexpected corosync-cmapctl line {line!r}"
        printed.append(Printed(match["key"], match["type"], match["value"]))
    return printed


def cmapctl_binary(value: bytes) -> str:
    """A BINARY value as ``corosync-cmapctl -b`` prints it: printable ASCII as is, a backslash
    doubled, anything else as ``\\xHH``. cmapctl 3.1.7 passes a signed char to printf, so a
    byte from 0x80 up comes out sign-extended (``\\xFFFFFF80``); that is reproduced here."""
    out = []
    for byte in value:
        if byte == 0x5C:
            out.append("\\\\")
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        elif byte < 0x80:
            out.append(f"\\x{byte:02X}")
        else:
            out.append(f"\\x{byte | 0xFFFFFF00:08X}")
    return "".join(out)


def cmapctl_text(value: TypedValue) -> str:
    """The text ``corosync-cmapctl -b`` prints for `value`: integers in decimal, FLOAT and
    DOUBLE with printf's ``%f``, STRING as is, BINARY escaped."""
    v = value.value
    if value.type in INT_RANGES:
        assert isinstance(v, int)
        return str(v)
    if value.type in (ValueType.FLOAT, ValueType.DOUBLE):
        assert isinstance(v, float)
        # printf and Python agree on %f, for nan and the infinities too ("nan", "-inf").
        return "nan" if math.isnan(v) else f"{v:f}"
    if value.type == ValueType.STRING:
        assert isinstance(v, str), "cmapctl prints raw bytes; compare UTF-8 strings only"
        return v
    assert isinstance(v, bytes)
    return cmapctl_binary(v)


def cmapctl(node: Node, *args: str, check: bool = True) -> str:
    """Run ``corosync-cmapctl ARGS`` on `node` and return its standard output; with
    `check`, a non-zero exit fails the test with cmapctl's standard error."""
    proc = node.run(["corosync-cmapctl", *args])
    if check:
        assert proc.returncode == 0, f"corosync-cmapctl {args} failed: {proc.stderr}"
    return proc.stdout


def cmapctl_get(node: Node, key: str, *, stats: bool = False) -> Printed:
    """``corosync-cmapctl -b -g KEY`` on `node`, parsed."""
    args = ["-m", "stats"] if stats else []
    [printed] = parse_cmapctl(cmapctl(node, *args, "-b", "-g", key))
    assert printed.key == key
    return printed


# --- one connection's request counter in the stats map ----------------------------------


class ConnectionRequests:
    """Counts the requests corosync has received on one CMAP connection of this process:
    the stats map's ``stats.ipcs.service0.<pid>.<connection>.requests``, read with
    ``corosync-cmapctl`` (a process of its own, so reading does not count).

    Create it around the call that opens the handle: the connection is the one of this
    process that appeared meanwhile. Used to see that corosync's iterators are finalized
    (``cmap_iter_finalize`` is one request) and that a call costs one round trip.
    """

    def __init__(self, node: Node, open_handle: Callable[[], corosync.CMAP]) -> None:
        self.node = node
        before = self._connections()
        self.handle = open_handle()
        new = self._connections() - before
        assert len(new) == 1, f"expected one new CMAP connection, found {sorted(new)}"
        [self.key] = new

    def _connections(self) -> set[str]:
        prefix = f"stats.ipcs.service0.{os.getpid()}."
        # No key under the prefix: cmapctl prints nothing and exits 1.
        text = cmapctl(self.node, "-m", "stats", prefix, check=False)
        return {p.key for p in parse_cmapctl(text) if p.key.endswith(".requests")}

    def count(self) -> int:
        return int(cmapctl(self.node, "-m", "stats", "-q", "-g", self.key))
