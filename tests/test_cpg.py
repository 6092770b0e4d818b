"""CPG on a real one-node cluster: every call, the callbacks, and big and binary messages."""

from __future__ import annotations

import array
import mmap
import os
import select
import selectors

import pytest
from conftest import CpgFactory
from cpg_events import ConfChg, Recorder, TotemConfChg, pump, pump_past_marker

import corosync
from corosync import DispatchFlags
from corosync.cpg import CPG_MAX_NAME_LENGTH, Address, GroupMember, Guarantee, Reason

PID = os.getpid()


def joined_recorder(
    open_cpg: CpgFactory, group: str | bytes, **kwargs: object
) -> tuple[corosync.CPG, Recorder]:
    recorder = Recorder()
    cpg = recorder.attach(open_cpg(**kwargs))
    cpg.join(group)
    pump([cpg], lambda: bool(recorder.confchgs(group)), what="the join confchg")
    return cpg, recorder


def test_local_nodeid_is_the_nodes_id(open_cpg: CpgFactory) -> None:
    assert open_cpg().local_nodeid == 1


def test_max_atomic_msgsize_is_just_under_a_mebibyte(open_cpg: CpgFactory) -> None:
    size = open_cpg().max_atomic_msgsize
    # corosync's IPC request size (1 MiB) less its header reserve.
    assert 512 * 1024 < size < 1024 * 1024


def test_flow_control_is_off_when_idle(open_cpg: CpgFactory) -> None:
    assert open_cpg().flow_control_enabled is False


