"""CMAP values on a real one-node cluster: every value type at its minimum, maximum and one
past each, floats (NaN, infinities, a C float's range), strings (UTF-8 or not, NUL, 16 KiB),
binary values (NULs, 16 KiB), and the type a new key gets from its Python value."""

from __future__ import annotations

import array
import math
import struct
import sys
from typing import Any

import pytest
from cmap_helpers import FLT_MAX, INT_RANGES, MAX_VALUE_LEN, as_float

import corosync
from corosync import CsError
from corosync.cmap import TypedValue, ValueType

INTEGER_TYPES = list(INT_RANGES)


def assert_missing(cmap: corosync.CMAP, key: str) -> None:
    with pytest.raises(corosync.NotExistError):
        cmap.get(key)


def assert_refused(
    cmap: corosync.CMAP,
    key: str,
    *args: Any,
    raises: type[Exception] | tuple[type[Exception], ...],
) -> None:
    """``cmap.set(key, *args)`` raises `raises` and leaves `key` missing."""
    with pytest.raises(raises):
        cmap.set(key, *args)
    assert_missing(cmap, key)


class TestIntegerTypes:
    @pytest.mark.parametrize("kind", INTEGER_TYPES, ids=lambda t: t.name)
    def test_the_minimum_and_the_maximum_round_trip(
        self, cmap: corosync.CMAP, prefix: str, kind: ValueType
    ) -> None:
        low, high = INT_RANGES[kind]
        for value in (low, high, 0, 1):
            cmap.set(prefix + "n", value, kind)
            got = cmap.get(prefix + "n")
            assert got == TypedValue(kind, value)
            assert type(got.value) is int

    @pytest.mark.parametrize("kind", INTEGER_TYPES, ids=lambda t: t.name)
    def test_one_past_either_limit_raises_overflow_error_naming_the_type_and_range(
        self, cmap: corosync.CMAP, prefix: str, kind: ValueType
    ) -> None:
        low, high = INT_RANGES[kind]
        key = prefix + "n"
        for value in (low - 1, high + 1):
            with pytest.raises(OverflowError) as info:
                cmap.set(key, value, kind)
            message = str(info.value)
            assert kind.name in message and str(low) in message and str(high) in message, message
            assert str(value) in message
        assert_missing(cmap, key)
        # An existing key keeps its value.
        cmap.set(key, high, kind)
        with pytest.raises(OverflowError):
            cmap.set(key, high + 1, kind)
        with pytest.raises(OverflowError):
            cmap.set(key, high + 1)
        assert cmap.get(key) == TypedValue(kind, high)

    def test_the_overflow_message_reads_as_documented(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        with pytest.raises(
            OverflowError, match=r"value 256 is out of range for UINT8 \(0 to 255\)$"
        ):
            cmap.set(prefix + "n", 256, ValueType.UINT8)

    @pytest.mark.parametrize("kind", INTEGER_TYPES, ids=lambda t: t.name)
    @pytest.mark.parametrize(
        "value",
        [True, False, 1.0, "1", b"\x01", None],
        ids=["True", "False", "float", "str", "bytes", "None"],
    )
    def test_an_integer_type_takes_int_only(
        self, cmap: corosync.CMAP, prefix: str, kind: ValueType, value: Any
    ) -> None:
        assert_refused(cmap, prefix + "n", value, kind, raises=TypeError)


class TestFloatingPoint:
    def test_float_holds_its_extremes(self, cmap: corosync.CMAP, prefix: str) -> None:
        smallest_subnormal = struct.unpack("<f", b"\x01\x00\x00\x00")[0]
        for value in (FLT_MAX, -FLT_MAX, smallest_subnormal, -smallest_subnormal, 0.0, 1.5):
            cmap.set(prefix + "f", value, ValueType.FLOAT)
            assert cmap.get(prefix + "f") == TypedValue(ValueType.FLOAT, value)

    def test_float_rounds_to_a_c_float(self, cmap: corosync.CMAP, prefix: str) -> None:
        cmap.set(prefix + "f", 0.1, ValueType.FLOAT)
        got = cmap.get(prefix + "f")
        assert got == TypedValue(ValueType.FLOAT, as_float(0.1))
        assert got.value != 0.1
        # An int is taken too, rounded the same way (2**24 + 1 is not a float).
        cmap.set(prefix + "f", 2**24 + 1, ValueType.FLOAT)
        assert cmap.get(prefix + "f") == TypedValue(ValueType.FLOAT, float(2**24))

    @pytest.mark.parametrize("value", [3.5e38, -3.5e38, 1e39, -1e300, sys.float_info.max, 2**200])
    def test_float_refuses_finite_values_beyond_a_c_float(
        self, cmap: corosync.CMAP, prefix: str, value: float
    ) -> None:
        assert_refused(cmap, prefix + "f", value, ValueType.FLOAT, raises=OverflowError)

    def test_double_holds_its_extremes(self, cmap: corosync.CMAP, prefix: str) -> None:
        info = sys.float_info
        for value in (info.max, -info.max, info.min, info.min * info.epsilon, 0.1, -0.0):
            cmap.set(prefix + "d", value, ValueType.DOUBLE)
            got = cmap.get(prefix + "d")
            assert got == TypedValue(ValueType.DOUBLE, value)
            assert math.copysign(1, got.value) == math.copysign(1, value)  # type: ignore[arg-type]

    def test_double_takes_an_int(self, cmap: corosync.CMAP, prefix: str) -> None:
        cmap.set(prefix + "d", 3, ValueType.DOUBLE)
        got = cmap.get(prefix + "d")
        assert got == TypedValue(ValueType.DOUBLE, 3.0)
        assert type(got.value) is float

    def test_double_refuses_an_int_beyond_its_range(self, cmap: corosync.CMAP, prefix: str) -> None:
        assert_refused(cmap, prefix + "d", 2**1024, ValueType.DOUBLE, raises=OverflowError)

    @pytest.mark.parametrize("kind", [ValueType.FLOAT, ValueType.DOUBLE], ids=lambda t: t.name)
    def test_nan_and_infinities_round_trip(
        self, cmap: corosync.CMAP, prefix: str, kind: ValueType
    ) -> None:
        cmap.set(prefix + "nan", math.nan, kind)
        got = cmap.get(prefix + "nan")
        assert got.type == kind and isinstance(got.value, float) and math.isnan(got.value)
        for value in (math.inf, -math.inf):
            cmap.set(prefix + "inf", value, kind)
            assert cmap.get(prefix + "inf") == TypedValue(kind, value)

    @pytest.mark.parametrize("kind", [ValueType.FLOAT, ValueType.DOUBLE], ids=lambda t: t.name)
    @pytest.mark.parametrize("value", ["1.5", b"1.5", None], ids=["str", "bytes", "None"])
    def test_floating_types_take_int_or_float_only(
        self, cmap: corosync.CMAP, prefix: str, kind: ValueType, value: Any
    ) -> None:
        assert_refused(cmap, prefix + "f", value, kind, raises=TypeError)


class TestString:
    @pytest.mark.parametrize(
        "value", ["plain", "", "héllo wörld ✓ 🎉", " spaces around ", "tab\tand\nnewline"]
    )
    def test_a_str_round_trips_as_str(self, cmap: corosync.CMAP, prefix: str, value: str) -> None:
        cmap.set(prefix + "s", value, ValueType.STRING)
        assert cmap.get(prefix + "s") == TypedValue(ValueType.STRING, value)

    def test_utf8_bytes_come_back_as_str(self, cmap: corosync.CMAP, prefix: str) -> None:
        cmap.set(prefix + "s", "grüße".encode(), ValueType.STRING)
        assert cmap.get(prefix + "s") == TypedValue(ValueType.STRING, "grüße")

    @pytest.mark.parametrize("value", [b"\xff\xfe", b"caf\xe9", b"\x80", b"ok\xc3"])
    def test_bytes_that_are_not_utf8_come_back_as_bytes(
        self, cmap: corosync.CMAP, prefix: str, value: bytes
    ) -> None:
        cmap.set(prefix + "s", value, ValueType.STRING)
        assert cmap.get(prefix + "s") == TypedValue(ValueType.STRING, value)

    @pytest.mark.parametrize("value", ["a\x00b", "\x00", "end\x00", b"a\x00b", b"\x00"])
    def test_an_embedded_nul_raises_value_error(
        self, cmap: corosync.CMAP, prefix: str, value: str | bytes
    ) -> None:
        assert_refused(cmap, prefix + "s", value, ValueType.STRING, raises=ValueError)
        # Nor does it truncate an existing value.
        cmap.set(prefix + "s", "kept")
        with pytest.raises(ValueError):
            cmap.set(prefix + "s", value)
        assert cmap.get(prefix + "s") == TypedValue(ValueType.STRING, "kept")

    @pytest.mark.parametrize("value", [5, 1.5, None, ["a"]], ids=["int", "float", "None", "list"])
    def test_string_takes_str_or_bytes_only(
        self, cmap: corosync.CMAP, prefix: str, value: Any
    ) -> None:
        with pytest.raises(TypeError):
            cmap.set(prefix + "s", value, ValueType.STRING)

    def test_a_10_kib_string_comes_back_whole(self, cmap: corosync.CMAP, prefix: str) -> None:
        value = "".join(chr(ord("a") + i % 26) for i in range(10 * 1024))
        cmap.set(prefix + "s", value)
        assert cmap.get(prefix + "s") == TypedValue(ValueType.STRING, value)

    def test_a_16_kib_value_with_its_nul_comes_back_whole(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        value = "0123456789abcdef" * (MAX_VALUE_LEN // 16)
        cmap.set(prefix + "s", value[:-1])
        assert cmap[prefix + "s"] == value[:-1]
        multibyte = "é" * (MAX_VALUE_LEN // 2 - 1) + "x"
        cmap.set(prefix + "m", multibyte)
        assert cmap[prefix + "m"] == multibyte

    def test_a_string_of_16_kib_is_stored_as_cmapctl_stores_it(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        # cmap_set_string() (and so corosync-cmapctl -s) sends a string without its NUL:
        # corosync takes 16 KiB of text and stores it with a NUL added, 16 KiB + 1.
        value = "0123456789abcdef" * (MAX_VALUE_LEN // 16)
        cmap.set(prefix + "s", value)
        assert cmap.get(prefix + "s") == TypedValue(ValueType.STRING, value)
        multibyte = "é" * (MAX_VALUE_LEN // 2)
        cmap.set(prefix + "m", multibyte.encode(), ValueType.STRING)
        assert cmap[prefix + "m"] == multibyte

    def test_a_longer_string_raises_too_big_error(self, cmap: corosync.CMAP, prefix: str) -> None:
        # corosync itself answers CS_ERR_INVALID_PARAM up to its 1 MiB request size and
        # CS_ERR_TOO_BIG beyond; the binding says TooBigError for every size it cannot store.
        for size in (MAX_VALUE_LEN + 1, 64 * 1024, 2 * 1024 * 1024):
            with pytest.raises(corosync.TooBigError) as info:
                cmap.set(prefix + "s", "x" * size)
            assert isinstance(info.value, ValueError)
            assert info.value.code == CsError.TOO_BIG
        assert_missing(cmap, prefix + "s")


class TestBinary:
    @pytest.mark.parametrize(
        "value",
        [bytes(range(256)), b"\x00" * 100, b"", b"\x00", b"tail\x00", "é ✓".encode()],
        ids=["all-bytes", "nuls", "empty", "one-nul", "trailing-nul", "utf8"],
    )
    def test_any_bytes_round_trip(self, cmap: corosync.CMAP, prefix: str, value: bytes) -> None:
        cmap.set(prefix + "b", value, ValueType.BINARY)
        got = cmap.get(prefix + "b")
        assert got == TypedValue(ValueType.BINARY, value)
        assert type(got.value) is bytes

    @pytest.mark.parametrize(
        "value",
        [
            bytearray(b"\x00ab"),
            memoryview(b"xx\x00abxx")[2:5],
            array.array("H", [1, 0xFFFF]),
            memoryview(bytearray(b"\x00ab")),
        ],
        ids=["bytearray", "memoryview-slice", "array", "memoryview-bytearray"],
    )
    def test_any_bytes_like_object_is_taken(
        self, cmap: corosync.CMAP, prefix: str, value: Any
    ) -> None:
        cmap.set(prefix + "b", value, ValueType.BINARY)
        assert cmap.get(prefix + "b") == TypedValue(ValueType.BINARY, bytes(value))

    def test_a_str_for_binary_raises_type_error(self, cmap: corosync.CMAP, prefix: str) -> None:
        assert_refused(cmap, prefix + "b", "text", ValueType.BINARY, raises=TypeError)
        cmap.set(prefix + "b", b"bytes")
        with pytest.raises(TypeError):
            cmap.set(prefix + "b", "text")  # the existing key's type is BINARY
        assert cmap[prefix + "b"] == b"bytes"

    @pytest.mark.parametrize("value", [5, 1.5, None], ids=["int", "float", "None"])
    def test_binary_takes_bytes_like_objects_only(
        self, cmap: corosync.CMAP, prefix: str, value: Any
    ) -> None:
        with pytest.raises(TypeError):
            cmap.set(prefix + "b", value, ValueType.BINARY)

    @pytest.mark.parametrize("size", [10 * 1024, MAX_VALUE_LEN - 1, MAX_VALUE_LEN])
    def test_values_up_to_16_kib_come_back_whole(
        self, cmap: corosync.CMAP, prefix: str, size: int
    ) -> None:
        value = bytes(i * 7 % 256 for i in range(size))
        cmap.set(prefix + "b", value)
        assert cmap.get(prefix + "b") == TypedValue(ValueType.BINARY, value)

    @pytest.mark.parametrize(
        "size", [MAX_VALUE_LEN + 1, 64 * 1024, 1024 * 1024 - 4096, 1024 * 1024, 2 * 1024 * 1024]
    )
    def test_values_over_16_kib_raise_too_big_error(
        self, cmap: corosync.CMAP, prefix: str, size: int
    ) -> None:
        # corosync stores at most 16 KiB (ICMAP_MAX_VALUE_LEN): a 64 KiB value is refused.
        # corosync's own answer is CS_ERR_INVALID_PARAM up to its IPC request size (1 MiB)
        # and CS_ERR_TOO_BIG beyond; the binding says TooBigError for all of them.
        with pytest.raises(corosync.TooBigError) as info:
            cmap.set(prefix + "b", b"\x01" * size)
        assert isinstance(info.value, ValueError)
        assert info.value.code == CsError.TOO_BIG
        assert_missing(cmap, prefix + "b")
        # The connection is still good.
        cmap.set(prefix + "b", b"after")
        assert cmap[prefix + "b"] == b"after"


class TestTypeInference:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (0, TypedValue(ValueType.INT64, 0)),
            (-(2**63), TypedValue(ValueType.INT64, -(2**63))),
            (2**63 - 1, TypedValue(ValueType.INT64, 2**63 - 1)),
            (2**63, TypedValue(ValueType.UINT64, 2**63)),
            (2**64 - 1, TypedValue(ValueType.UINT64, 2**64 - 1)),
            (1.25, TypedValue(ValueType.DOUBLE, 1.25)),
            ("text", TypedValue(ValueType.STRING, "text")),
            (b"\x00raw", TypedValue(ValueType.BINARY, b"\x00raw")),
            (bytearray(b"\x00ba"), TypedValue(ValueType.BINARY, b"\x00ba")),
            (memoryview(b"\x00mv"), TypedValue(ValueType.BINARY, b"\x00mv")),
        ],
        ids=[
            "zero",
            "int64-min",
            "int64-max",
            "uint64-from-int64-max+1",
            "uint64-max",
            "float",
            "str",
            "bytes",
            "bytearray",
            "memoryview",
        ],
    )
    def test_a_new_keys_type_follows_the_python_type(
        self, cmap: corosync.CMAP, prefix: str, value: Any, expected: TypedValue
    ) -> None:
        cmap.set(prefix + "k", value)
        assert cmap.get(prefix + "k") == expected

    @pytest.mark.parametrize("value", [2**64, -(2**63) - 1])
    def test_an_int_beyond_int64_and_uint64_raises_overflow_error(
        self, cmap: corosync.CMAP, prefix: str, value: int
    ) -> None:
        assert_refused(cmap, prefix + "k", value, raises=OverflowError)

    @pytest.mark.parametrize(
        "value",
        [True, False, None, [1], {"a": 1}, object(), 1 + 2j, {1}],
        ids=["True", "False", "None", "list", "dict", "object", "complex", "set"],
    )
    def test_bool_and_other_types_raise_type_error(
        self, cmap: corosync.CMAP, prefix: str, value: Any
    ) -> None:
        assert_refused(cmap, prefix + "k", value, raises=TypeError)

    def test_without_a_type_an_existing_key_keeps_its_type(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        cmap.set(prefix + "u8", 1, ValueType.UINT8)
        cmap.set(prefix + "u8", 7)
        assert cmap.get(prefix + "u8") == TypedValue(ValueType.UINT8, 7)

        cmap.set(prefix + "i16", -5, ValueType.INT16)
        cmap.set(prefix + "i16", -6, None)
        assert cmap.get(prefix + "i16") == TypedValue(ValueType.INT16, -6)

        cmap.set(prefix + "dbl", 1.5)
        cmap.set(prefix + "dbl", 2)
        assert cmap.get(prefix + "dbl") == TypedValue(ValueType.DOUBLE, 2.0)

        cmap.set(prefix + "flt", 1.5, ValueType.FLOAT)
        cmap.set(prefix + "flt", 0.1)
        assert cmap.get(prefix + "flt") == TypedValue(ValueType.FLOAT, as_float(0.1))

        cmap.set(prefix + "str", "a")
        cmap.set(prefix + "str", b"b")
        assert cmap.get(prefix + "str") == TypedValue(ValueType.STRING, "b")

        cmap.set(prefix + "u64", 2**64 - 1)
        cmap.set(prefix + "u64", 1)
        assert cmap.get(prefix + "u64") == TypedValue(ValueType.UINT64, 1)

    def test_without_a_type_the_existing_types_checks_apply(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        cmap.set(prefix + "u8", 1, ValueType.UINT8)
        with pytest.raises(OverflowError, match="UINT8"):
            cmap.set(prefix + "u8", 256)
        with pytest.raises(TypeError):
            cmap.set(prefix + "u8", 1.0)
        cmap.set(prefix + "str", "a")
        with pytest.raises(TypeError):
            cmap.set(prefix + "str", 5)
        cmap.set(prefix + "flt", 1.0, ValueType.FLOAT)
        with pytest.raises(OverflowError):
            cmap.set(prefix + "flt", 1e39)
        assert cmap.get(prefix + "u8") == TypedValue(ValueType.UINT8, 1)
        assert cmap.get(prefix + "str") == TypedValue(ValueType.STRING, "a")
        assert cmap.get(prefix + "flt") == TypedValue(ValueType.FLOAT, 1.0)

    def test_an_explicit_type_replaces_an_existing_keys_type(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        cmap.set(prefix + "k", "text")
        cmap.set(prefix + "k", 5, ValueType.UINT16)
        assert cmap.get(prefix + "k") == TypedValue(ValueType.UINT16, 5)
        cmap.set(prefix + "k", b"\x00", ValueType.BINARY)
        assert cmap.get(prefix + "k") == TypedValue(ValueType.BINARY, b"\x00")

    def test_the_type_may_be_given_as_its_number(self, cmap: corosync.CMAP, prefix: str) -> None:
        cmap.set(prefix + "k", 5, 2)  # type: ignore[arg-type]
        assert cmap.get(prefix + "k") == TypedValue(ValueType.UINT8, 5)

    @pytest.mark.parametrize("kind", [0, 13, -1, "u8"])
    def test_an_unknown_type_is_refused(
        self, cmap: corosync.CMAP, prefix: str, kind: object
    ) -> None:
        assert_refused(cmap, prefix + "k", 5, kind, raises=(TypeError, ValueError))
