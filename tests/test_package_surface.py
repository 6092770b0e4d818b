"""What a new user of the package meets first: the names it exports, constants taken from
corosync's headers, messages that say what is wrong, and handles that describe themselves."""

from __future__ import annotations

import gc
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CpgFactory
from cpg_events import Recorder, pump

import corosync
import corosync._corosync
import corosync.cpg
from corosync.testing import Node


def test_the_cpg_types_are_exported_at_the_top_level() -> None:
    for name in ("CPG", "Address", "GroupMember", "Guarantee", "Reason", "RingId"):
        module = corosync.types if name == "RingId" else corosync.cpg
        assert getattr(corosync, name) is getattr(module, name)
        assert name in corosync.__all__


def test_a_star_import_does_not_shadow_the_builtin_timeout_error() -> None:
    namespace: dict[str, object] = {}
    exec("from corosync import *", namespace)
    assert "TimeoutError" not in namespace
    assert "CorosyncError" in namespace
    from corosync import TimeoutError as CorosyncTimeoutError  # still importable by name

    assert issubclass(CorosyncTimeoutError, TimeoutError)


def test_constants_come_from_corosyncs_headers() -> None:
    assert corosync.cpg.CPG_MAX_NAME_LENGTH == corosync._corosync.CPG_MAX_NAME_LENGTH == 128
    assert corosync.CsError is corosync._corosync.CsError
    assert int(corosync.CsError.SECURITY) == 100
    assert int(corosync.CsError.TOO_MANY_GROUPS) == 30


def test_error_messages_have_one_format(open_cpg: CpgFactory) -> None:
    cpg = open_cpg()
    with pytest.raises(corosync.NameTooLongError) as too_long:
        cpg.join("x" * 200)
    with pytest.raises(corosync.NotExistError) as not_joined:
        cpg.mcast(b"x")
    cpg.close()
    with pytest.raises(corosync.ClosedError) as closed:
        cpg.fileno()
    for error, function in [
        (too_long.value, "cpg_join"),
        (not_joined.value, "cpg_mcast_joined"),
        (closed.value, "cpg_fd_get"),
    ]:
        assert error.function == function
        assert str(error).startswith(f"{function} failed: ")
        assert str(error).endswith(f"(CS_ERR_{error.code.name})")


def test_a_handle_describes_itself(open_cpg: CpgFactory, group: str) -> None:
    cpg = open_cpg()
    cpg.join(group)
    assert repr(cpg) == f"<corosync.CPG node 1 pid {os.getpid()} groups [{group!r}]>"
    cpg.close()
    assert repr(cpg) == "<corosync.CPG closed>"


def test_an_unclosed_handle_that_is_collected_warns(corosync_node: Node) -> None:
    cpg = corosync_node.connect(corosync.CPG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del cpg
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == [
        "unclosed corosync.CPG handle; close it or use `with`"
    ]


def test_a_closed_handle_that_is_collected_does_not_warn(corosync_node: Node) -> None:
    with corosync_node.connect(corosync.CPG) as cpg:
        pass
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del cpg
        gc.collect()
    assert [w for w in caught if w.category is ResourceWarning] == []


def test_group_names_round_trip_losslessly(open_cpg: CpgFactory, group: str) -> None:
    recorder = Recorder()
    cpg = recorder.attach(open_cpg())
    cpg.join(group.encode())
    pump([cpg], lambda: bool(recorder.confchgs()))
    assert recorder.confchgs()[0].group == group  # bytes in, str out: the same name
    assert repr(group) in repr(cpg)
    cpg.leave(group)  # and str in for the same group


def test_local_address_is_this_process_as_callbacks_name_it(
    open_cpg: CpgFactory, group: str
) -> None:
    recorder = Recorder()
    cpg = recorder.attach(open_cpg())
    cpg.join(group)
    pump([cpg], lambda: bool(recorder.confchgs()))
    joined = recorder.confchgs()[0].joined
    assert [(a.nodeid, a.pid) for a in joined] == [cpg.local_address]
    assert cpg.local_address == (cpg.local_nodeid, os.getpid())


def test_every_error_after_close_names_a_real_c_function(open_cpg: CpgFactory) -> None:
    declared = set(re.findall(r"\b(cpg_\w+)\s*\(", Path("/usr/include/corosync/cpg.h").read_text()))
    cpg = open_cpg()
    cpg.close()
    calls: dict[str, Callable[[], object]] = {
        "join": lambda: cpg.join("g"),
        "leave": lambda: cpg.leave("g"),
        "mcast": lambda: cpg.mcast(b"x"),
        "membership": lambda: cpg.membership("g"),
        "groups": cpg.groups,
        "group_names": cpg.group_names,
        "fileno": cpg.fileno,
        "dispatch": cpg.dispatch,
        "local_nodeid": lambda: cpg.local_nodeid,
        "max_atomic_msgsize": lambda: cpg.max_atomic_msgsize,
        "flow_control_enabled": lambda: cpg.flow_control_enabled,
        "on_deliver": lambda: setattr(cpg, "on_deliver", print),
    }
    for what, call in calls.items():
        with pytest.raises(corosync.ClosedError) as info:
            call()
        assert info.value.function in declared, (what, info.value.function)
        assert str(info.value).startswith(f"{info.value.function} failed: "), what
