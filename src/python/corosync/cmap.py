"""The configuration and runtime database (corosync's CMAP service, ``cmap.h``).

Every key is a name of :data:`CMAP_KEYNAME_MINLEN` to :data:`CMAP_KEYNAME_MAXLEN` bytes of
``a-z A-Z 0-9 . _ - / :``; every value has one of twelve :class:`ValueType` s. The
``ICMAP`` map holds the configuration (``totem.*``, ``nodelist.*``, ``quorum.*``, …) and
the daemon's runtime state (``runtime.*``); the ``STATS`` map holds its statistics
(``stats.*``), read-only but for the ``stats.clear.*`` keys.

Values keep their types both ways: :meth:`CMAP.get` answers a :class:`TypedValue`, and
:meth:`CMAP.set` checks a value against the key's type (integers against their range) before
anything is sent. A STRING comes back as ``str`` when it is UTF-8 and as ``bytes`` otherwise;
BINARY values are ``bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, NamedTuple

from corosync import _corosync
from corosync._corosync import (
    CMAP,
    CmapMap,
    ItemIterator,
    KeyIterator,
    Track,
    TrackEvent,
    ValueType,
)

__all__ = [
    "CMAP",
    "CMAP_KEYNAME_MAXLEN",
    "CMAP_KEYNAME_MINLEN",
    "CMAP_MAX_VALUE_SIZE",
    "Change",
    "CmapMap",
    "ItemIterator",
    "KeyIterator",
    "Track",
    "TrackEvent",
    "TypedValue",
    "ValueType",
]

#: The shortest key name, in bytes (``CMAP_KEYNAME_MINLEN``, ``cmap.h``).
CMAP_KEYNAME_MINLEN: Final = _corosync.CMAP_KEYNAME_MINLEN
#: The longest key name, in bytes (``CMAP_KEYNAME_MAXLEN``, ``cmap.h``).
CMAP_KEYNAME_MAXLEN: Final = _corosync.CMAP_KEYNAME_MAXLEN
#: The largest value corosync stores, in bytes of ``BINARY`` or of ``STRING`` text
#: (``CMAP_MAX_VALUE_SIZE``): a larger one raises :class:`~corosync.errors.TooBigError`.
CMAP_MAX_VALUE_SIZE: Final = _corosync.CMAP_MAX_VALUE_SIZE


class TypedValue(NamedTuple):
    """A CMAP value with its type, as :meth:`CMAP.get` and track callbacks report it.

    ``value`` is an ``int`` for the integer types, a ``float`` for FLOAT and DOUBLE, a
    ``str`` for a STRING that is UTF-8 (``bytes`` otherwise) and ``bytes`` for BINARY.
    ``type`` is the plain number of a type newer than this binding.
    """

    type: ValueType
    value: int | float | str | bytes


@dataclass(frozen=True, slots=True)
class Change:
    """One change a track reported (corosync.aio.events on a CMAP yields them): the track
    callback's arguments as fields. ``new`` is None for a DELETE, ``old`` for an ADD."""

    event: TrackEvent
    key: str
    new: TypedValue | None
    old: TypedValue | None
