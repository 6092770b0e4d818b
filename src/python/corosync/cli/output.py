"""How a command prints: JSON documents of the shipped schema (one per line), or text laid
out as corosync's own tools lay it out. Also the encodings every command shares: ring ids,
text that may not be UTF-8, and escaping for a terminal."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterable

from corosync.types import RingId

__all__ = ["SCHEMA_VERSION", "Output", "escaped", "ring_id_json", "ring_id_text", "text_json"]

#: The ``schema_version`` of every JSON document (corosync/cli/schema/v<N>.json).
SCHEMA_VERSION = 1


class Output:
    """Where a command's result goes: stdout, as JSON when ``json`` is set, else as text.
    Every write is flushed, so that a streaming command's lines reach a pipe at once."""

    def __init__(self, *, json: bool) -> None:
        self.json = json

    def document(self, kind: str, fields: dict[str, object]) -> None:
        """Print one JSON document of the schema's definition ``kind``, on one line."""
        doc = {"schema_version": SCHEMA_VERSION, "kind": kind, **fields}
        sys.stdout.write(json.dumps(doc, allow_nan=False) + "\n")
        sys.stdout.flush()

    def lines(self, lines: Iterable[str]) -> None:
        """Print text lines."""
        sys.stdout.write("".join(f"{line}\n" for line in lines))
        sys.stdout.flush()


def ring_id_text(ring: RingId) -> str:
    """corosync's spelling since 3.0.3 (CS_PRI_RING_ID): hexadecimal ``nodeid.seq``."""
    return f"{ring.nodeid:x}.{ring.seq:x}"


def ring_id_json(ring: RingId) -> dict[str, object]:
    """A ring id with both spellings: ``1.c`` and corosync-quorumtool's older ``1/12``."""
    return {
        "nodeid": ring.nodeid,
        "seq": ring.seq,
        "text": ring_id_text(ring),
        "legacy_text": f"{ring.nodeid}/{ring.seq}",
    }


def text_json(value: str | bytes) -> object:
    """A string as itself; bytes (not UTF-8) as ``{"base64": ...}``."""
    if isinstance(value, str):
        return value
    return {"base64": base64.b64encode(value).decode("ascii")}


def escaped(value: str | bytes) -> str:
    """Text safe for one terminal line, as corosync-cpgtool and corosync-cmapctl -b print
    names and binary values: backslash doubled, bytes outside printable ASCII as ``\\xNN``
    (a UTF-8 string keeps its printable characters)."""
    if isinstance(value, bytes):
        return "".join(
            "\\\\" if b == 0x5C else chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02X}" for b in value
        )
    return "".join(
        "\\\\" if c == "\\" else c if c.isprintable() else escaped(c.encode()) for c in value
    )