def readable(fd: int, timeout: float) -> bool:
    """Whether poll(2) reports `fd` readable within `timeout` seconds."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return any(events & select.POLLIN for _, events in poller.poll(timeout * 1000))


def test_fileno_is_readable_only_when_an_event_is_queued(open_cpg: CpgFactory, group: str) -> None:
    cpg, recorder = joined_recorder(open_cpg, group)
    fd = cpg.fileno()
    assert isinstance(fd, int) and fd >= 0
    # The join's confchg was dispatched: nothing is queued.
    assert not readable(fd, timeout=0), "readable with nothing queued"
    cpg.mcast(b"wake up")
    # Generous: the fd must become readable, however slowly the message comes round.
    assert readable(fd, timeout=10), "not readable with a message queued"
    cpg.dispatch(DispatchFlags.ALL)
    assert recorder.messages() == [b"wake up"]
    assert not readable(fd, timeout=0), "still readable after everything was dispatched"
    # selectors (epoll here) and select() see the same, through the handle's fileno().
    with selectors.DefaultSelector() as selector:
        selector.register(cpg, selectors.EVENT_READ)
        assert selector.select(timeout=0) == []
        cpg.mcast(b"again")
        assert [key.fileobj for key, _ in selector.select(timeout=10)] == [cpg]
    assert select.select([cpg], [], [], 0)[0] == [cpg]
    cpg.dispatch(DispatchFlags.ALL)
    assert recorder.messages() == [b"wake up", b"again"]
    assert select.select([cpg], [], [], 0)[0] == []


def test_join_reports_this_process_as_joined(open_cpg: CpgFactory, group: str) -> None:
    _cpg, recorder = joined_recorder(open_cpg, group)
    [change] = recorder.confchgs(group)
    assert change.joined == [Address(1, PID, Reason.JOIN)]
    assert [(m.nodeid, m.pid) for m in change.members] == [(1, PID)]
    assert change.left == []


def test_message_is_delivered_to_the_sender_with_its_origin(
    open_cpg: CpgFactory, group: str
) -> None:
    cpg, recorder = joined_recorder(open_cpg, group)
    cpg.mcast(b"hello")
    pump([cpg], lambda: bool(recorder.delivered()))
    [message] = recorder.delivered()
    assert (message.group, message.nodeid, message.pid, message.message) == (
        group,
        1,
        PID,
        b"hello",
    )


def test_buffers_of_every_kind_are_gathered_into_one_message(
    open_cpg: CpgFactory, group: str
) -> None:
    cpg, recorder = joined_recorder(open_cpg, group)
    cpg.mcast(
        b"ab",
        bytearray(b"cd"),
        memoryview(b"xxefxx")[2:4],
        array.array("B", b"gh"),
        b"",
        memoryview(bytearray(b"ij")),
    )
    pump([cpg], lambda: bool(recorder.messages()))
    assert recorder.messages() == [b"abcdefghij"]


def test_more_buffers_than_corosync_takes_at_once_are_gathered(
    open_cpg: CpgFactory, group: str
) -> None:
    cpg, recorder = joined_recorder(open_cpg, group)
    parts = [bytes([i]) * 3 for i in range(200)]
    cpg.mcast(*parts)
    pump([cpg], lambda: bool(recorder.messages()))
    assert recorder.messages() == [b"".join(parts)]


def test_empty_message_is_delivered(open_cpg: CpgFactory, group: str) -> None:
    cpg, recorder = joined_recorder(open_cpg, group)
    cpg.mcast()
    cpg.mcast(b"")
    pump([cpg], lambda: len(recorder.messages()) == 2)
    assert recorder.messages() == [b"", b""]


def test_binary_payloads_round_trip(open_cpg: CpgFactory, group: str) -> None:
    cpg, recorder = joined_recorder(open_cpg, group)
    payloads = [bytes(range(256)), b"\x00" * 100, b"\xff\x00\xfe", "héllo ✓".encode()]
    for payload in payloads:
        cpg.mcast(payload)
    pump([cpg], lambda: len(recorder.messages()) == len(payloads))
    assert recorder.messages() == payloads


@pytest.mark.parametrize("extra", [-1, 0, 1])
def test_messages_around_the_atomic_size_arrive_whole(
    open_cpg: CpgFactory, group: str, extra: int
) -> None:
    cpg, recorder = joined_recorder(open_cpg, group)
    size = cpg.max_atomic_msgsize + extra
    payload = os.urandom(size)
    cpg.mcast(payload)
    pump([cpg], lambda: bool(recorder.messages()))
    assert recorder.messages() == [payload]


@pytest.mark.parametrize("size", [1024 * 1024, 3 * 1024 * 1024 + 7, 16 * 1024 * 1024])
def test_big_messages_arrive_whole(open_cpg: CpgFactory, group: str, size: int) -> None:
    cpg, recorder = joined_recorder(open_cpg, group)
    payload = os.urandom(size)
    # A big message split over several buffers, one of them larger than the atomic size.
    cpg.mcast(payload[:10], memoryview(payload)[10:])
    pump([cpg], lambda: bool(recorder.messages()), timeout=60)
    assert len(recorder.messages()[0]) == size
    assert recorder.messages() == [payload]


def test_every_guarantee_is_accepted(open_cpg: CpgFactory, group: str) -> None:
    cpg, recorder = joined_recorder(open_cpg, group)
    for guarantee in Guarantee:
        cpg.mcast(guarantee.name.encode(), guarantee=guarantee)
    pump([cpg], lambda: len(recorder.messages()) == len(Guarantee))
    assert recorder.messages() == [g.name.encode() for g in Guarantee]


def test_messages_arrive_in_the_order_sent(open_cpg: CpgFactory, group: str) -> None:
    cpg, recorder = joined_recorder(open_cpg, group)
    for i in range(500):
        cpg.mcast(i.to_bytes(4, "big"))
    pump([cpg], lambda: len(recorder.messages()) == 500)
    assert [int.from_bytes(m, "big") for m in recorder.messages()] == list(range(500))


def test_membership_lists_the_joined_processes(open_cpg: CpgFactory, group: str) -> None:
    cpg, _ = joined_recorder(open_cpg, group)
    assert [(a.nodeid, a.pid) for a in cpg.membership(group)] == [(1, PID)]
    assert cpg.membership("no-such-group-" + group) == []


def test_iteration_lists_groups_and_members(open_cpg: CpgFactory, group: str) -> None:
    cpg, _ = joined_recorder(open_cpg, group)
    assert GroupMember(group, 1, PID) in cpg.groups()
    assert group in cpg.group_names()
    assert cpg.groups(group=group) == [GroupMember(group, 1, PID)]
    assert cpg.groups(group="no-such-group-" + group) == []


def test_a_non_utf8_group_name_comes_back_as_bytes(open_cpg: CpgFactory) -> None:
    group = b"\xff\xfe-binary-\x00-" + os.urandom(4).hex().encode()
    cpg, recorder = joined_recorder(open_cpg, group)
    cpg.mcast(b"x")
    pump([cpg], lambda: bool(recorder.messages(group)))
    assert recorder.delivered()[0].group == group
    assert group in cpg.group_names()


def test_a_group_name_of_128_bytes_works(open_cpg: CpgFactory) -> None:
    group = os.urandom(8).hex() + "g" * (CPG_MAX_NAME_LENGTH - 16)
    assert len(group) == CPG_MAX_NAME_LENGTH
    cpg, recorder = joined_recorder(open_cpg, group)
    cpg.mcast(b"x")
    pump([cpg], lambda: bool(recorder.messages(group)))
    assert recorder.delivered()[0].group == group
    assert group in cpg.group_names()


def test_deliver_initial_totem_conf_reports_the_ring_on_join(
    open_cpg: CpgFactory, group: str
) -> None:
    cpg, recorder = joined_recorder(open_cpg, group, deliver_initial_totem_conf=True)
    pump([cpg], lambda: bool(recorder.totem_confchgs()), what="the initial totem confchg")
    [totem] = recorder.totem_confchgs()
    assert totem.members == [1]
    assert totem.ring_id.nodeid == 1 and totem.ring_id.seq > 0


def test_without_the_flag_no_totem_conf_arrives_on_join(open_cpg: CpgFactory, group: str) -> None:
    cpg, recorder = joined_recorder(open_cpg, group)
    # With the flag, corosync queues the initial totem conf on the group's connection right
    # after the join's confchg: ahead of any message sent after the join.
    before_marker = pump_past_marker(cpg, recorder, group)
    assert [e for e in before_marker if isinstance(e, TotemConfChg)] == []
    assert recorder.totem_confchgs() == []


def test_callbacks_given_to_the_constructor_are_used(open_cpg: CpgFactory, group: str) -> None:
    recorder = Recorder()
    cpg = open_cpg(
        on_deliver=recorder.on_deliver,
        on_confchg=recorder.on_confchg,
        on_totem_confchg=recorder.on_totem_confchg,
    )
    assert cpg.on_deliver == recorder.on_deliver
    cpg.join(group)
    cpg.mcast(b"m")
    pump([cpg], lambda: bool(recorder.messages()))
    assert isinstance(recorder.events[0], ConfChg)


def test_callbacks_can_be_removed(open_cpg: CpgFactory, group: str) -> None:
    cpg, recorder = joined_recorder(open_cpg, group)
    cpg.on_deliver = None
    assert cpg.on_deliver is None
    cpg.mcast(b"dropped")
    # The leave's confchg comes after the message in the group's order: once it has been
    # dispatched, so has the message, to no callback.
    cpg.leave(group)
    pump([cpg], lambda: len(recorder.confchgs(group)) == 2, what="the leave confchg")
    assert recorder.messages() == []
    assert recorder.confchgs(group)[1].left == [Address(1, PID, Reason.LEAVE)]


class TestSeveralGroupsPerHandle:
    def test_messages_go_to_the_named_group(self, open_cpg: CpgFactory, group: str) -> None:
        recorder = Recorder()
        cpg = recorder.attach(open_cpg(deliver_initial_totem_conf=True))
        first, second = group + "-1", group + "-2"
        cpg.join(first)
        cpg.join(second)
        cpg.mcast(b"one", group=first)
        cpg.mcast(b"two", group=second)
        pump([cpg], lambda: len(recorder.messages()) == 2)
        assert recorder.messages(first) == [b"one"]
        assert recorder.messages(second) == [b"two"]
        assert {c.group for c in recorder.confchgs()} == {first, second}
        # corosync sends the initial totem conf on each group's connection, after the join's
        # confchg and so before each group's message: both have been dispatched, and the
        # handle reported them once.
        assert len(recorder.totem_confchgs()) == 1

    def test_mcast_needs_the_group_when_several_are_joined(
        self, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()
        cpg.join(group + "-1")
        cpg.join(group + "-2")
        with pytest.raises(corosync.InvalidParamError, match="several groups"):
            cpg.mcast(b"x")

    def test_leave_reports_this_process_as_left(self, open_cpg: CpgFactory, group: str) -> None:
        cpg, recorder = joined_recorder(open_cpg, group)
        cpg.leave(group)
        pump([cpg], lambda: len(recorder.confchgs(group)) == 2)
        left = recorder.confchgs(group)[1]
        assert left.left == [Address(1, PID, Reason.LEAVE)]
        assert left.members == []

    def test_rejoining_before_the_leave_was_dispatched_raises_busy(
        self, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg, recorder = joined_recorder(open_cpg, group)
        cpg.leave(group)
        with pytest.raises(corosync.BusyError, match="dispatch its leave"):
            cpg.join(group)
        # Nothing was lost: the leave confchg is still there to dispatch.
        pump([cpg], lambda: len(recorder.confchgs(group)) == 2)

    def test_a_left_group_can_be_joined_again(self, open_cpg: CpgFactory, group: str) -> None:
        cpg, recorder = joined_recorder(open_cpg, group)
        for round_ in range(5):
            cpg.leave(group)
            confchgs, messages = 2 * round_ + 2, round_ + 1
            pump([cpg], lambda: len(recorder.confchgs(group)) == confchgs)  # noqa: B023
            cpg.join(group)
            cpg.mcast(b"back %d" % round_)
            pump([cpg], lambda: len(recorder.messages()) == messages)  # noqa: B023
        assert recorder.messages() == [b"back %d" % i for i in range(5)]

    def test_other_groups_stay_joined_while_one_is_left(
        self, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg, recorder = joined_recorder(open_cpg, group + "-stay")
        cpg.join(group)
        cpg.leave(group)
        cpg.mcast(b"still here")
        pump([cpg], lambda: bool(recorder.messages()))
        assert recorder.messages(group + "-stay") == [b"still here"]


class TestRefusals:
    def test_joining_a_group_twice_raises_exist(self, open_cpg: CpgFactory, group: str) -> None:
        cpg = open_cpg()
        cpg.join(group)
        with pytest.raises(corosync.ExistError) as info:
            cpg.join(group)
        assert info.value.code == corosync.CsError.EXIST
        assert info.value.function == "cpg_join"

    def test_two_handles_of_one_process_cannot_join_one_group(
        self, open_cpg: CpgFactory, group: str
    ) -> None:
        # corosync identifies a member by (nodeid, pid): a second join is refused.
        open_cpg().join(group)
        with pytest.raises(corosync.ExistError):
            open_cpg().join(group)

    def test_leaving_a_group_not_joined_raises_not_exist(
        self, open_cpg: CpgFactory, group: str
    ) -> None:
        with pytest.raises(corosync.NotExistError, match="not joined"):
            open_cpg().leave(group)

    def test_mcast_before_join_raises_not_exist(self, open_cpg: CpgFactory) -> None:
        # The daemon would drop the message with only a log line.
        with pytest.raises(corosync.NotExistError):
            open_cpg().mcast(b"lost")

    def test_mcast_to_a_group_not_joined_raises_not_exist(
        self, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()
        cpg.join(group)
        with pytest.raises(corosync.NotExistError):
            cpg.mcast(b"x", group=group + "-other")

    @pytest.mark.parametrize(
        "call",
        [
            lambda cpg, name: cpg.join(name),
            lambda cpg, name: cpg.leave(name),
            lambda cpg, name: cpg.membership(name),
            lambda cpg, name: cpg.groups(group=name),
            lambda cpg, name: cpg.mcast(b"x", group=name),
        ],
        ids=["join", "leave", "membership", "groups", "mcast"],
    )
    @pytest.mark.parametrize("name", ["n" * 129, b"b" * 129, "é" * 65])
    def test_a_group_name_over_128_bytes_raises_name_too_long(
        self, open_cpg: CpgFactory, call: object, name: str | bytes
    ) -> None:
        cpg = open_cpg()
        with pytest.raises(corosync.NameTooLongError, match="at most 128") as info:
            call(cpg, name)  # type: ignore[operator]
        assert isinstance(info.value, ValueError)
        assert info.value.code == corosync.CsError.NAME_TOO_LONG

    def test_a_group_name_that_is_not_utf8_encodable_raises_unicode_error(
        self, open_cpg: CpgFactory
    ) -> None:
        with pytest.raises(UnicodeEncodeError):
            open_cpg().join("lone surrogate \udcff")

    @pytest.mark.parametrize("bad", [1, None, ["g"], bytearray(b"g")])
    def test_a_group_of_the_wrong_type_raises_type_error(
        self, open_cpg: CpgFactory, bad: object
    ) -> None:
        cpg = open_cpg()
        for call in (cpg.join, cpg.leave, cpg.membership):
            with pytest.raises(TypeError):
                call(bad)  # type: ignore[arg-type]

    @pytest.mark.parametrize("bad", ["text", 1, None, [b"x"], object()])
    def test_a_message_part_that_is_not_bytes_like_raises_type_error(
        self, open_cpg: CpgFactory, group: str, bad: object
    ) -> None:
        cpg = open_cpg()
        cpg.join(group)
        with pytest.raises(TypeError, match="argument 2"):
            cpg.mcast(b"ok", bad)  # type: ignore[arg-type]

    def test_a_message_of_4_gib_raises_too_big(self, open_cpg: CpgFactory, group: str) -> None:
        cpg = open_cpg()
        cpg.join(group)
        # Anonymous mappings are lazy: nothing of these 4 GiB is ever touched.
        with mmap.mmap(-1, 2**31) as half, pytest.raises(corosync.TooBigError) as info:
            cpg.mcast(half, half, b"x")
        assert isinstance(info.value, ValueError)
        assert info.value.function == "cpg_mcast_joined"

    def test_a_non_contiguous_buffer_raises_type_error(
        self, open_cpg: CpgFactory, group: str
    ) -> None:
        cpg = open_cpg()
        cpg.join(group)
        with pytest.raises(TypeError, match="contiguous"):
            cpg.mcast(memoryview(b"abcdef")[::2])

    @pytest.mark.parametrize("guarantee", ["AGREED", None, 2.0, True])
    def test_a_guarantee_that_is_not_a_guarantee_raises_type_error(
        self, open_cpg: CpgFactory, group: str, guarantee: object
    ) -> None:
        cpg = open_cpg()
        cpg.join(group)
        with pytest.raises(TypeError, match=r"^guarantee must be Guarantee or an int, not \w+$"):
            cpg.mcast(b"x", guarantee=guarantee)  # type: ignore[arg-type]

    @pytest.mark.parametrize("guarantee", [-1, 4, 2**70])
    def test_a_guarantee_out_of_range_raises_value_error(
        self, open_cpg: CpgFactory, group: str, guarantee: int
    ) -> None:
        cpg = open_cpg()
        cpg.join(group)
        with pytest.raises(ValueError, match=r"^guarantee must be a Guarantee \(0 to 3\), not"):
            cpg.mcast(b"x", guarantee=guarantee)  # type: ignore[arg-type]

    @pytest.mark.parametrize("flags", ["ALL", None])
    def test_dispatch_flags_must_be_dispatch_flags(
        self, open_cpg: CpgFactory, flags: object
    ) -> None:
        with pytest.raises(TypeError, match=r"^flags must be DispatchFlags or an int, not"):
            open_cpg().dispatch(flags)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=r"^flags must be a DispatchFlags \(1 to 4\), not 99$"):
            open_cpg().dispatch(99)  # type: ignore[arg-type]

    @pytest.mark.parametrize("attribute", ["on_deliver", "on_confchg", "on_totem_confchg"])
    def test_a_callback_that_is_not_callable_raises_type_error(
        self, open_cpg: CpgFactory, attribute: str
    ) -> None:
        cpg = open_cpg()
        with pytest.raises(TypeError, match="callable"):
            setattr(cpg, attribute, 42)
        with pytest.raises(TypeError, match="callable"):
            open_cpg(**{attribute: "not callable"})

    @pytest.mark.parametrize("timeout", [-1.0, float("nan"), float("inf")])
    def test_a_retry_timeout_that_is_not_a_duration_raises_value_error(
        self, open_cpg: CpgFactory, timeout: float
    ) -> None:
        with pytest.raises(ValueError, match="retry_timeout"):
            open_cpg(retry_timeout=timeout)

    @pytest.mark.parametrize("timeout", ["3", None])
    def test_a_retry_timeout_of_the_wrong_type_raises_type_error(
        self, open_cpg: CpgFactory, timeout: object
    ) -> None:
        with pytest.raises(TypeError):
            open_cpg(retry_timeout=timeout)

    def test_unknown_constructor_arguments_raise_type_error(self, open_cpg: CpgFactory) -> None:
        with pytest.raises(TypeError):
            open_cpg(on_message=print)
