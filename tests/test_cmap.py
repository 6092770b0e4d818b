"""CMAP on a real one-node cluster: get, set, delete, inc and dec, the mapping protocol,
every value type at its limits, long values, type inference, key names, read-only keys, the
stats map's writes, and closed handles."""

from __future__ import annotations

import array
import math
import struct
import sys
from collections.abc import Callable
from typing import Any

import pytest
from cmap_helpers import FLT_MAX, INT_RANGES, MAX_VALUE_LEN, as_float
from conftest import CmapFactory

import corosync
from corosync import CsError
from corosync.cmap import (
    CMAP_KEYNAME_MAXLEN,
    CMAP_KEYNAME_MINLEN,
    CmapMap,
    ItemIterator,
    KeyIterator,
    TrackEvent,
    TypedValue,
    ValueType,
)

INTEGER_TYPES = list(INT_RANGES)


def assert_missing(cmap: corosync.CMAP, key: str) -> None:
    with pytest.raises(corosync.NotExistError):
        cmap.get(key)


class TestModule:
    def test_the_enums_carry_corosyncs_numbers(self) -> None:
        assert [(t.name, int(t)) for t in ValueType] == [
            ("INT8", 1),
            ("UINT8", 2),
            ("INT16", 3),
            ("UINT16", 4),
            ("INT32", 5),
            ("UINT32", 6),
            ("INT64", 7),
            ("UINT64", 8),
            ("FLOAT", 9),
            ("DOUBLE", 10),
            ("STRING", 11),
            ("BINARY", 12),
        ]
        assert (TrackEvent.DELETE, TrackEvent.MODIFY, TrackEvent.ADD) == (1, 2, 4)
        assert (CmapMap.ICMAP, CmapMap.STATS) == (0, 1)
        assert (CMAP_KEYNAME_MINLEN, CMAP_KEYNAME_MAXLEN) == (3, 255)

    def test_cmap_is_importable_from_the_package(self) -> None:
        import corosync.cmap

        assert corosync.CMAP is corosync.cmap.CMAP

    def test_typed_value_is_a_named_tuple(self) -> None:
        value = TypedValue(ValueType.UINT8, 5)
        assert (value.type, value.value) == (ValueType.UINT8, 5)
        assert isinstance(value, tuple)
        assert value == (ValueType.UINT8, 5)
        kind, number = value
        assert (kind, number) == (ValueType.UINT8, 5)


