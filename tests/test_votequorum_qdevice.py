"""The quorum-device calls of corosync.Votequorum against real one-node clusters: names
(VOTEQUORUM_QDEVICE_MAX_NAME_LEN) and ring ids checked before corosync, what corosync refuses
and with which code, and a device whose vote decides quorum (TestCastingDevice: the node is
quorate only while the device casts its vote), with the callbacks' exact contents.

corosync 3.1's answers (votequorum.c): a call for a device that is not registered is
CS_ERR_NOT_EXIST; another name than the registered one is CS_ERR_INVALID_PARAM, except for
register (CS_ERR_EXIST; the same name again is accepted); a poll with another ring id than the
current one is CS_ERR_MESSAGE_ERROR, checked before the name. libvotequorum itself refuses
names of 0 or VOTEQUORUM_QDEVICE_MAX_NAME_LEN (255) bytes and more with CS_ERR_INVALID_PARAM."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from quorum_helpers import (
    VotequorumRecorder,
    device_decides_quorum,
    eventually,
    pump,
    ring_of,
    status,
)

import corosync
from corosync import CsError, RingId, TrackFlags
from corosync.testing import Node, QdeviceStatus
from corosync.votequorum import (
    VOTEQUORUM_QDEVICE_MAX_NAME_LEN,
    VOTEQUORUM_QDEVICE_NODEID,
    InfoFlag,
    NodeState,
    NodeStatus,
    Votequorum,
    VotequorumNodelist,
    VotequorumNotify,
)

NAME = "pydevice"
DEVICE_FLAGS = InfoFlag.QDEVICE_REGISTERED | InfoFlag.QDEVICE_ALIVE | InfoFlag.QDEVICE_CAST_VOTE


@pytest.fixture
def vq(corosync_node: Node) -> Iterator[Votequorum]:
    """A Votequorum handle on the plain one-node cluster; its device (corosync keeps a device
    registered after its connection closes) is unregistered after the test."""
    handle = corosync_node.connect(Votequorum)
    yield handle
    unregister(handle)


def unregister(handle: Votequorum) -> None:
    """Unregisters the handle's node's device, if any, and closes the handle. corosync clears
    the registration at once and the name once the cluster has seen the unregistration."""
    info = handle.info()
    if InfoFlag.QDEVICE_REGISTERED in info.flags:
        handle.qdevice_unregister(info.qdevice_name)
    eventually(lambda: handle.info().qdevice_name == "", "the device's name to be cleared")
    handle.close()


def test_the_constants_are_corosyncs() -> None:
    assert (VOTEQUORUM_QDEVICE_MAX_NAME_LEN, VOTEQUORUM_QDEVICE_NODEID) == (255, 0)


# Every call that takes a name, for a name that is refused before corosync is asked.
NAMED: dict[str, Callable[[Votequorum, str], object]] = {
    "votequorum_qdevice_register": lambda vq, name: vq.qdevice_register(name),
    "votequorum_qdevice_unregister": lambda vq, name: vq.qdevice_unregister(name),
    "votequorum_qdevice_update": lambda vq, name: vq.qdevice_update(NAME, name),
    "votequorum_qdevice_poll": lambda vq, name: vq.qdevice_poll(name, True, RingId(1, 1)),
    "votequorum_qdevice_master_wins": lambda vq, name: vq.qdevice_master_wins(name, True),
}


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("", 0),
        ("x" * VOTEQUORUM_QDEVICE_MAX_NAME_LEN, 255),
        ("x" * 1000, 1000),
        ("é" * 128, 256),  # 128 characters, 256 bytes of UTF-8
        ("a\0b", 3),
    ],
    ids=["empty", "255", "1000", "256-utf8", "nul"],
)
def test_names_corosync_cannot_take_raise_invalid_param_error_before_corosync(
    vq: Votequorum, name: str, size: int
) -> None:
    # No device is registered: had corosync been asked, it would have answered NOT_EXIST.
    for function, call in NAMED.items():
        with pytest.raises(corosync.InvalidParamError) as info:
            call(vq, name)
        assert (info.value.code, info.value.function) == (CsError.INVALID_PARAM, function)
        assert str(info.value) == (
            f"{function} failed: a qdevice name is 1 to 254 bytes without NUL, not {size}"
            " bytes (CS_ERR_INVALID_PARAM)"
        )
        assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("name", ["x" * 254, "é" * 127], ids=["254", "254-utf8"])
def test_the_longest_names_are_taken(vq: Votequorum, name: str) -> None:
    vq.qdevice_register(name)
    assert vq.info().qdevice_name == name
    vq.qdevice_unregister(name)
    assert not InfoFlag.QDEVICE_REGISTERED & vq.info().flags


def test_a_name_that_is_not_unicode_text_raises_unicode_encode_error(vq: Votequorum) -> None:
    # As CPG group names and CMAP keys do.
    with pytest.raises(UnicodeEncodeError):
        vq.qdevice_register("device-\udc80")


@pytest.mark.parametrize(
    ("ring", "error"),
    [
        (RingId(-1, 5), OverflowError),
        (RingId(2**32, 5), OverflowError),
        (RingId(1, -1), OverflowError),
        (RingId(1, 2**64), OverflowError),
        (RingId("1", 5), TypeError),  # type: ignore[arg-type]
        ((1, 5), TypeError),
        (None, TypeError),
    ],
    ids=["nodeid-negative", "nodeid-2**32", "seq-negative", "seq-2**64", "str", "tuple", "None"],
)
def test_a_ring_id_corosync_cannot_take_is_refused_naming_the_parameter(
    vq: Votequorum, ring: object, error: type[Exception]
) -> None:
    with pytest.raises(error) as info:
        vq.qdevice_poll(NAME, True, ring)  # type: ignore[arg-type]
    message = str(info.value)
    assert "ring_id" in message and "\n" not in message, message


def test_a_device_that_is_not_registered_is_not_there(vq: Votequorum) -> None:
    ring = RingId(1, 1)
    calls: dict[str, Callable[[], object]] = {
        "votequorum_qdevice_unregister": lambda: vq.qdevice_unregister(NAME),
        "votequorum_qdevice_update": lambda: vq.qdevice_update(NAME, "other"),
        "votequorum_qdevice_poll": lambda: vq.qdevice_poll(NAME, True, ring),
        "votequorum_qdevice_master_wins": lambda: vq.qdevice_master_wins(NAME, True),
    }
    for function, call in calls.items():
        with pytest.raises(corosync.NotExistError) as info:
            call()
        assert (info.value.code, info.value.function) == (CsError.NOT_EXIST, function)


def test_what_corosync_refuses_of_a_registered_device(vq: Votequorum, corosync_node: Node) -> None:
    vq.qdevice_register(NAME)
    vq.qdevice_register(NAME)  # the same name again: accepted
    with pytest.raises(corosync.ExistError) as exists:
        vq.qdevice_register("another")
    assert exists.value.code == CsError.EXIST
    ring = ring_of(corosync_node)
    stale = RingId(ring.nodeid, ring.seq - 1)
    with pytest.raises(corosync.MessageError) as info:
        vq.qdevice_poll(NAME, True, stale)
    assert (info.value.code, info.value.function) == (
        CsError.MESSAGE_ERROR,
        "votequorum_qdevice_poll",
    )
    with pytest.raises(corosync.MessageError):  # the ring is checked before the name
        vq.qdevice_poll("another", True, stale)
    wrong_name: dict[str, Callable[[], object]] = {
        "votequorum_qdevice_poll": lambda: vq.qdevice_poll("another", True, ring),
        "votequorum_qdevice_update": lambda: vq.qdevice_update("another", "third"),
        "votequorum_qdevice_master_wins": lambda: vq.qdevice_master_wins("another", True),
        "votequorum_qdevice_unregister": lambda: vq.qdevice_unregister("another"),
    }
    for function, call in wrong_name.items():
        with pytest.raises(corosync.InvalidParamError) as wrong:
            call()
        assert (wrong.value.code, wrong.value.function) == (CsError.INVALID_PARAM, function)
    assert InfoFlag.QDEVICE_REGISTERED in vq.info().flags  # none of that changed anything
    assert not InfoFlag.QDEVICE_ALIVE & vq.info().flags
    vq.qdevice_unregister(NAME)
    with pytest.raises(corosync.NotExistError):
        vq.qdevice_unregister(NAME)


# --- a device whose vote decides quorum ---------------------------------------------------


@pytest.fixture(scope="class")
def device_node() -> Iterator[Node]:
    with device_decides_quorum() as cluster:
        yield cluster.node(1)


@pytest.fixture
def device(device_node: Node) -> Iterator[Votequorum]:
    handle = device_node.connect(Votequorum)
    yield handle
    unregister(handle)
    device_node.cluster.wait_quorate(1, False, timeout=10)


class TestCastingDevice:
    def test_the_vote_shows_in_info_in_quorumtool_and_in_the_notifications(
        self, device_node: Node, device: Votequorum
    ) -> None:
        recorder = VotequorumRecorder()
        with device_node.connect(Votequorum) as watcher:
            recorder.attach(watcher).trackstart(TrackFlags.CHANGES)
            ring = ring_of(device_node)
            before = device.info()
            assert (before.flags, before.total_votes, before.quorum) == (InfoFlag(0), 1, 2)
            assert (before.qdevice_votes, before.qdevice_name) == (1, "")
            device.qdevice_register(NAME)
            registered = device.info()
            assert registered.flags == InfoFlag.QDEVICE_REGISTERED
            assert registered.qdevice_name == NAME
            device.qdevice_poll(NAME, True, ring)
            device_node.cluster.wait_quorate(1, timeout=10)
            cast = device.info()
            assert cast.flags == InfoFlag.QUORATE | DEVICE_FLAGS
            assert (cast.votes, cast.qdevice_votes, cast.total_votes, cast.quorum) == (1, 1, 2, 2)
            shown = status(device_node)
            assert (shown.total_votes, shown.quorum) == (2, 2)
            assert shown.flags == {"Quorate", "Qdevice"}
            assert shown.qdevice == QdeviceStatus(NAME, 1, True, True, True, False)
            device.qdevice_poll(NAME, False, ring)  # alive, but no vote
            device_node.cluster.wait_quorate(1, False, timeout=10)
            withheld = device.info()
            assert withheld.flags == InfoFlag.QDEVICE_REGISTERED | InfoFlag.QDEVICE_ALIVE
            assert withheld.total_votes == 1
            pump([watcher], lambda: len(recorder.notifies()) >= 3)
            node = NodeStatus(1, NodeState.MEMBER)
            # corosync lists the registered device as node 0 with state 0 (no NodeState).
            qdevice = NodeStatus(VOTEQUORUM_QDEVICE_NODEID, 0)
            assert recorder.events == [
                VotequorumNodelist(ring, [1]),
                VotequorumNotify(False, ring, [node]),
                VotequorumNotify(True, ring, [qdevice, node]),
                VotequorumNotify(False, ring, [qdevice, node]),
            ]

    def test_changes_only_notifies_with_ring_id_zero_before_any_nodelist(
        self, device_node: Node, device: Votequorum
    ) -> None:
        # Documented: on_notify gets the ring id of the last on_nodelist, RingId(0, 0) before
        # any; CHANGES_ONLY on a ring that does not change never gets one.
        recorder = VotequorumRecorder()
        with device_node.connect(Votequorum) as watcher:
            recorder.attach(watcher).trackstart(TrackFlags.CHANGES_ONLY)
            device.qdevice_register(NAME)
            device.qdevice_poll(NAME, True, ring_of(device_node))
            pump([watcher], lambda: len(recorder.events) >= 1)
            qdevice = NodeStatus(VOTEQUORUM_QDEVICE_NODEID, 0)
            node = NodeStatus(1, NodeState.MEMBER)
            assert recorder.events == [VotequorumNotify(True, RingId(0, 0), [qdevice, node])]

    def test_update_renames_and_master_wins_sets_its_flag(
        self, device_node: Node, device: Votequorum
    ) -> None:
        device.qdevice_register(NAME)
        device.qdevice_poll(NAME, True, ring_of(device_node))
        device.qdevice_master_wins(NAME, True)
        assert InfoFlag.QDEVICE_MASTER_WINS in device.info().flags
        assert status(device_node).qdevice == QdeviceStatus(NAME, 1, True, True, True, True)
        device.qdevice_update(NAME, "renamed")  # applied once the cluster has seen it
        eventually(lambda: device.info().qdevice_name == "renamed", "the new name")
        shown = status(device_node).qdevice
        assert shown is not None and (shown.name, shown.master_wins) == ("renamed", True)
        with pytest.raises(corosync.InvalidParamError):
            device.qdevice_master_wins(NAME, False)  # the old name is gone
        device.qdevice_master_wins("renamed", False)
        assert not InfoFlag.QDEVICE_MASTER_WINS & device.info().flags
        device.qdevice_unregister("renamed")
        assert not DEVICE_FLAGS & device.info().flags
        # No vote, so no quorum, once the cluster has seen the unregistration.
        eventually(lambda: device.info().flags == InfoFlag(0), "the quorum to go")
        eventually(lambda: device.info().qdevice_name == "", "the name to be cleared")
        assert status(device_node).qdevice is None
