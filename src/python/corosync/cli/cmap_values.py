"""CMAP values on the command line: corosync-cmapctl's type names, its ``key (type) = value``
lines, the JSON of a value, and a value typed on the command line for ``cmap set``."""

from __future__ import annotations

import math
import os
import sys

from corosync.cli.errors import CliError
from corosync.cli.output import escaped, text_json
from corosync.cmap import TypedValue, ValueType

__all__ = ["TYPE_NAMES", "line", "parse_value", "type_name", "value_json"]

#: corosync-cmapctl's name of each type.
TYPE_NAMES = {
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
_BY_NAME = {name: value_type for value_type, name in TYPE_NAMES.items()}


def type_name(value_type: ValueType | int) -> str:
    """corosync-cmapctl's name of a type (the number of a type newer than this tool)."""
    try:
        return TYPE_NAMES[ValueType(value_type)]
    except ValueError:
        return str(int(value_type))


def line(key: str, typed: TypedValue, *, show_binary: bool = False) -> str:
    """corosync-cmapctl's line for a key: ``key (type) = value``; a binary value only with
    ``show_binary`` (cmapctl's -b), escaped."""
    head = f"{key} ({type_name(typed.type)})"
    value = typed.value
    if typed.type == ValueType.BINARY:
        return f"{head} = {escaped(_as_bytes(value))}" if show_binary else head
    if isinstance(value, float):
        return f"{head} = {value:f}"  # C's %f
    if isinstance(value, bytes):
        return f"{head} = {escaped(value)}"  # a STRING that is not UTF-8
    return f"{head} = {value}"


def value_json(typed: TypedValue) -> object:
    """A value as the schema writes it: numbers as numbers, non-finite floats as null,
    bytes as ``{"base64": ...}``."""
    value = typed.value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str | bytes):
        return text_json(value)
    return value


def _as_bytes(value: int | float | str | bytes) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def parse_value(type_text: str, text: str) -> tuple[ValueType, int | float | str | bytes]:
    """A value typed on the command line, as corosync-cmapctl -s takes it: TYPE one of its
    type names; for ``bin`` the value is a file name, or ``-`` for stdin."""
    value_type = _BY_NAME.get(type_text)
    if value_type is None:
        raise CliError(f"unknown type {type_text!r}; one of: {', '.join(_BY_NAME)}")
    try:
        if value_type in (ValueType.FLOAT, ValueType.DOUBLE):
            return value_type, float(text)
        if value_type == ValueType.STRING:
            return value_type, _typed_text(text)
        if value_type == ValueType.BINARY:
            return value_type, _read(text)
        return value_type, int(text)
    except ValueError:
        raise CliError(f"{text!r} is not a valid {type_text} value") from None


def _typed_text(text: str) -> str | bytes:
    # The bytes typed: Python decoded argv with surrogateescape, which os.fsencode undoes.
    raw = os.fsencode(text)
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()
