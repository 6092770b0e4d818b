"""CMAP and corosync-cmapctl on a real one-node cluster: keys set by ``corosync-cmapctl -s``
read from Python with the right type and value, and keys set from Python printed by
corosync-cmapctl with its type names; deletes and increments seen both ways."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from typing import IO

import pytest
from cmap_helpers import (
    FLT_MAX,
    MAX_VALUE_LEN,
    TYPE_NAMES,
    Printed,
    as_float,
    cmapctl,
    cmapctl_binary,
    cmapctl_get,
    cmapctl_text,
)

import corosync
from corosync.cmap import TypedValue, ValueType
from corosync.testing import Node


def cmapctl_set(node: Node, key: str, type_name: str, value: str) -> None:
    # "--": a value such as -128 is not an option.
    cmapctl(node, "-s", "--", key, type_name, value)


@pytest.fixture
def binary_file() -> Iterator[IO[bytes]]:
    """A file for ``corosync-cmapctl -s KEY bin FILE`` (the node shares the file system)."""
    with tempfile.NamedTemporaryFile() as f:
        yield f


def write(f: IO[bytes], data: bytes) -> str:
    f.seek(0)
    f.truncate()
    f.write(data)
    f.flush()
    return f.name


# (type name, text given to cmapctl -s, the value Python reads)
SET_BY_CMAPCTL: list[tuple[str, str, TypedValue]] = [
    ("i8", "-128", TypedValue(ValueType.INT8, -128)),
    ("i8", "127", TypedValue(ValueType.INT8, 127)),
    ("u8", "255", TypedValue(ValueType.UINT8, 255)),
    ("i16", "-32768", TypedValue(ValueType.INT16, -32768)),
    ("u16", "65535", TypedValue(ValueType.UINT16, 65535)),
    ("i32", "-2147483648", TypedValue(ValueType.INT32, -(2**31))),
    ("u32", "4294967295", TypedValue(ValueType.UINT32, 2**32 - 1)),
    ("i64", "-9223372036854775808", TypedValue(ValueType.INT64, -(2**63))),
    ("i64", "9223372036854775807", TypedValue(ValueType.INT64, 2**63 - 1)),
    ("u64", "18446744073709551615", TypedValue(ValueType.UINT64, 2**64 - 1)),
    ("u64", "0", TypedValue(ValueType.UINT64, 0)),
    ("flt", "1.5", TypedValue(ValueType.FLOAT, 1.5)),
    ("flt", "0.1", TypedValue(ValueType.FLOAT, as_float(0.1))),
    ("flt", "3.4028234663852886e38", TypedValue(ValueType.FLOAT, FLT_MAX)),
    ("flt", "-inf", TypedValue(ValueType.FLOAT, -math.inf)),
    ("dbl", "0.1", TypedValue(ValueType.DOUBLE, 0.1)),
    ("dbl", "-1e300", TypedValue(ValueType.DOUBLE, -1e300)),
    ("dbl", "inf", TypedValue(ValueType.DOUBLE, math.inf)),
    ("str", "hello world", TypedValue(ValueType.STRING, "hello world")),
    ("str", "grüße ✓", TypedValue(ValueType.STRING, "grüße ✓")),
    ("str", "  padded  ", TypedValue(ValueType.STRING, "  padded  ")),
    ("str", "", TypedValue(ValueType.STRING, "")),
]


class TestSetByCmapctl:
    @pytest.mark.parametrize(
        ("type_name", "text", "expected"),
        SET_BY_CMAPCTL,
        ids=[f"{t}={v!r}" for t, v, _ in SET_BY_CMAPCTL],
    )
    def test_a_key_set_by_cmapctl_reads_with_its_type_and_value(
        self,
        cmap: corosync.CMAP,
        corosync_node: Node,
        prefix: str,
        type_name: str,
        text: str,
        expected: TypedValue,
    ) -> None:
        cmapctl_set(corosync_node, prefix + "k", type_name, text)
        got = cmap.get(prefix + "k")
        assert got == expected
        assert TYPE_NAMES[got.type] == type_name
        assert type(got.value) is type(expected.value)

    def test_a_nan_set_by_cmapctl_reads_as_nan(
        self, cmap: corosync.CMAP, corosync_node: Node, prefix: str
    ) -> None:
        for type_name, kind in (("flt", ValueType.FLOAT), ("dbl", ValueType.DOUBLE)):
            cmapctl_set(corosync_node, prefix + type_name, type_name, "nan")
            got = cmap.get(prefix + type_name)
            assert got.type == kind
            assert isinstance(got.value, float) and math.isnan(got.value)

    def test_a_binary_value_set_by_cmapctl_reads_as_bytes(
        self,
        cmap: corosync.CMAP,
        corosync_node: Node,
        prefix: str,
        binary_file: IO[bytes],
    ) -> None:
        # Not b"": cmapctl passes a NULL value for an empty file, which libcmap refuses.
        for value in (b"\x00\x01\x02\xff", bytes(range(256)) * 8, b"\x00"):
            cmapctl_set(corosync_node, prefix + "bin", "bin", write(binary_file, value))
            assert cmap.get(prefix + "bin") == TypedValue(ValueType.BINARY, value)

    def test_the_longest_values_cmapctl_stores_read_back_whole(
        self,
        cmap: corosync.CMAP,
        corosync_node: Node,
        prefix: str,
        binary_file: IO[bytes],
    ) -> None:
        text = "abcdefghijklmnop" * (MAX_VALUE_LEN // 16)
        cmapctl_set(corosync_node, prefix + "str", "str", text)
        assert cmap.get(prefix + "str") == TypedValue(ValueType.STRING, text)
        data = bytes(i * 13 % 256 for i in range(MAX_VALUE_LEN))
        cmapctl_set(corosync_node, prefix + "bin", "bin", write(binary_file, data))
        assert cmap.get(prefix + "bin") == TypedValue(ValueType.BINARY, data)

    def test_a_type_changed_by_cmapctl_is_seen(
        self, cmap: corosync.CMAP, corosync_node: Node, prefix: str
    ) -> None:
        cmap.set(prefix + "k", "text")
        cmapctl_set(corosync_node, prefix + "k", "u16", "7")
        assert cmap.get(prefix + "k") == TypedValue(ValueType.UINT16, 7)
        # And a plain set keeps the type cmapctl gave it.
        cmap[prefix + "k"] = 8
        assert cmap.get(prefix + "k") == TypedValue(ValueType.UINT16, 8)

    def test_a_key_deleted_by_cmapctl_is_gone(
        self, cmap: corosync.CMAP, corosync_node: Node, prefix: str
    ) -> None:
        cmap.set(prefix + "k", 1)
        cmapctl(corosync_node, "-d", prefix + "k")
        assert prefix + "k" not in cmap
        with pytest.raises(corosync.NotExistError):
            cmap.get(prefix + "k")

    def test_keys_deleted_by_prefix_by_cmapctl_are_gone(
        self, cmap: corosync.CMAP, corosync_node: Node, prefix: str
    ) -> None:
        for name in ("a", "b", "c.d"):
            cmap.set(prefix + name, name)
        cmapctl(corosync_node, "-D", prefix)
        assert list(cmap.keys(prefix)) == []


class TestPrintedByCmapctl:
    @pytest.mark.parametrize(
        "value",
        [
            TypedValue(ValueType.INT8, -128),
            TypedValue(ValueType.UINT8, 255),
            TypedValue(ValueType.INT16, -32768),
            TypedValue(ValueType.UINT16, 65535),
            TypedValue(ValueType.INT32, -(2**31)),
            TypedValue(ValueType.UINT32, 2**32 - 1),
            TypedValue(ValueType.INT64, -(2**63)),
            TypedValue(ValueType.UINT64, 2**64 - 1),
            TypedValue(ValueType.FLOAT, FLT_MAX),
            TypedValue(ValueType.FLOAT, as_float(0.1)),
            TypedValue(ValueType.FLOAT, -math.inf),
            TypedValue(ValueType.DOUBLE, 1 / 3),
            TypedValue(ValueType.DOUBLE, 1e300),
            TypedValue(ValueType.DOUBLE, -2.5e-7),
            TypedValue(ValueType.DOUBLE, math.inf),
            TypedValue(ValueType.STRING, "héllo wörld "),
            TypedValue(ValueType.STRING, ""),
            TypedValue(ValueType.BINARY, b"\x00\x01a\\b\x7f \"'"),
            TypedValue(ValueType.BINARY, b""),
        ],
        ids=lambda v: f"{v.type.name}={v.value!r}"[:40],
    )
    def test_a_key_set_here_prints_with_cmapctls_type_name_and_format(
        self, cmap: corosync.CMAP, corosync_node: Node, prefix: str, value: TypedValue
    ) -> None:
        cmap.set(prefix + "k", value.value, value.type)
        expected = Printed(prefix + "k", TYPE_NAMES[value.type], cmapctl_text(value))
        assert cmapctl_get(corosync_node, prefix + "k") == expected

    def test_nan_prints_as_nan(self, cmap: corosync.CMAP, corosync_node: Node, prefix: str) -> None:
        cmap.set(prefix + "f", math.nan, ValueType.FLOAT)
        cmap.set(prefix + "d", math.nan)
        assert cmapctl_get(corosync_node, prefix + "f") == Printed(prefix + "f", "flt", "nan")
        assert cmapctl_get(corosync_node, prefix + "d") == Printed(prefix + "d", "dbl", "nan")

    def test_every_type_name_is_printed_in_a_listing(
        self, cmap: corosync.CMAP, corosync_node: Node, prefix: str
    ) -> None:
        shown = {"flt": "1.000000", "dbl": "1.000000", "str": "1"}
        values: dict[ValueType, int | str | bytes] = {ValueType.BINARY: b"1", ValueType.STRING: "1"}
        for kind, name in TYPE_NAMES.items():
            cmap.set(prefix + name, values.get(kind, 1), kind)
        # Without -b a BINARY key is listed with its type and no value.
        assert cmapctl(corosync_node, prefix).splitlines() == [
            f"{prefix}{name} ({name})"
            if name == "bin"
            else f"{prefix}{name} ({name}) = {shown.get(name, '1')}"
            for name in sorted(TYPE_NAMES.values())
        ]

    def test_binary_bytes_are_escaped_as_cmapctl_does(
        self, cmap: corosync.CMAP, corosync_node: Node, prefix: str
    ) -> None:
        value = bytes(range(0x80))
        cmap.set(prefix + "b", value)
        printed = cmapctl_get(corosync_node, prefix + "b")
        assert printed.value == cmapctl_binary(value)
        assert printed.value.startswith("\\x00\\x01") and "\\\\" in printed.value

    def test_an_increment_here_is_printed_by_cmapctl_and_the_reverse(
        self, cmap: corosync.CMAP, corosync_node: Node, prefix: str
    ) -> None:
        cmapctl_set(corosync_node, prefix + "n", "u32", "41")
        cmap.inc(prefix + "n")
        assert cmapctl_get(corosync_node, prefix + "n") == Printed(prefix + "n", "u32", "42")

    def test_a_key_deleted_here_is_gone_for_cmapctl(
        self, cmap: corosync.CMAP, corosync_node: Node, prefix: str
    ) -> None:
        cmapctl_set(corosync_node, prefix + "k", "str", "x")
        del cmap[prefix + "k"]
        proc = corosync_node.run(["corosync-cmapctl", "-g", prefix + "k"])
        assert proc.returncode != 0
        assert "CS_ERR_NOT_EXIST" in proc.stderr

    def test_cmapctl_refuses_what_python_refuses(
        self, cmap: corosync.CMAP, corosync_node: Node, prefix: str
    ) -> None:
        # Both sides check a key's value range: 256 is no u8 for either.
        proc = corosync_node.run(["corosync-cmapctl", "-s", prefix + "k", "u8", "256"])
        assert proc.returncode != 0
        with pytest.raises(OverflowError):
            cmap.set(prefix + "k", 256, ValueType.UINT8)
        # And both are refused a read-only key by corosync.
        proc = corosync_node.run(["corosync-cmapctl", "-s", "totem.cluster_name", "str", "x"])
        assert "CS_ERR_ACCESS" in proc.stderr
        with pytest.raises(corosync.AccessError):
            cmap.set("totem.cluster_name", "x")
