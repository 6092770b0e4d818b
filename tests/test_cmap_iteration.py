"""CMAP iteration on a real one-node cluster: keys() and items() with prefixes, in corosync's
order, equal to what corosync-cmapctl lists; corosync's iterator finalized on close(), on an
early stop, on garbage collection; iterators of a closed handle."""

from __future__ import annotations

import gc
import math
import weakref

import pytest
from cmap_helpers import (
    TYPE_NAMES,
    ConnectionRequests,
    cmapctl,
    cmapctl_text,
    parse_cmapctl,
)
from conftest import CmapFactory

import corosync
from corosync.cmap import CMAP_KEYNAME_MAXLEN, ItemIterator, KeyIterator, TypedValue, ValueType
from corosync.testing import Node

#: The value size a get asks corosync for first (kFirstGetBuffer in the core's cmap.cpp).
FIRST_GET_BUFFER = 960

#: One value of each type, by key suffix.
VALUES: dict[str, TypedValue] = {
    "bin": TypedValue(ValueType.BINARY, b"\x00\x01bin"),
    "dbl": TypedValue(ValueType.DOUBLE, 2.5),
    "flt": TypedValue(ValueType.FLOAT, -0.5),
    "i16": TypedValue(ValueType.INT16, -32768),
    "i32": TypedValue(ValueType.INT32, -2),
    "i64": TypedValue(ValueType.INT64, -(2**63)),
    "i8": TypedValue(ValueType.INT8, 127),
    "str": TypedValue(ValueType.STRING, "text ✓"),
    "u16": TypedValue(ValueType.UINT16, 65535),
    "u32": TypedValue(ValueType.UINT32, 4),
    "u64": TypedValue(ValueType.UINT64, 2**64 - 1),
    "u8": TypedValue(ValueType.UINT8, 0),
}


def fill(cmap: corosync.CMAP, prefix: str) -> None:
    for suffix, value in VALUES.items():
        cmap.set(prefix + suffix, value.value, value.type)


def listed_keys(node: Node, prefix: str = "", *, stats: bool = False) -> list[str]:
    """The keys ``corosync-cmapctl [PREFIX]`` lists, in its order."""
    args = (["-m", "stats"] if stats else []) + ([prefix] if prefix else [])
    return [p.key for p in parse_cmapctl(cmapctl(node, *args))]


