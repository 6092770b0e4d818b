"""CMAP tracking on a real one-node cluster: the exact contents of add, modify and delete
events, prefix tracks, event masks, changes made by corosync-cmapctl and by other handles,
several tracks per handle, untrack, callback exceptions, close inside a callback, and tracks
whose handle was closed."""

from __future__ import annotations

import gc
import tempfile
import threading
import weakref

import pytest
from cmap_helpers import (
    MAX_VALUE_LEN,
    Change,
    ChangeRecorder,
    cmapctl,
    wait_readable,
)
from conftest import CmapFactory
from cpg_events import pump

import corosync
from corosync import DispatchFlags
from corosync.cmap import Track, TrackEvent, TypedValue, ValueType
from corosync.testing import Node

ADD, MODIFY, DELETE = TrackEvent.ADD, TrackEvent.MODIFY, TrackEvent.DELETE
ALL = ADD | MODIFY | DELETE


class Boom(Exception):
    pass


def s(value: str) -> TypedValue:
    return TypedValue(ValueType.STRING, value)


def pump_until_count(cmap: corosync.CMAP, recorder: ChangeRecorder, count: int) -> list[Change]:
    pump([cmap], lambda: len(recorder.changes) >= count, what=f"{count} track events")
    return recorder.changes


def settle(cmap: corosync.CMAP, recorder: ChangeRecorder, marker_key: str) -> list[Change]:
    """Make one more change, on `marker_key` (which `recorder`'s tracks on `cmap` must see),
    and dispatch until its event arrives; return the events before it. corosync queues one
    connection's events in the order of the changes, so an event missing then never comes."""
    marker = f"marker-{len(recorder.changes)}"
    cmap.set(marker_key, marker)

    def marker_index() -> int | None:
        return next(
            (
                i
                for i, c in enumerate(recorder.changes)
                if c.key == marker_key and c.new == s(marker)
            ),
            None,
        )

    pump([cmap], lambda: marker_index() is not None, what="the marker event")
    index = marker_index()
    assert index is not None
    return recorder.changes[:index]


