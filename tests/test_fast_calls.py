"""The per-message calls (`cpg.mcast(buffer)`, `dispatch()`, `dispatch(flags)`) take a fast
path past pybind11's dispatcher; every other shape takes the full one. Both must behave
alike: these tests pin the edges where one hands over to the other."""

from __future__ import annotations

import array
import sys
import types
from typing import TYPE_CHECKING

import pytest
from conftest import CpgFactory
from cpg_events import joined, pump

import corosync
from corosync import DispatchFlags

if TYPE_CHECKING:
    from typing_extensions import Buffer


class MyCPG(corosync.CPG):
    """A subclass: its calls take the full path."""


def test_a_subclass_sends_and_dispatches_like_the_class(
    corosync_node: corosync.testing.Node, group: str
) -> None:
    got: list[bytes] = []
    with corosync_node.connect(MyCPG, on_deliver=lambda *a: got.append(a[3])) as cpg:
        cpg.join(group)
        cpg.mcast(b"from a subclass")
        pump([cpg], lambda: got == [b"from a subclass"])
        cpg.dispatch(DispatchFlags.ALL)
        cpg.dispatch(4)  # type: ignore[arg-type]  # an int is taken too


@pytest.mark.parametrize("flags", [DispatchFlags.ALL, DispatchFlags.ONE_NONBLOCKING, 2, 4])
def test_dispatch_takes_the_flags_as_enum_or_int(open_cpg: CpgFactory, flags: int) -> None:
    open_cpg().dispatch(flags)  # type: ignore[arg-type]  # an int is taken too


@pytest.mark.parametrize(
    ("flags", "error"), [(True, TypeError), (0, ValueError), (5, ValueError), (2**70, ValueError)]
)
def test_dispatch_flags_outside_the_fast_shape_still_raise(
    open_cpg: CpgFactory, flags: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match=r"^flags must be"):
        open_cpg().dispatch(flags)  # type: ignore[arg-type]


def test_one_non_buffer_argument_raises_the_full_paths_type_error(
    open_cpg: CpgFactory, group: str
) -> None:
    cpg, _ = joined(open_cpg, group)
    with pytest.raises(
        TypeError, match=r"^mcast\(\) argument 1 must be a contiguous bytes-like object, not int$"
    ):
        cpg.mcast(1)  # type: ignore[arg-type]


def test_after_close_the_fast_calls_raise_closed_error(open_cpg: CpgFactory, group: str) -> None:
    cpg, _ = joined(open_cpg, group)
    cpg.close()
    with pytest.raises(corosync.ClosedError, match="cpg_mcast_joined"):
        cpg.mcast(b"x")
    with pytest.raises(corosync.ClosedError, match="cpg_dispatch"):
        cpg.dispatch()


def test_errors_of_the_fast_mcast_are_corosync_errors(open_cpg: CpgFactory) -> None:
    with pytest.raises(corosync.NotExistError, match="has not joined any group"):
        open_cpg().mcast(b"x")


def test_dispatch_from_a_callback_raises_runtime_error_on_the_fast_path(
    open_cpg: CpgFactory, group: str
) -> None:
    cpg, _ = joined(open_cpg, group)
    raised: list[BaseException] = []

    def deliver(*_: object) -> None:
        try:
            cpg.dispatch()
        except BaseException as e:
            raised.append(e)

    cpg.on_deliver = deliver
    cpg.mcast(b"x")
    pump([cpg], lambda: bool(raised))
    assert isinstance(raised[0], RuntimeError)


def test_a_callbacks_exception_comes_out_of_the_fast_dispatch(
    open_cpg: CpgFactory, group: str
) -> None:
    cpg, _ = joined(open_cpg, group)

    def deliver(*_: object) -> None:
        raise LookupError("from the callback")

    cpg.on_deliver = deliver
    cpg.mcast(b"x")
    with pytest.raises(LookupError, match="from the callback"):
        pump([cpg], lambda: False)


@pytest.mark.parametrize("name", ["mcast", "dispatch"])
def test_the_per_message_methods_are_method_descriptors(name: str) -> None:
    # As methods written in C are: CPython calls one without first making a bound method
    # object, which a pybind11 method (an instancemethod) costs on every call.
    assert isinstance(vars(corosync.CPG)[name], types.MethodDescriptorType)
    assert getattr(corosync.CPG, name).__doc__.startswith(f"{name}(self: ")


def test_every_way_of_calling_them_reaches_the_same_method(
    open_cpg: CpgFactory, group: str
) -> None:
    cpg, recorder = joined(open_cpg, group)
    bound = cpg.mcast
    corosync.CPG.mcast(cpg, b"unbound")
    bound(b"bound")
    # Keywords, and more arguments than the descriptor's call keeps on its stack (8): the
    # full path, given the instance in front of the arguments.
    cpg.mcast(b"key", b"words", guarantee=corosync.Guarantee.AGREED)
    cpg.mcast(*[b"%d" % i for i in range(10)], guarantee=corosync.Guarantee.AGREED, group=group)
    corosync.CPG.dispatch(cpg, DispatchFlags.ALL)
    expected = [b"unbound", b"bound", b"keywords", b"0123456789"]
    pump([cpg], lambda: recorder.messages() == expected)


@pytest.mark.parametrize("name", ["mcast", "dispatch"])
def test_a_method_given_another_object_as_self_raises_type_error(name: str) -> None:
    with pytest.raises(
        TypeError,
        match=rf"^descriptor '{name}' for '[\w.]*CPG' objects doesn't apply to a 'int' object$",
    ):
        getattr(corosync.CPG, name)(42, b"x")


class MyBytes(bytes):
    """A bytes subclass: sent through the buffer protocol, not as bytes."""


def test_every_kind_of_buffer_arrives_whole(open_cpg: CpgFactory, group: str) -> None:
    cpg, recorder = joined(open_cpg, group)
    sent: list[Buffer] = [b"bytes", MyBytes(b"subclass"), bytearray(b"bytearray")]
    sent += [memoryview(b"xviewx")[1:5], array.array("B", b"array")]
    for message in sent:
        cpg.mcast(message)
    cpg.mcast_many(sent)
    expected = [bytes(m) for m in sent] * 2
    pump([cpg], lambda: recorder.messages() == expected)


def test_a_sent_message_keeps_no_reference(open_cpg: CpgFactory, group: str) -> None:
    cpg, recorder = joined(open_cpg, group)
    message, view_of = b"x" * 100, bytearray(b"y" * 100)
    before = sys.getrefcount(message), sys.getrefcount(view_of)
    for _ in range(10):
        cpg.mcast(message)
        cpg.mcast(view_of)
    cpg.mcast_many([message, view_of] * 10)
    pump([cpg], lambda: len(recorder.messages()) == 40)
    assert (sys.getrefcount(message), sys.getrefcount(view_of)) == before
    view_of.append(0)  # no buffer export left behind: a bytearray can resize again