class TestKeys:
    def test_keys_lists_exactly_the_keys_under_the_prefix_in_corosyncs_order(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        fill(cmap, prefix)
        cmap.set(prefix[:-1] + "-sibling", 1)  # shares the prefix's text up to the dot
        keys = list(cmap.keys(prefix))
        # corosync lists keys in byte order: "i64" before "i8", "bin" first.
        assert keys == [prefix + suffix for suffix in sorted(VALUES)]
        assert keys == sorted(keys)

    def test_keys_without_a_prefix_lists_what_cmapctl_lists(
        self, cmap: corosync.CMAP, corosync_node: Node, prefix: str
    ) -> None:
        fill(cmap, prefix)
        assert list(cmap.keys()) == listed_keys(corosync_node)
        assert list(cmap.keys("")) == listed_keys(corosync_node)
        assert list(cmap) == listed_keys(corosync_node)

    @pytest.mark.parametrize("section", ["totem.", "runtime.config.", "nodelist.", "r", "t"])
    def test_keys_with_a_prefix_lists_what_cmapctl_lists(
        self, cmap: corosync.CMAP, corosync_node: Node, section: str
    ) -> None:
        keys = list(cmap.keys(section))
        assert keys, f"nothing under {section!r}"
        assert keys == listed_keys(corosync_node, section)
        assert all(key.startswith(section) for key in keys)

    def test_the_stats_map_lists_what_cmapctl_lists(
        self, open_cmap: CmapFactory, corosync_node: Node
    ) -> None:
        from corosync.cmap import CmapMap

        stats = open_cmap(map=CmapMap.STATS)
        # Connections come and go (cmapctl's own is listed by cmapctl): compare the rest.
        ours = list(stats.keys("stats.srp."))
        assert ours and ours == listed_keys(corosync_node, "stats.srp.", stats=True)

    def test_a_prefix_that_matches_nothing_gives_nothing(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        assert list(cmap.keys(prefix)) == []
        assert list(cmap.items(prefix)) == []
        assert list(cmap.keys("k" * CMAP_KEYNAME_MAXLEN)) == []

    def test_a_prefix_may_be_a_whole_key(self, cmap: corosync.CMAP) -> None:
        assert list(cmap.keys("totem.cluster_name")) == ["totem.cluster_name"]

    @pytest.mark.parametrize(
        "bad", ["with space", "semi;colon", "x" * (CMAP_KEYNAME_MAXLEN + 1), "ü", "nul\x00"]
    )
    def test_a_prefix_with_a_character_corosync_refuses_raises_value_error(
        self, cmap: corosync.CMAP, bad: str
    ) -> None:
        for method in (cmap.keys, cmap.items):
            with pytest.raises(ValueError) as info:
                method(bad)
            message = str(info.value)
            assert repr(bad)[:40] in message or bad[:40] in message, message

    @pytest.mark.parametrize("bad", [5, None, b"totem."], ids=repr)
    def test_a_non_str_prefix_raises_type_error(self, cmap: corosync.CMAP, bad: object) -> None:
        for method in (cmap.keys, cmap.items):
            with pytest.raises(TypeError):
                method(bad)  # type: ignore[arg-type]

    def test_keys_are_str(self, cmap: corosync.CMAP) -> None:
        assert all(type(key) is str for key in cmap.keys())


class TestItems:
    def test_items_gives_each_key_with_its_typed_value(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        fill(cmap, prefix)
        items = list(cmap.items(prefix))
        assert items == [(prefix + suffix, VALUES[suffix]) for suffix in sorted(VALUES)]
        for _key, value in items:
            assert isinstance(value, TypedValue)
            assert type(value.type) is ValueType

    def test_items_of_totem_equal_what_cmapctl_prints_key_for_key_and_value_for_value(
        self, cmap: corosync.CMAP, corosync_node: Node
    ) -> None:
        printed = parse_cmapctl(cmapctl(corosync_node, "-b", "totem."))
        items = list(cmap.items("totem."))
        assert [key for key, _ in items] == [p.key for p in printed]
        for (key, value), line in zip(items, printed, strict=True):
            assert TYPE_NAMES[value.type] == line.type_name, key
            assert cmapctl_text(value) == line.value, key

    def test_items_of_every_type_equal_what_cmapctl_prints(
        self, cmap: corosync.CMAP, corosync_node: Node, prefix: str
    ) -> None:
        fill(cmap, prefix)
        cmap.set(prefix + "nan", math.nan, ValueType.DOUBLE)
        cmap.set(prefix + "inf", -math.inf, ValueType.FLOAT)
        printed = parse_cmapctl(cmapctl(corosync_node, "-b", prefix))
        items = list(cmap.items(prefix))
        assert [(key, TYPE_NAMES[value.type], cmapctl_text(value)) for key, value in items] == [
            (p.key, p.type_name, p.value) for p in printed
        ]

    def test_items_of_the_whole_map_equal_what_cmapctl_prints(
        self, cmap: corosync.CMAP, corosync_node: Node
    ) -> None:
        # runtime.services.* counters move as cmapctl and this handle talk to corosync.
        moving = "runtime.services."
        printed = [
            p for p in parse_cmapctl(cmapctl(corosync_node, "-b")) if not p.key.startswith(moving)
        ]
        items = [(k, v) for k, v in cmap.items() if not k.startswith(moving)]
        assert [(k, TYPE_NAMES[v.type], cmapctl_text(v)) for k, v in items] == [
            (p.key, p.type_name, p.value) for p in printed
        ]

    def test_keys_deleted_during_iteration_are_not_given_and_new_ones_may_be(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        for name in ("a", "b", "c", "d"):
            cmap.set(prefix + name, name)
        items = cmap.items(prefix)
        keys = cmap.keys(prefix)
        assert next(items) == (prefix + "a", TypedValue(ValueType.STRING, "a"))
        assert next(keys) == prefix + "a"
        cmap.delete(prefix + "b")
        cmap.delete(prefix + "c")
        rest = list(items)
        assert (prefix + "b", TypedValue(ValueType.STRING, "b")) not in rest
        assert prefix + "c" not in [key for key, _ in rest]
        assert (prefix + "d", TypedValue(ValueType.STRING, "d")) in rest
        assert list(keys) == [prefix + "d"]


class TestIteratorLifetime:
    @pytest.fixture
    def counted(self, corosync_node: Node, open_cmap: CmapFactory) -> ConnectionRequests:
        """A handle whose requests to corosync are counted."""
        return ConnectionRequests(corosync_node, open_cmap)

    def test_a_get_costs_one_request(self, counted: ConnectionRequests) -> None:
        before = counted.count()
        assert counted.handle["totem.cluster_name"]
        assert counted.count() == before + 1

    def test_a_get_of_a_value_in_an_ordinary_buffer_costs_one_request(
        self, counted: ConnectionRequests, prefix: str
    ) -> None:
        cmap = counted.handle
        text = "s" * (FIRST_GET_BUFFER - 1)  # corosync stores a STRING with its NUL
        cmap.set(prefix + "s", text)
        cmap.set(prefix + "b", b"\x00" * FIRST_GET_BUFFER)
        before = counted.count()
        assert cmap[prefix + "s"] == text
        assert cmap.get(prefix + "b").value == b"\x00" * FIRST_GET_BUFFER
        assert counted.count() == before + 2

    def test_a_get_of_a_value_beyond_the_first_buffer_costs_three_requests(
        self, counted: ConnectionRequests, prefix: str
    ) -> None:
        # corosync answers a short buffer without the value's size: ask it, then read.
        cmap = counted.handle
        cmap.set(prefix + "b", b"\x01" * (FIRST_GET_BUFFER + 1))
        before = counted.count()
        assert cmap.get(prefix + "b").value == b"\x01" * (FIRST_GET_BUFFER + 1)
        assert counted.count() == before + 3

    @pytest.mark.parametrize("kind", ["keys", "items"])
    def test_close_finalizes_corosyncs_iterator_once(
        self, counted: ConnectionRequests, kind: str
    ) -> None:
        cmap = counted.handle
        iterator = cmap.keys("totem.") if kind == "keys" else cmap.items("totem.")
        next(iterator)
        before = counted.count()
        iterator.close()
        assert counted.count() == before + 1, "close() sent no cmap_iter_finalize"
        iterator.close()
        assert counted.count() == before + 1, "a second close() talked to corosync"
        with pytest.raises(StopIteration):
            next(iterator)
        assert counted.count() == before + 1

    def test_close_before_the_first_next_leaves_nothing_to_finalize(
        self, counted: ConnectionRequests
    ) -> None:
        iterator = counted.handle.keys()
        iterator.close()
        with pytest.raises(StopIteration):
            next(iterator)
        del iterator
        gc.collect()
        before = counted.count()
        counted.handle.get("totem.cluster_name")
        assert counted.count() == before + 1

    def test_a_full_walk_finalizes_corosyncs_iterator_exactly_once(
        self, counted: ConnectionRequests
    ) -> None:
        cmap = counted.handle
        before = counted.count()
        iterator = cmap.keys("totem.")
        keys = list(iterator)
        iterator.close()
        del iterator
        gc.collect()
        cmap.get("totem.cluster_name")
        # cmap_iter_init, one cmap_iter_next per key and the one that says "no more",
        # cmap_iter_finalize, and the get.
        assert counted.count() - before == 1 + len(keys) + 1 + 1 + 1

    @pytest.mark.parametrize("kind", ["keys", "items"])
    def test_stopping_early_finalizes_the_iterator_when_it_is_dropped(
        self, counted: ConnectionRequests, kind: str
    ) -> None:
        cmap = counted.handle

        def start() -> KeyIterator | ItemIterator:
            return cmap.keys("totem.") if kind == "keys" else cmap.items("totem.")

        # The cost of one step and a close() (which finalizes), then of the same step left
        # by a break, the iterator dropped with the loop: the same.
        before = counted.count()
        closed = start()
        next(closed)
        closed.close()
        cmap.get("totem.cluster_name")
        with_close = counted.count() - before
        # cmap_iter_init, cmap_iter_next (and for items the value's cmap_get),
        # cmap_iter_finalize, and the get.
        assert with_close == (4 if kind == "keys" else 5)

        before = counted.count()
        for _ in start():
            break
        cmap.get("totem.cluster_name")
        assert counted.count() - before == with_close, "the dropped iterator was not finalized"

        # Nothing was left for the garbage collector to send.
        before = counted.count()
        gc.collect()
        cmap.get("totem.cluster_name")
        assert counted.count() == before + 1

    @pytest.mark.parametrize("kind", ["keys", "items"])
    def test_an_iterator_in_a_cycle_is_finalized_by_the_garbage_collector(
        self, counted: ConnectionRequests, kind: str
    ) -> None:
        cmap = counted.handle
        iterator: KeyIterator | ItemIterator = (
            cmap.keys("totem.") if kind == "keys" else cmap.items("totem.")
        )
        next(iterator)
        holder: list[object] = [iterator]
        holder.append(holder)  # a cycle: only the cyclic collector frees it
        ref = weakref.ref(iterator)
        del iterator, holder
        before = counted.count()
        gc.collect()
        assert ref() is None
        cmap.get("totem.cluster_name")
        # The finalize went out at collection (or, queued, with the next request).
        assert counted.count() == before + 2

    def test_many_iterators_at_once_are_independent(self, cmap: corosync.CMAP) -> None:
        expected = list(cmap.keys("totem."))
        iterators = [cmap.keys("totem.") for _ in range(50)]
        firsts = [next(it) for it in iterators]
        assert firsts == [expected[0]] * 50
        assert [list(it) for it in iterators] == [expected[1:]] * 50


class TestClosedHandle:
    @pytest.mark.parametrize("kind", ["keys", "items"])
    def test_next_after_the_handle_closed_raises_closed_error(
        self, open_cmap: CmapFactory, kind: str
    ) -> None:
        cmap = open_cmap()
        iterator = cmap.keys("totem.") if kind == "keys" else cmap.items("totem.")
        next(iterator)
        cmap.close()
        with pytest.raises(corosync.ClosedError):
            next(iterator)
        with pytest.raises(corosync.ClosedError):
            next(iterator)
        # Closing the iterator is still harmless, and so is collecting it.
        iterator.close()
        del iterator
        gc.collect()

    def test_an_unstarted_iterator_of_a_closed_handle_raises_closed_error(
        self, open_cmap: CmapFactory
    ) -> None:
        cmap = open_cmap()
        iterator = cmap.items()
        cmap.close()
        with pytest.raises(corosync.ClosedError):
            next(iterator)

    def test_closing_the_handle_inside_a_loop_stops_it_with_closed_error(
        self, open_cmap: CmapFactory
    ) -> None:
        cmap = open_cmap()
        seen: list[str] = []
        with pytest.raises(corosync.ClosedError):
            for key in cmap.keys("totem."):
                seen.append(key)
                cmap.close()
        assert len(seen) == 1
