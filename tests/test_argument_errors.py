"""Wrong arguments get one line that names what is wrong, and enum parameters take the
plain int of a member, against a real one-node cluster."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import CpgFactory
from cpg_events import Recorder, pump

import corosync
from corosync import DispatchFlags, Guarantee
from corosync._arguments import brief


def test_enum_parameters_take_the_members_int_value(open_cpg: CpgFactory, group: str) -> None:
    recorder = Recorder()
    cpg = recorder.attach(open_cpg())
    cpg.join(group)
    # The stubs keep the enum types; at runtime a member's int value is accepted too.
    cpg.mcast(b"int", guarantee=2)  # type: ignore[arg-type]
    cpg.mcast(b"enum", guarantee=Guarantee.AGREED)
    pump([cpg], lambda: len(recorder.messages()) == 2)
    cpg.dispatch(int(DispatchFlags.ALL))  # type: ignore[arg-type]
    assert recorder.messages() == [b"int", b"enum"]


def message_of(call: Callable[[], object]) -> str:
    with pytest.raises(TypeError) as info:
        call()
    text = str(info.value)
    assert "\n" not in text, text
    return text


def test_each_kind_of_mistake_gets_one_line(open_cpg: CpgFactory, group: str) -> None:
    cpg = open_cpg()
    cpg.join(group)
    join = cpg.join
    assert message_of(lambda: open_cpg(retry_timoeut=1)) == (
        "CPG() got an unexpected keyword argument 'retry_timoeut' (did you mean 'retry_timeout'?)"
    )
    assert message_of(lambda: open_cpg(retry_timeout="3")) == (
        "CPG() argument 'retry_timeout' must be float or int, not str"
    )
    assert message_of(lambda: open_cpg(send_window_bytes=1.5)) == (
        "CPG() argument 'send_window_bytes' must be int, not float"
    )
    assert message_of(lambda: cpg.mcast(b"x", grop=group)) == (  # type: ignore[call-arg]
        "mcast() got an unexpected keyword argument 'grop' (did you mean 'group'?)"
    )
    assert message_of(lambda: cpg.mcast(b"x", 5)) == (  # type: ignore[arg-type]
        "mcast() argument 2 must be a contiguous bytes-like object, not int"
    )
    assert message_of(lambda: join(group, group)) == (  # type: ignore[call-arg]
        "join() takes 1 positional argument but 2 were given"
    )
    assert message_of(lambda: join()) == "join() missing required argument 'group'"  # type: ignore[call-arg]
    assert message_of(lambda: join(group, group=group)) == (  # type: ignore[misc]
        "join() got multiple values for argument 'group'"
    )


def test_a_callback_of_the_wrong_type_names_the_property(open_cpg: CpgFactory) -> None:
    cpg = open_cpg()
    assert message_of(lambda: setattr(cpg, "on_deliver", 42)) == (
        "on_deliver must be callable or None, not int"
    )


def test_calls_that_fail_for_other_reasons_keep_their_error(open_cpg: CpgFactory) -> None:
    cpg = open_cpg()
    with pytest.raises(corosync.NotExistError):
        cpg.mcast(b"x")


def test_a_union_inside_a_callable_is_not_taken_for_alternatives() -> None:
    # pybind11's report for a callback parameter given a non-callable (as it would write it).
    message = (
        "track(): incompatible function arguments. The following argument types are"
        " supported:\n    1. (self: corosync._corosync.X, callback: collections.abc.Callable"
        "[[str | bytes, int], None] | None) -> None\n\nInvoked with: <X>, 5"
    )
    assert brief(message, [object(), 5], None) == (
        "track() argument 'callback' must be callable or None, not int"
    )
