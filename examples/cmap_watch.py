"""Follow CMAP keys on one corosync node and print every change as it happens.

Run it on any node of a cluster (as root, or as a user allowed in ``uidgid.d``)::

    python3 examples/cmap_watch.py totem. quorum.      # everything under these prefixes
    python3 examples/cmap_watch.py --exact totem.token  # that key only
    python3 examples/cmap_watch.py --list --old runtime.config.

Like ``corosync-cmapctl -b -T PREFIX`` (``-t KEY`` with ``--exact``), it prints one line per
change, with cmapctl's type names (``i8`` ... ``u64``, ``flt``, ``dbl``, ``str``, ``bin``)
and value formats (``%f`` for ``flt`` and ``dbl``; a ``bin`` value, or a ``str`` value that is
not UTF-8, with every byte outside printable ASCII as ``\\xHH`` and a backslash doubled)::

    create> test.key (u32) = 5
    modify> test.key (u32) = 6
    delete> test.key (u32) = 6

A delete shows the value the key had. ``--old`` adds the previous value to a modify
(``modify> test.key (u32) = 6 (was (u32) = 5)``), ``--list`` prints the keys there are first
(``= test.key (u32) = 5``), and ``--events`` chooses which changes to report. Without a
prefix it follows the whole map. Lines that start with ``#`` are comments.

For scripts: ``--count N`` exits after N changes and ``--timeout S`` after S seconds.
Exit status 0, or 1 when ``--timeout`` expired before ``--count`` changes were seen or
corosync went away, 2 for a bad command line (a prefix with a character corosync does not
allow in key names, too). Ctrl-C and SIGTERM exit with 0.
"""

from __future__ import annotations

import argparse
import math
import select
import signal
import sys
import time
from types import FrameType

import corosync
from corosync.cmap import CMAP, TrackEvent, TypedValue, ValueType

TYPE_NAMES: dict[ValueType, str] = {
    ValueType.INT8: "i8",
    ValueType.UINT8: "u8",
    ValueType.INT16: "i16",
    ValueType.UINT16: "u16",
    ValueType.INT32: "i32",
    ValueType.UINT32: "u32",
    ValueType.INT64: "i64",
    ValueType.UINT64: "u64",
    ValueType.FLOAT: "flt",
    ValueType.DOUBLE: "dbl",
    ValueType.STRING: "str",
    ValueType.BINARY: "bin",
}

LABELS: dict[TrackEvent, str] = {
    TrackEvent.ADD: "create",
    TrackEvent.MODIFY: "modify",
    TrackEvent.DELETE: "delete",
}

EVENT_NAMES: dict[str, TrackEvent] = {
    "create": TrackEvent.ADD,
    "modify": TrackEvent.MODIFY,
    "delete": TrackEvent.DELETE,
}


def escaped(data: bytes) -> str:
    """Printable ASCII as is, a backslash doubled, any other byte as ``\\xHH``."""
    out = []
    for byte in data:
        if byte == 0x5C:
            out.append("\\\\")
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\x{byte:02X}")
    return "".join(out)


def shown(value: TypedValue) -> str:
    """``(type) = value`` as corosync-cmapctl prints it."""
    v = value.value
    if isinstance(v, bytes):
        text = escaped(v)
    elif isinstance(v, float):
        text = "nan" if math.isnan(v) else f"{v:f}"
    else:
        text = str(v)
    name = TYPE_NAMES.get(value.type, f"type {int(value.type)}")
    return f"({name}) = {text}"


class Watcher:
    """Prints (and counts) the changes that the tracks of one CMAP handle report."""

    def __init__(self, cmap: CMAP, show_old: bool) -> None:
        self.cmap = cmap
        self.show_old = show_old
        self.changes = 0

    def on_change(
        self, event: TrackEvent, key: str, new: TypedValue | None, old: TypedValue | None
    ) -> None:
        value = old if event == TrackEvent.DELETE else new
        line = f"{LABELS.get(event, f'event {int(event)}')}> {key}"
        if value is not None:
            line += f" {shown(value)}"
        if self.show_old and event == TrackEvent.MODIFY and old is not None:
            line += f" (was {shown(old)})"
        print(line, flush=True)
        self.changes += 1


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def watch(watcher: Watcher, count: int | None, timeout: float | None) -> int:
    """Dispatch until `count` changes or `timeout` seconds; the exit status."""
    deadline = None if timeout is None else time.monotonic() + timeout
    fd = watcher.cmap.fileno()
    while count is None or watcher.changes < count:
        wait = None if deadline is None else deadline - time.monotonic()
        if wait is not None and wait <= 0:
            return 0 if count is None else 1
        if select.select([fd], [], [], wait)[0]:
            watcher.cmap.dispatch(corosync.DispatchFlags.ALL)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print every change of CMAP keys, like corosync-cmapctl -b -T PREFIX."
    )
    parser.add_argument(
        "prefixes",
        nargs="*",
        metavar="PREFIX",
        help="follow the keys that start with PREFIX (default: every key)",
    )
    parser.add_argument(
        "--exact", action="store_true", help="follow the keys named, not prefixes (cmapctl -t)"
    )
    parser.add_argument(
        "--events",
        default="create,modify,delete",
        help="comma-separated changes to report: create, modify, delete (default: all)",
    )
    parser.add_argument("--old", action="store_true", help="show a modified key's old value")
    parser.add_argument("--list", action="store_true", help="print the current keys first")
    parser.add_argument("--count", type=int, help="exit after N changes")
    parser.add_argument("--timeout", type=float, help="exit after S seconds")
    args = parser.parse_args(argv)

    events = TrackEvent(0)
    for name in filter(None, (n.strip() for n in args.events.split(","))):
        if name not in EVENT_NAMES:
            parser.error(f"unknown event {name!r} (choose from {', '.join(EVENT_NAMES)})")
        events |= EVENT_NAMES[name]
    if not events:
        parser.error("--events names no event")
    if args.exact and not args.prefixes:
        parser.error("--exact needs at least one key")
    prefixes: list[str] = args.prefixes or [""]

    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        cmap = CMAP()
    except corosync.CorosyncError as e:
        print(f"cmap_watch: cannot connect to corosync: {e}", file=sys.stderr)
        return 1
    try:
        watcher = Watcher(cmap, args.old)
        try:
            for prefix in prefixes:
                cmap.track(prefix, watcher.on_change, events=events, prefix=not args.exact)
        except ValueError as e:  # a prefix (or key) corosync could not hold
            parser.error(str(e))
        if args.list:
            for prefix in prefixes:
                if args.exact:
                    if prefix in cmap:
                        print(f"= {prefix} {shown(cmap.get(prefix))}", flush=True)
                else:
                    for key, value in cmap.items(prefix):
                        print(f"= {key} {shown(value)}", flush=True)
        what = "keys" if args.exact else "prefixes"
        print(f"# watching {what} {', '.join(map(repr, prefixes))}", flush=True)
        return watch(watcher, args.count, args.timeout)
    except KeyboardInterrupt:
        return 0
    except corosync.LibraryError as e:
        print(f"cmap_watch: lost the connection to corosync: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        cmap.close()


if __name__ == "__main__":
    sys.exit(main())