class TestGetSetDelete:
    def test_get_returns_the_type_and_the_value(self, cmap: corosync.CMAP) -> None:
        got = cmap.get("totem.cluster_name")
        assert isinstance(got, TypedValue)
        assert got.type is ValueType.STRING
        assert isinstance(got.value, str) and got.value.startswith("cst")
        assert cmap.get("nodelist.node.0.nodeid") == TypedValue(ValueType.UINT32, 1)

    def test_set_then_get_round_trips(self, cmap: corosync.CMAP, prefix: str) -> None:
        cmap.set(prefix + "s", "value")
        cmap.set(prefix + "n", 42, ValueType.UINT16)
        assert cmap.get(prefix + "s") == TypedValue(ValueType.STRING, "value")
        assert cmap.get(prefix + "n") == TypedValue(ValueType.UINT16, 42)

    def test_a_change_is_seen_by_another_handle(self, open_cmap: CmapFactory, prefix: str) -> None:
        writer, reader = open_cmap(), open_cmap()
        writer.set(prefix + "k", b"\x00shared", ValueType.BINARY)
        assert reader.get(prefix + "k") == TypedValue(ValueType.BINARY, b"\x00shared")

    def test_get_of_a_missing_key_raises_not_exist_error_a_key_error(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        with pytest.raises(corosync.NotExistError) as info:
            cmap.get(prefix + "missing")
        assert isinstance(info.value, KeyError)
        assert info.value.code == CsError.NOT_EXIST
        assert info.value.function == "cmap_get"

    def test_delete_removes_the_key(self, cmap: corosync.CMAP, prefix: str) -> None:
        cmap.set(prefix + "k", 1)
        cmap.delete(prefix + "k")
        assert_missing(cmap, prefix + "k")

    def test_delete_of_a_missing_key_raises_not_exist_error(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        with pytest.raises(corosync.NotExistError) as info:
            cmap.delete(prefix + "missing")
        assert info.value.code == CsError.NOT_EXIST

    def test_a_deleted_key_can_be_set_again_with_another_type(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        cmap.set(prefix + "k", "text")
        cmap.delete(prefix + "k")
        cmap.set(prefix + "k", 7)
        assert cmap.get(prefix + "k") == TypedValue(ValueType.INT64, 7)


class TestMappingProtocol:
    def test_getitem_returns_the_bare_value(self, cmap: corosync.CMAP, prefix: str) -> None:
        cmap.set(prefix + "k", 300, ValueType.UINT32)
        assert cmap[prefix + "k"] == 300
        assert cmap["nodelist.node.0.nodeid"] == 1

    def test_getitem_of_a_missing_key_raises_key_error(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        with pytest.raises(KeyError):
            cmap[prefix + "missing"]

    def test_setitem_sets_like_set_without_a_type(self, cmap: corosync.CMAP, prefix: str) -> None:
        cmap[prefix + "new"] = 5
        assert cmap.get(prefix + "new") == TypedValue(ValueType.INT64, 5)
        cmap.set(prefix + "u8", 1, ValueType.UINT8)
        cmap[prefix + "u8"] = 200
        assert cmap.get(prefix + "u8") == TypedValue(ValueType.UINT8, 200)
        with pytest.raises(OverflowError):
            cmap[prefix + "u8"] = 256

    def test_delitem_deletes(self, cmap: corosync.CMAP, prefix: str) -> None:
        cmap[prefix + "k"] = "x"
        del cmap[prefix + "k"]
        assert prefix + "k" not in cmap
        with pytest.raises(KeyError):
            del cmap[prefix + "k"]

    def test_in_tells_whether_a_key_exists(self, cmap: corosync.CMAP, prefix: str) -> None:
        cmap[prefix + "k"] = 1
        assert prefix + "k" in cmap
        assert "totem.cluster_name" in cmap
        assert prefix + "missing" not in cmap

    @pytest.mark.parametrize(
        "key",
        [5, None, b"totem.cluster_name", 1.5, ("totem.cluster_name",)],
        ids=["int", "None", "bytes", "float", "tuple"],
    )
    def test_in_is_false_for_a_non_str_and_never_raises(
        self, cmap: corosync.CMAP, key: object
    ) -> None:
        assert (key in cmap) is False

    @pytest.mark.parametrize(
        "key", ["", "ab", "a b", "x" * 256, "totem.cluster_name\x00", "tötem.x", "a=b"]
    )
    def test_in_is_false_for_a_name_corosync_could_never_store(
        self, cmap: corosync.CMAP, key: str
    ) -> None:
        assert (key in cmap) is False

    def test_iter_and_len_walk_the_keys(self, cmap: corosync.CMAP, prefix: str) -> None:
        before = len(cmap)
        assert before == len(list(cmap))
        assert isinstance(iter(cmap), KeyIterator)
        cmap[prefix + "a"] = 1
        cmap[prefix + "b"] = 2
        assert len(cmap) == before + 2
        keys = list(cmap)
        assert len(keys) == before + 2
        assert [k for k in keys if k.startswith(prefix)] == [prefix + "a", prefix + "b"]
        assert "totem.cluster_name" in keys


class TestIncDec:
    @pytest.mark.parametrize("kind", INTEGER_TYPES, ids=lambda t: t.name)
    def test_inc_and_dec_change_an_integer_by_one_keeping_its_type(
        self, cmap: corosync.CMAP, prefix: str, kind: ValueType
    ) -> None:
        key = prefix + "n"
        cmap.set(key, 10, kind)
        cmap.inc(key)
        assert cmap.get(key) == TypedValue(kind, 11)
        cmap.dec(key)
        cmap.dec(key)
        assert cmap.get(key) == TypedValue(kind, 9)

    @pytest.mark.parametrize("kind", INTEGER_TYPES, ids=lambda t: t.name)
    def test_inc_and_dec_wrap_around_at_the_limits_as_corosync_does(
        self, cmap: corosync.CMAP, prefix: str, kind: ValueType
    ) -> None:
        # corosync adds in the unsigned type of the value's width and stores the result:
        # one past the maximum is the minimum, and back.
        low, high = INT_RANGES[kind]
        key = prefix + "n"
        cmap.set(key, high, kind)
        cmap.inc(key)
        assert cmap.get(key) == TypedValue(kind, low)
        cmap.dec(key)
        assert cmap.get(key) == TypedValue(kind, high)

    @pytest.mark.parametrize(
        ("value", "kind"),
        [
            ("5", ValueType.STRING),
            (1.5, ValueType.FLOAT),
            (1.5, ValueType.DOUBLE),
            (b"\x05", ValueType.BINARY),
        ],
        ids=["STRING", "FLOAT", "DOUBLE", "BINARY"],
    )
    def test_inc_and_dec_of_a_non_integer_raise_invalid_param_error(
        self, cmap: corosync.CMAP, prefix: str, value: Any, kind: ValueType
    ) -> None:
        key = prefix + "k"
        cmap.set(key, value, kind)
        for method in (cmap.inc, cmap.dec):
            with pytest.raises(corosync.InvalidParamError) as info:
                method(key)
            assert isinstance(info.value, ValueError)
            assert info.value.code == CsError.INVALID_PARAM
        assert cmap.get(key).type == kind

    def test_inc_and_dec_of_a_missing_key_raise_not_exist_error(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        for method in (cmap.inc, cmap.dec):
            with pytest.raises(corosync.NotExistError):
                method(prefix + "missing")
        assert_missing(cmap, prefix + "missing")


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
        with pytest.raises(TypeError):
            cmap.set(prefix + "n", value, kind)
        assert_missing(cmap, prefix + "n")


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
        with pytest.raises(OverflowError):
            cmap.set(prefix + "f", value, ValueType.FLOAT)
        assert_missing(cmap, prefix + "f")

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
        with pytest.raises(OverflowError):
            cmap.set(prefix + "d", 2**1024, ValueType.DOUBLE)
        assert_missing(cmap, prefix + "d")

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
        with pytest.raises(TypeError):
            cmap.set(prefix + "f", value, kind)
        assert_missing(cmap, prefix + "f")


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
        with pytest.raises(ValueError):
            cmap.set(prefix + "s", value, ValueType.STRING)
        assert_missing(cmap, prefix + "s")
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
        with pytest.raises(TypeError):
            cmap.set(prefix + "b", "text", ValueType.BINARY)
        assert_missing(cmap, prefix + "b")
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
        with pytest.raises(OverflowError):
            cmap.set(prefix + "k", value)
        assert_missing(cmap, prefix + "k")

    @pytest.mark.parametrize(
        "value",
        [True, False, None, [1], {"a": 1}, object(), 1 + 2j, {1}],
        ids=["True", "False", "None", "list", "dict", "object", "complex", "set"],
    )
    def test_bool_and_other_types_raise_type_error(
        self, cmap: corosync.CMAP, prefix: str, value: Any
    ) -> None:
        with pytest.raises(TypeError):
            cmap.set(prefix + "k", value)
        assert_missing(cmap, prefix + "k")

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
        with pytest.raises((TypeError, ValueError)):
            cmap.set(prefix + "k", 5, kind)  # type: ignore[arg-type]
        assert_missing(cmap, prefix + "k")


BAD_NAMES = [
    "",
    "a",
    "ab",
    "k" * 256,
    "with space",
    "tab\tkey",
    "key=value",
    "semi;colon",
    "new\nline",
    "nul\x00key",
    "ümlaut.key",
    "star.*",
    "quote.'x'",
    "comma,key",
    "at@key",
]

KeyCall = Callable[[corosync.CMAP, str], object]

KEY_CALLS: dict[str, KeyCall] = {
    "get": lambda cmap, key: cmap.get(key),
    "getitem": lambda cmap, key: cmap[key],
    "set": lambda cmap, key: cmap.set(key, 1),
    "set-typed": lambda cmap, key: cmap.set(key, "x", ValueType.STRING),
    "setitem": lambda cmap, key: cmap.__setitem__(key, 1),
    "delete": lambda cmap, key: cmap.delete(key),
    "delitem": lambda cmap, key: cmap.__delitem__(key),
    "inc": lambda cmap, key: cmap.inc(key),
    "dec": lambda cmap, key: cmap.dec(key),
    "track": lambda cmap, key: cmap.track(key, lambda *args: None),
}


class TestKeyNames:
    @pytest.mark.parametrize("key", BAD_NAMES, ids=repr)
    @pytest.mark.parametrize("call", list(KEY_CALLS), ids=str)
    def test_a_name_corosync_refuses_raises_value_error_naming_the_key(
        self, cmap: corosync.CMAP, key: str, call: str
    ) -> None:
        with pytest.raises(ValueError) as info:
            KEY_CALLS[call](cmap, key)
        message = str(info.value)
        # Named whole, or its start (a long name may be cut short).
        assert repr(key)[:40] in message or key[:40] in message, message

    @pytest.mark.parametrize("key", [5, None, b"abc.def", 1.5], ids=repr)
    @pytest.mark.parametrize("call", list(KEY_CALLS), ids=str)
    def test_a_non_str_key_raises_type_error(
        self, cmap: corosync.CMAP, key: Any, call: str
    ) -> None:
        with pytest.raises(TypeError):
            KEY_CALLS[call](cmap, key)

    @pytest.mark.parametrize(
        "key",
        [
            "abc",
            "k" * CMAP_KEYNAME_MAXLEN,
            "ABC.xyz.0123456789",
            "a-b_c.d/e:f",
            "::/",
            "...",
            "-_-",
        ],
        ids=["shortest", "longest", "letters-digits", "punctuation", "colons", "dots", "dashes"],
    )
    def test_every_name_corosync_accepts_works(self, cmap: corosync.CMAP, key: str) -> None:
        cmap.set(key, "value")
        try:
            assert cmap.get(key) == TypedValue(ValueType.STRING, "value")
            assert key in cmap
            assert key in list(cmap.keys(key))
        finally:
            cmap.delete(key)
        assert key not in cmap


READ_ONLY_KEYS = [
    "totem.cluster_name",
    "totem.version",
    "runtime.config.totem.token",
    "nodelist.node.0.nodeid",
    "nodelist.local_node_pos",
    "internal_configuration.service.0.name",
    "system.state_dir",
    "runtime.services.cmap.service_id",
]

Write = Callable[[corosync.CMAP, str, TypedValue], object]

#: Every way to write a key; a set writes `value` (the key's own value, where it has one:
#: corosync refuses the write before looking at the value).
WRITES: dict[str, Write] = {
    "set": lambda cmap, key, value: cmap.set(key, value.value),
    "set-typed": lambda cmap, key, value: cmap.set(key, value.value, value.type),
    "setitem": lambda cmap, key, value: cmap.__setitem__(key, value.value),
    "delete": lambda cmap, key, value: cmap.delete(key),
    "delitem": lambda cmap, key, value: cmap.__delitem__(key),
    "inc": lambda cmap, key, value: cmap.inc(key),
    "dec": lambda cmap, key, value: cmap.dec(key),
}

A_U32 = TypedValue(ValueType.UINT32, 1)


class TestReadOnlyKeys:
    @pytest.mark.parametrize("key", READ_ONLY_KEYS)
    @pytest.mark.parametrize("write", list(WRITES), ids=str)
    def test_writing_a_read_only_key_raises_access_error(
        self, cmap: corosync.CMAP, key: str, write: str
    ) -> None:
        before = cmap.get(key)
        with pytest.raises(corosync.AccessError) as info:
            WRITES[write](cmap, key, before)
        assert isinstance(info.value, PermissionError)
        assert info.value.code == CsError.ACCESS
        assert cmap.get(key) == before

    @pytest.mark.parametrize("key", READ_ONLY_KEYS[:3])
    def test_writing_another_value_or_type_is_refused_too(
        self, cmap: corosync.CMAP, key: str
    ) -> None:
        before = cmap.get(key)
        for value in (
            A_U32,
            TypedValue(ValueType.STRING, "other"),
            TypedValue(ValueType.BINARY, b""),
        ):
            with pytest.raises(corosync.AccessError):
                WRITES["set-typed"](cmap, key, value)
        assert cmap.get(key) == before

    @pytest.mark.parametrize(
        "key",
        [
            "runtime.config.no_such_key",
            "nodelist.node.9.nodeid",
            "internal_configuration.new",
            "system.new_key",
            "uidgid.config.new",
            "quorum.wait_for_all",
        ],
    )
    @pytest.mark.parametrize("write", list(WRITES), ids=str)
    def test_creating_a_key_in_a_read_only_place_raises_access_error(
        self, cmap: corosync.CMAP, key: str, write: str
    ) -> None:
        with pytest.raises(corosync.AccessError):
            WRITES[write](cmap, key, A_U32)
        assert key not in cmap


class TestStatsMapWrites:
    @pytest.fixture
    def stats(self, open_cmap: CmapFactory) -> corosync.CMAP:
        return open_cmap(map=CmapMap.STATS)

    @pytest.mark.parametrize(
        "key", ["stats.srp.mcast_tx", "stats.pg.msg_reserved", "stats.knet.node1.link0.mtu"]
    )
    @pytest.mark.parametrize("write", list(WRITES), ids=str)
    def test_writing_a_statistic_raises_access_error(
        self, stats: corosync.CMAP, key: str, write: str
    ) -> None:
        before = stats.get(key)
        with pytest.raises(corosync.AccessError):
            WRITES[write](stats, key, before)
        assert stats.get(key).type == before.type

    @pytest.mark.parametrize("key", ["stats.no_such.key", "other.key", "stats.clea"])
    @pytest.mark.parametrize("write", list(WRITES), ids=str)
    def test_creating_a_key_in_the_stats_map_raises_access_error(
        self, stats: corosync.CMAP, key: str, write: str
    ) -> None:
        with pytest.raises(corosync.AccessError):
            WRITES[write](stats, key, A_U32)

    @pytest.mark.parametrize("what", ["all", "knet", "ipc", "totem", "schedmiss"])
    def test_setting_a_stats_clear_key_is_accepted(self, stats: corosync.CMAP, what: str) -> None:
        stats.set(f"stats.clear.{what}", 1)
        stats.set(f"stats.clear.{what}", 1, ValueType.UINT8)
        stats[f"stats.clear.{what}"] = "yes"
        # Nothing is stored: the write is a command.
        assert f"stats.clear.{what}" not in stats

    def test_setting_an_unknown_stats_clear_key_raises_not_supported_error(
        self, stats: corosync.CMAP
    ) -> None:
        with pytest.raises(corosync.NotSupportedError) as info:
            stats.set("stats.clear.nothing", 1)
        assert info.value.code == CsError.NOT_SUPPORTED

    @pytest.mark.parametrize("write", ["delete", "delitem", "inc", "dec"])
    def test_deleting_or_counting_a_stats_clear_key_raises_not_supported_error(
        self, stats: corosync.CMAP, write: str
    ) -> None:
        with pytest.raises(corosync.NotSupportedError) as info:
            WRITES[write](stats, "stats.clear.all", A_U32)
        assert info.value.code == CsError.NOT_SUPPORTED


class TestHandle:
    def test_with_closes_the_handle(self, open_cmap: CmapFactory) -> None:
        with open_cmap() as cmap:
            assert not cmap.closed
            assert cmap["nodelist.node.0.nodeid"] == 1
        assert cmap.closed

    def test_the_constructor_takes_the_map_and_a_retry_timeout(
        self, open_cmap: CmapFactory
    ) -> None:
        icmap = open_cmap(map=CmapMap.ICMAP, retry_timeout=1.0)
        stats = open_cmap(map=CmapMap.STATS)
        assert "totem.cluster_name" in icmap
        assert "totem.cluster_name" not in stats
        assert "stats.srp.mcast_tx" in stats
        assert "stats.srp.mcast_tx" not in icmap

    def test_fileno_is_an_fd_and_dispatch_with_nothing_queued_returns(
        self, cmap: corosync.CMAP
    ) -> None:
        assert isinstance(cmap.fileno(), int) and cmap.fileno() >= 0
        cmap.dispatch()
        cmap.dispatch(corosync.DispatchFlags.ONE_NONBLOCKING)

    def test_close_is_idempotent_and_every_method_then_raises_closed_error(
        self, open_cmap: CmapFactory, prefix: str
    ) -> None:
        cmap = open_cmap()
        cmap.set(prefix + "k", 1)
        track = cmap.track(prefix + "k", lambda *args: None)
        cmap.close()
        cmap.close()
        assert cmap.closed
        key = prefix + "k"
        calls: dict[str, Callable[[], object]] = {
            "get": lambda: cmap.get(key),
            "getitem": lambda: cmap[key],
            "contains": lambda: key in cmap,
            "set": lambda: cmap.set(key, 2),
            "set-typed": lambda: cmap.set(key, 2, ValueType.UINT8),
            "setitem": lambda: cmap.__setitem__(key, 2),
            "delete": lambda: cmap.delete(key),
            "delitem": lambda: cmap.__delitem__(key),
            "inc": lambda: cmap.inc(key),
            "dec": lambda: cmap.dec(key),
            "keys": lambda: cmap.keys(),
            "items": lambda: cmap.items(prefix),
            "iter": lambda: iter(cmap),
            "len": lambda: len(cmap),
            "track": lambda: cmap.track(key, lambda *args: None),
            "untrack": lambda: cmap.untrack(track),
            "fileno": lambda: cmap.fileno(),
            "dispatch": lambda: cmap.dispatch(),
            "enter": lambda: cmap.__enter__(),
        }
        for name, call in calls.items():
            with pytest.raises(corosync.ClosedError) as info:
                call()
            assert isinstance(info.value, ValueError), name
            assert info.value.code == CsError.BAD_HANDLE, name

    def test_iterators_are_typed(self, cmap: corosync.CMAP) -> None:
        keys = cmap.keys("totem.")
        items = cmap.items("totem.")
        assert isinstance(keys, KeyIterator) and isinstance(items, ItemIterator)
        assert iter(keys) is keys and iter(items) is items
        keys.close()
        items.close()