class TestEventContents:
    def test_add_modify_and_delete_of_a_string(self, cmap: corosync.CMAP, prefix: str) -> None:
        key = prefix + "k"
        recorder = ChangeRecorder()
        cmap.track(key, recorder)
        cmap.set(key, "one")
        cmap.set(key, "two")
        cmap.delete(key)
        assert pump_until_count(cmap, recorder, 3) == [
            Change(ADD, key, s("one"), None),
            Change(MODIFY, key, s("two"), s("one")),
            Change(DELETE, key, None, s("two")),
        ]
        for change in recorder.changes:
            assert type(change.event) is TrackEvent

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            (TypedValue(ValueType.INT8, -128), TypedValue(ValueType.INT8, 127)),
            (TypedValue(ValueType.UINT64, 0), TypedValue(ValueType.UINT64, 2**64 - 1)),
            (TypedValue(ValueType.INT64, -(2**63)), TypedValue(ValueType.INT64, 5)),
            (TypedValue(ValueType.FLOAT, 1.5), TypedValue(ValueType.FLOAT, float("-inf"))),
            (TypedValue(ValueType.DOUBLE, 0.1), TypedValue(ValueType.DOUBLE, 1e300)),
            (TypedValue(ValueType.BINARY, b"\x00\xff"), TypedValue(ValueType.BINARY, b"")),
            (TypedValue(ValueType.STRING, ""), TypedValue(ValueType.STRING, "✓")),
            (TypedValue(ValueType.STRING, b"\xff"), TypedValue(ValueType.STRING, b"a\xfe")),
        ],
        ids=lambda v: f"{v.type.name}={v.value!r}",
    )
    def test_values_of_every_type_arrive_typed(
        self, cmap: corosync.CMAP, prefix: str, first: TypedValue, second: TypedValue
    ) -> None:
        key = prefix + "k"
        recorder = ChangeRecorder()
        cmap.track(key, recorder)
        cmap.set(key, first.value, first.type)
        cmap.set(key, second.value, second.type)
        cmap.delete(key)
        assert pump_until_count(cmap, recorder, 3) == [
            Change(ADD, key, first, None),
            Change(MODIFY, key, second, first),
            Change(DELETE, key, None, second),
        ]

    def test_a_change_of_type_is_a_modify_with_both_types(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        key = prefix + "k"
        cmap.set(key, "text")
        recorder = ChangeRecorder()
        cmap.track(key, recorder)
        cmap.set(key, 7, ValueType.UINT8)
        assert pump_until_count(cmap, recorder, 1) == [
            Change(MODIFY, key, TypedValue(ValueType.UINT8, 7), s("text"))
        ]

    def test_inc_and_dec_are_modifies_with_old_and_new_values(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        key = prefix + "n"
        cmap.set(key, 255, ValueType.UINT8)
        recorder = ChangeRecorder()
        cmap.track(key, recorder)
        cmap.inc(key)
        cmap.dec(key)

        def u8(value: int) -> TypedValue:
            return TypedValue(ValueType.UINT8, value)

        assert pump_until_count(cmap, recorder, 2) == [
            Change(MODIFY, key, u8(0), u8(255)),
            Change(MODIFY, key, u8(255), u8(0)),
        ]

    def test_setting_the_same_value_again_is_no_event(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        key = prefix + "k"
        recorder = ChangeRecorder()
        cmap.track(prefix, recorder, prefix=True)
        cmap.set(key, "same")
        cmap.set(key, "same")
        cmap.set(key, "same", ValueType.STRING)
        assert settle(cmap, recorder, prefix + "marker") == [Change(ADD, key, s("same"), None)]

    def test_the_largest_values_arrive_whole(self, cmap: corosync.CMAP, prefix: str) -> None:
        key = prefix + "big"
        old = bytes(i % 251 for i in range(MAX_VALUE_LEN))
        new = bytes(i % 241 for i in range(MAX_VALUE_LEN))
        text = "t" * (MAX_VALUE_LEN - 1)  # stored with its NUL: 16 KiB
        recorder = ChangeRecorder()
        cmap.track(key, recorder)
        cmap.set(key, old)
        cmap.set(key, new)
        cmap.set(key, text, ValueType.STRING)
        cmap.delete(key)
        binary = ValueType.BINARY
        assert pump_until_count(cmap, recorder, 4) == [
            Change(ADD, key, TypedValue(binary, old), None),
            Change(MODIFY, key, TypedValue(binary, new), TypedValue(binary, old)),
            Change(MODIFY, key, s(text), TypedValue(binary, new)),
            Change(DELETE, key, None, s(text)),
        ]


class TestWhatIsTracked:
    def test_a_key_track_sees_only_that_key(self, cmap: corosync.CMAP, prefix: str) -> None:
        recorder = ChangeRecorder()
        cmap.track(prefix + "k", recorder)
        cmap.track(prefix + "marker", recorder)
        for other in ("k2", "kk", "k.sub", "K"):
            cmap.set(prefix + other, 1)
        cmap.set(prefix + "k", 2)
        assert settle(cmap, recorder, prefix + "marker") == [
            Change(ADD, prefix + "k", TypedValue(ValueType.INT64, 2), None)
        ]

    def test_a_prefix_track_sees_every_key_under_it_and_nothing_else(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        recorder = ChangeRecorder()
        track = cmap.track(prefix + "dir.", recorder, prefix=True)
        assert track.prefix is True
        cmap.track(prefix + "marker", recorder)
        cmap.set(prefix + "dir.a", "a")
        cmap.set(prefix + "dirx", "outside")
        cmap.set(prefix + "dir", "outside too")
        cmap.set(prefix + "dir.sub.b", "b")
        cmap.set(prefix + "dir.a", "a2")
        cmap.delete(prefix + "dir.sub.b")
        assert settle(cmap, recorder, prefix + "marker") == [
            Change(ADD, prefix + "dir.a", s("a"), None),
            Change(ADD, prefix + "dir.sub.b", s("b"), None),
            Change(MODIFY, prefix + "dir.a", s("a2"), s("a")),
            Change(DELETE, prefix + "dir.sub.b", None, s("b")),
        ]
        # A prefix track's events are plain ADD, MODIFY, DELETE.
        assert {c.event for c in recorder.changes} == {ADD, MODIFY, DELETE}

    def test_a_prefix_that_is_not_a_whole_name_matches_by_text(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        recorder = ChangeRecorder()
        cmap.track(prefix + "ab", recorder, prefix=True)
        cmap.set(prefix + "abc", 1)
        cmap.set(prefix + "ab", 2)
        cmap.set(prefix + "a", 3)
        assert [c.key for c in settle(cmap, recorder, prefix + "ab.marker")] == [
            prefix + "abc",
            prefix + "ab",
        ]

    def test_an_empty_prefix_tracks_everything(self, cmap: corosync.CMAP, prefix: str) -> None:
        recorder = ChangeRecorder()
        cmap.track("", recorder, prefix=True)
        cmap.set(prefix + "x", 1)
        changes = settle(cmap, recorder, prefix + "marker")
        assert Change(ADD, prefix + "x", TypedValue(ValueType.INT64, 1), None) in changes

    @pytest.mark.parametrize(
        ("events", "expected"),
        [
            (ADD, [ADD]),
            (MODIFY, [MODIFY]),
            (DELETE, [DELETE]),
            (ADD | DELETE, [ADD, DELETE]),
            (MODIFY | DELETE, [MODIFY, DELETE]),
        ],
        ids=lambda v: str(v),
    )
    def test_only_the_asked_events_are_delivered(
        self, cmap: corosync.CMAP, prefix: str, events: TrackEvent, expected: list[TrackEvent]
    ) -> None:
        recorder = ChangeRecorder()
        track = cmap.track(prefix + "k", recorder, events=events)
        assert track.events == events
        cmap.track(prefix + "marker", recorder)
        cmap.set(prefix + "k", "1")
        cmap.set(prefix + "k", "2")
        cmap.delete(prefix + "k")
        assert [c.event for c in settle(cmap, recorder, prefix + "marker")] == expected

    def test_the_events_may_be_given_as_a_number(self, cmap: corosync.CMAP, prefix: str) -> None:
        recorder = ChangeRecorder()
        cmap.track(prefix + "k", recorder, events=4)  # type: ignore[arg-type]
        cmap.track(prefix + "marker", recorder)
        cmap.set(prefix + "k", "1")
        cmap.set(prefix + "k", "2")
        assert [c.event for c in settle(cmap, recorder, prefix + "marker")] == [ADD]

    def test_changes_by_another_handle_are_delivered(
        self, open_cmap: CmapFactory, prefix: str
    ) -> None:
        watcher, writer = open_cmap(), open_cmap()
        recorder = ChangeRecorder()
        watcher.track(prefix, recorder, prefix=True)
        writer.set(prefix + "k", b"\x00from the writer")
        writer.delete(prefix + "k")
        binary = TypedValue(ValueType.BINARY, b"\x00from the writer")
        assert pump_until_count(watcher, recorder, 2) == [
            Change(ADD, prefix + "k", binary, None),
            Change(DELETE, prefix + "k", None, binary),
        ]


class TestChangesByCmapctl:
    def test_set_modify_and_delete_by_cmapctl_are_delivered(
        self, cmap: corosync.CMAP, corosync_node: Node, prefix: str
    ) -> None:
        recorder = ChangeRecorder()
        cmap.track(prefix, recorder, prefix=True)
        cmapctl(corosync_node, "-s", prefix + "u32", "u32", "5")
        cmapctl(corosync_node, "-s", prefix + "u32", "u32", "6")
        cmapctl(corosync_node, "-s", prefix + "u32", "str", "now text")
        cmapctl(corosync_node, "-s", "--", prefix + "i8", "i8", "-128")
        cmapctl(corosync_node, "-s", prefix + "dbl", "dbl", "2.5")
        cmapctl(corosync_node, "-d", prefix + "u32")
        cmapctl(corosync_node, "-D", prefix)  # deletes i8 and dbl, in key order

        def u32(value: int) -> TypedValue:
            return TypedValue(ValueType.UINT32, value)

        i8 = TypedValue(ValueType.INT8, -128)
        dbl = TypedValue(ValueType.DOUBLE, 2.5)
        assert pump_until_count(cmap, recorder, 8) == [
            Change(ADD, prefix + "u32", u32(5), None),
            Change(MODIFY, prefix + "u32", u32(6), u32(5)),
            Change(MODIFY, prefix + "u32", s("now text"), u32(6)),
            Change(ADD, prefix + "i8", i8, None),
            Change(ADD, prefix + "dbl", dbl, None),
            Change(DELETE, prefix + "u32", None, s("now text")),
            Change(DELETE, prefix + "dbl", None, dbl),
            Change(DELETE, prefix + "i8", None, i8),
        ]

    def test_a_binary_value_set_by_cmapctl_arrives_whole(
        self, cmap: corosync.CMAP, corosync_node: Node, prefix: str
    ) -> None:
        value = bytes(range(256)) * 4
        recorder = ChangeRecorder()
        cmap.track(prefix + "bin", recorder)
        with tempfile.NamedTemporaryFile() as f:
            f.write(value)
            f.flush()
            cmapctl(corosync_node, "-s", prefix + "bin", "bin", f.name)
        assert pump_until_count(cmap, recorder, 1) == [
            Change(ADD, prefix + "bin", TypedValue(ValueType.BINARY, value), None)
        ]


class TestTracks:
    def test_a_track_describes_itself(self, cmap: corosync.CMAP, prefix: str) -> None:
        recorder = ChangeRecorder()
        track = cmap.track(prefix + "k", recorder)
        assert isinstance(track, Track)
        assert track.key == prefix + "k"
        assert track.events == ADD | MODIFY | DELETE
        assert track.prefix is False
        assert track.active is True
        assert track.callback is recorder
        other = cmap.track(prefix, recorder, events=DELETE, prefix=True)
        assert (other.key, other.events, other.prefix) == (prefix, DELETE, True)

    def test_several_tracks_on_one_handle_each_get_their_events(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        on_a, on_b, on_all, adds = (ChangeRecorder() for _ in range(4))
        cmap.track(prefix + "a", on_a)
        cmap.track(prefix + "b", on_b)
        cmap.track(prefix, on_all, prefix=True)
        cmap.track(prefix, adds, events=ADD, prefix=True)
        cmap.set(prefix + "a", "1")
        cmap.set(prefix + "b", "2")
        cmap.set(prefix + "a", "3")
        pump([cmap], lambda: len(on_all.changes) == 3)
        assert on_a.changes == [
            Change(ADD, prefix + "a", s("1"), None),
            Change(MODIFY, prefix + "a", s("3"), s("1")),
        ]
        assert on_b.changes == [Change(ADD, prefix + "b", s("2"), None)]
        assert on_all.changes == [*on_a.changes[:1], *on_b.changes, on_a.changes[1]]
        assert adds.changes == [on_a.changes[0], on_b.changes[0]]

    def test_two_tracks_on_one_key_both_run(self, cmap: corosync.CMAP, prefix: str) -> None:
        first, second = ChangeRecorder(), ChangeRecorder()
        cmap.track(prefix + "k", first)
        cmap.track(prefix + "k", second)
        cmap.set(prefix + "k", "v")
        pump([cmap], lambda: bool(first.changes and second.changes))
        assert first.changes == second.changes == [Change(ADD, prefix + "k", s("v"), None)]

    def test_untracking_on_one_handle_leaves_anothers_track(
        self, open_cmap: CmapFactory, prefix: str
    ) -> None:
        one, two = open_cmap(), open_cmap()
        seen_one, seen_two = ChangeRecorder(), ChangeRecorder()
        one.track(prefix + "k", seen_one)
        track_two = two.track(prefix + "k", seen_two)
        two.untrack(track_two)
        one.set(prefix + "k", "v")
        pump([one], lambda: bool(seen_one.changes))
        two.dispatch()
        assert seen_one.changes == [Change(ADD, prefix + "k", s("v"), None)]
        assert seen_two.changes == []

    def test_untrack_ends_the_track(self, cmap: corosync.CMAP, prefix: str) -> None:
        recorder = ChangeRecorder()
        track = cmap.track(prefix + "k", recorder)
        cmap.track(prefix + "marker", recorder)
        cmap.set(prefix + "k", "1")
        pump([cmap], lambda: bool(recorder.changes))
        cmap.untrack(track)
        assert track.active is False
        cmap.set(prefix + "k", "2")
        assert settle(cmap, recorder, prefix + "marker") == [
            Change(ADD, prefix + "k", s("1"), None)
        ]

    def test_events_queued_before_untrack_are_not_delivered(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        recorder, markers = ChangeRecorder(), ChangeRecorder()
        track = cmap.track(prefix + "k", recorder)
        cmap.set(prefix + "k", "queued")
        wait_readable(cmap)
        cmap.untrack(track)
        cmap.track(prefix + "marker", markers)
        settle(cmap, markers, prefix + "marker")
        assert recorder.changes == []

    @pytest.mark.parametrize(
        "flags",
        [DispatchFlags.ONE, DispatchFlags.ONE_NONBLOCKING, DispatchFlags.ALL],
        ids=lambda f: f.name,
    )
    def test_an_event_of_an_untracked_track_is_skipped_by_every_dispatch_flavour(
        self, cmap: corosync.CMAP, prefix: str, flags: DispatchFlags
    ) -> None:
        # libcmap 3.1.7 answers CS_ERR_BAD_HANDLE from a ONE or ONE_NONBLOCKING dispatch
        # that met an event of a deleted track: that is no error of the handle.
        recorder, markers = ChangeRecorder(), ChangeRecorder()
        track = cmap.track(prefix + "k", recorder)
        cmap.track(prefix + "marker", markers)
        cmap.set(prefix + "k", "queued")
        wait_readable(cmap)
        cmap.untrack(track)
        cmap.set(prefix + "marker", "after")
        for _ in range(10):
            cmap.dispatch(flags)
            if markers.changes:
                break
            wait_readable(cmap)
        assert markers.changes == [Change(ADD, prefix + "marker", s("after"), None)]
        assert recorder.changes == []

    def test_untracking_twice_raises_value_error(self, cmap: corosync.CMAP, prefix: str) -> None:
        track = cmap.track(prefix + "k", ChangeRecorder())
        cmap.untrack(track)
        with pytest.raises(ValueError):
            cmap.untrack(track)
        assert track.active is False

    def test_a_track_of_another_handle_is_refused(
        self, open_cmap: CmapFactory, prefix: str
    ) -> None:
        one, two = open_cmap(), open_cmap()
        track = one.track(prefix + "k", ChangeRecorder())
        with pytest.raises(ValueError):
            two.untrack(track)
        assert track.active is True

    def test_untrack_takes_only_a_track(self, cmap: corosync.CMAP) -> None:
        with pytest.raises(TypeError):
            cmap.untrack("test.key")  # type: ignore[arg-type]

    def test_untracking_inside_the_callback_stops_later_events(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        seen: list[str] = []
        tracks: list[Track] = []

        def callback(
            event: TrackEvent, key: str, new: TypedValue | None, old: TypedValue | None
        ) -> None:
            seen.append(key)
            cmap.untrack(tracks[0])

        tracks.append(cmap.track(prefix, callback, prefix=True))
        markers = ChangeRecorder()
        cmap.track(prefix + "marker", markers)
        cmap.set(prefix + "a", 1)
        cmap.set(prefix + "b", 2)
        settle(cmap, markers, prefix + "marker")
        assert seen == [prefix + "a"]

    def test_a_callback_may_use_the_handle(self, cmap: corosync.CMAP, prefix: str) -> None:
        seen: list[tuple[str, object]] = []

        def callback(
            event: TrackEvent, key: str, new: TypedValue | None, old: TypedValue | None
        ) -> None:
            seen.append((key, cmap[key] if key in cmap else None))
            if key == prefix + "ping":
                cmap.set(prefix + "pong", "from the callback")

        cmap.track(prefix, callback, prefix=True)
        cmap.set(prefix + "ping", "x")
        pump([cmap], lambda: len(seen) == 2)
        assert seen == [(prefix + "ping", "x"), (prefix + "pong", "from the callback")]

    def test_dispatch_inside_a_callback_raises_runtime_error(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        errors: list[BaseException] = []

        def callback(*args: object) -> None:
            try:
                cmap.dispatch()
            except RuntimeError as e:
                errors.append(e)

        cmap.track(prefix + "k", callback)
        cmap.set(prefix + "k", 1)
        pump([cmap], lambda: bool(errors))
        assert isinstance(errors[0], RuntimeError)

    @pytest.mark.parametrize(
        "key",
        ["", "ab", "with space", "k" * 256, "ü.key"],
        ids=["empty", "short", "space", "long", "utf8"],
    )
    def test_a_key_track_needs_a_valid_key_name(self, cmap: corosync.CMAP, key: str) -> None:
        with pytest.raises(ValueError):
            cmap.track(key, ChangeRecorder())

    @pytest.mark.parametrize("key", ["with space", "k" * 256, "ü."], ids=["space", "long", "utf8"])
    def test_a_prefix_track_needs_valid_characters(self, cmap: corosync.CMAP, key: str) -> None:
        with pytest.raises(ValueError):
            cmap.track(key, ChangeRecorder(), prefix=True)

    def test_a_short_prefix_is_a_valid_prefix_track(self, cmap: corosync.CMAP) -> None:
        track = cmap.track("t", ChangeRecorder(), prefix=True)
        assert (track.key, track.prefix, track.active) == ("t", True, True)


class TestCallbackExceptions:
    def test_the_exception_comes_out_of_dispatch_and_later_events_stay(
        self, cmap: corosync.CMAP, prefix: str
    ) -> None:
        seen: list[str] = []

        def callback(
            event: TrackEvent, key: str, new: TypedValue | None, old: TypedValue | None
        ) -> None:
            assert new is not None
            seen.append(str(new.value))
            if new.value == "2":
                # "3" is queued: a dispatch that went on after the exception would run it.
                wait_readable(cmap)
                raise Boom("from the callback")

        cmap.track(prefix + "k", callback)
        for value in ("1", "2", "3", "4"):
            cmap.set(prefix + "k", value)
        wait_readable(cmap)
        with pytest.raises(Boom, match="from the callback"):
            cmap.dispatch(DispatchFlags.ALL)
        assert seen == ["1", "2"]
        pump([cmap], lambda: len(seen) == 4)
        assert seen == ["1", "2", "3", "4"]

    @pytest.mark.parametrize("flags", list(DispatchFlags), ids=lambda f: f.name)
    def test_every_dispatch_flavour_propagates_it(
        self, cmap: corosync.CMAP, prefix: str, flags: DispatchFlags
    ) -> None:
        raised = Boom(flags.name)

        def callback(*args: object) -> None:
            raise raised

        cmap.track(prefix + "k", callback)
        cmap.set(prefix + "k", 1)
        wait_readable(cmap)
        with pytest.raises(Boom) as info:
            cmap.dispatch(flags)
        assert info.value is raised
        assert any(entry.name == "callback" for entry in info.traceback)


class TestClose:
    def test_closing_inside_a_callback_ends_the_dispatch(
        self, open_cmap: CmapFactory, prefix: str
    ) -> None:
        cmap = open_cmap()
        seen: list[str] = []

        def callback(
            event: TrackEvent, key: str, new: TypedValue | None, old: TypedValue | None
        ) -> None:
            seen.append(key)
            wait_readable(cmap)  # the next event is queued
            cmap.close()

        cmap.track(prefix, callback, prefix=True)
        cmap.set(prefix + "a", 1)
        cmap.set(prefix + "b", 2)
        wait_readable(cmap)
        cmap.dispatch(DispatchFlags.ALL)
        assert seen == [prefix + "a"]
        assert cmap.closed
        with pytest.raises(corosync.ClosedError):
            cmap.dispatch()

    def test_a_track_whose_handle_was_closed_is_inactive_and_never_called(
        self, open_cmap: CmapFactory, prefix: str
    ) -> None:
        cmap = open_cmap()
        recorder = ChangeRecorder()
        track = cmap.track(prefix + "k", recorder)
        cmap.set(prefix + "k", "queued, never dispatched")
        wait_readable(cmap)
        cmap.close()
        assert track.active is False
        assert (track.key, track.prefix) == (prefix + "k", False)
        with pytest.raises(corosync.ClosedError):
            cmap.untrack(track)
        # Another handle's change reaches nothing of the closed one.
        with open_cmap() as other:
            other.set(prefix + "k", "changed")
        del cmap
        gc.collect()
        assert recorder.changes == []

    def test_a_collected_handle_with_tracks_and_queued_events_is_finalized(
        self, corosync_node: Node, open_cmap: CmapFactory, prefix: str
    ) -> None:
        cmap = corosync_node.connect(corosync.CMAP)
        recorder = ChangeRecorder()
        track = cmap.track(prefix, recorder, prefix=True)
        # A cycle through the callback: only the cyclic collector frees the handle.
        cycle = cmap.track(prefix, lambda *args, _cycle=cmap: None, prefix=True)
        cmap.set(prefix + "k", 1)
        wait_readable(cmap)
        ref = weakref.ref(cmap)
        del cmap, cycle, track
        with pytest.warns(ResourceWarning):
            gc.collect()
        assert ref() is None
        with open_cmap() as other:
            other.set(prefix + "k", 2)
        assert recorder.changes == []

    def test_close_from_another_thread_ends_a_blocking_dispatch(
        self, open_cmap: CmapFactory, prefix: str
    ) -> None:
        cmap = open_cmap()
        recorder = ChangeRecorder()
        delivered = threading.Event()

        def callback(
            event: TrackEvent, key: str, new: TypedValue | None, old: TypedValue | None
        ) -> None:
            recorder(event, key, new, old)
            delivered.set()

        cmap.track(prefix + "k", callback)
        thread = threading.Thread(target=cmap.dispatch, args=(DispatchFlags.BLOCKING,))
        thread.start()
        cmap.set(prefix + "k", "seen by the blocking dispatch")
        assert delivered.wait(10), "the blocking dispatch ran no callback"
        cmap.close()
        thread.join(10)
        assert not thread.is_alive(), "close() did not end the blocking dispatch"
        assert recorder.changes == [
            Change(ADD, prefix + "k", s("seen by the blocking dispatch"), None)
        ]
