"""CMAP on a real one-node cluster: get, set, delete, inc and dec, the mapping protocol,
key names, read-only keys, the stats map's writes, and closed handles (the value types:
test_cmap_values.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cmap_helpers import INT_RANGES
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
