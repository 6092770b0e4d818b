"""corosync.sam's calls in the wrong state or with bad arguments (issue 18): each raises the
error the module's docstring names, before anything changes, and ``sam.state()`` follows the
life cycle. Every call that could change SAM's state runs in a program of its own on a
one-node cluster (sam_programs); the test process only makes calls that cannot."""

from __future__ import annotations

import pytest
from sam_programs import StartSam

from corosync import sam
from corosync.errors import BadHandleError
from corosync.testing import Node

INITIALIZED = ["sam.initialize(300, Policy.QUIT)"]
REGISTERED = [*INITIALIZED, "registered()"]
STARTED = [*REGISTERED, "sam.start()"]
FINALIZED = [*INITIALIZED, "sam.finalize()"]

# After the setup: the call, its outcome and the state then, one line each.
CALL = """
try:
    {call}
except Exception as e:
    say(f"raised {{type(e).__name__}}: " + str(e).replace("\\n", " "))
else:
    say("returned")
say(f"state {{sam.state().name}}")
"""

WRONG_STATE = [
    pytest.param([], "sam.start()", "SAM is not initialized", "NOT_INITIALIZED", id="start-first"),
    pytest.param(INITIALIZED, "sam.start()", "SAM is initialized", "INITIALIZED", id="start"),
    pytest.param(REGISTERED, "sam.hc_send()", "SAM is registered", "REGISTERED", id="hc_send"),
    pytest.param(
        [*STARTED, "sam.stop()"], "sam.hc_send()", "SAM is registered", "REGISTERED", id="stopped"
    ),
    pytest.param(REGISTERED, "sam.stop()", "SAM is registered", "REGISTERED", id="stop"),
    pytest.param(REGISTERED, "sam.register()", "SAM is registered", "REGISTERED", id="register"),
    pytest.param(
        INITIALIZED,
        "sam.set_hc_callback(lambda: True)",
        "SAM is initialized",
        "INITIALIZED",
        id="set_hc_callback-before-register",
    ),
    pytest.param(
        STARTED,
        "sam.set_hc_callback(lambda: True)",
        "SAM is started",
        "STARTED",
        id="set_hc_callback-after-start",
    ),
    pytest.param(
        INITIALIZED, "sam.mark_failed()", "SAM is initialized", "INITIALIZED", id="mark_failed"
    ),
    pytest.param(
        INITIALIZED,
        "sam.initialize(300, Policy.QUIT)",
        "SAM is initialized",
        "INITIALIZED",
        id="initialize-twice",
    ),
    pytest.param(
        FINALIZED,
        "sam.initialize(300, Policy.QUIT)",
        "cannot be initialized again",
        "FINALIZED",
        id="initialize-after-finalize",
    ),
    pytest.param(
        FINALIZED, "sam.data_store(b'x')", "SAM is finalized", "FINALIZED", id="finalized-store"
    ),
    pytest.param(FINALIZED, "sam.finalize()", "SAM is finalized", "FINALIZED", id="finalize"),
    pytest.param(
        FINALIZED, "sam.register()", "SAM is finalized", "FINALIZED", id="finalized-register"
    ),
]

BAD_ARGUMENT = [
    pytest.param(
        [],
        "sam.initialize(0, Policy.RESTART)",
        "InvalidParamError",
        "time_interval_ms must be > 0, not 0",
        "NOT_INITIALIZED",
        id="interval-0",
    ),
    pytest.param(
        [],
        "sam.initialize(-1, Policy.RESTART)",
        "InvalidParamError",
        "time_interval_ms must be > 0, not -1",
        "NOT_INITIALIZED",
        id="interval--1",
    ),
    pytest.param(
        [],
        "sam.initialize(300, Policy.QUORUM)",
        "InvalidParamError",
        "policy must be QUIT or RESTART",
        "NOT_INITIALIZED",
        id="policy-QUORUM-alone",
    ),
    pytest.param(
        [],
        "sam.initialize(300, Policy.RESTART | Policy.QUIT)",
        "InvalidParamError",
        "policy must be QUIT or RESTART",
        "NOT_INITIALIZED",
        id="policy-RESTART|QUIT",
    ),
    pytest.param(
        [], "sam.initialize(300, 64)", "InvalidParamError", "64", "NOT_INITIALIZED", id="policy-64"
    ),
    pytest.param(
        [],
        "sam.initialize(300, 2**70)",
        "ValueError",
        "policy must be a RecoveryPolicy (-2147483648 to 2147483647), not 2**70".replace(
            "2**70", str(2**70)
        ),
        "NOT_INITIALIZED",
        id="policy-2**70",
    ),
    pytest.param(
        INITIALIZED,
        "sam.set_warn_signal(0)",
        "InvalidParamError",
        "no signal has number 0",
        "INITIALIZED",
        id="signal-0",
    ),
    pytest.param(
        INITIALIZED,
        "sam.set_warn_signal(1000)",
        "InvalidParamError",
        "no signal has number 1000",
        "INITIALIZED",
        id="signal-1000",
    ),
    pytest.param(
        REGISTERED,
        "sam.mark_failed()",
        "InvalidParamError",
        "CMAP flag",
        "REGISTERED",
        id="mark_failed-without-CMAP",
    ),
    pytest.param(
        ["sam.initialize(3, Policy.QUIT)", "registered()"],
        "sam.set_hc_callback(lambda: True)",
        "InvalidParamError",
        ">= 4 ms",
        "REGISTERED",
        id="set_hc_callback-interval-3",
    ),
    pytest.param(
        [],
        "sam.initialize(2**40, Policy.RESTART)",
        "OverflowError",
        "not 1099511627776",
        "NOT_INITIALIZED",
        id="interval-2**40",
    ),
    pytest.param(
        INITIALIZED,
        "sam.set_warn_signal(2**40)",
        "OverflowError",
        "not 1099511627776",
        "INITIALIZED",
        id="signal-2**40",
    ),
    pytest.param(
        [],
        "sam.initialize('300', Policy.RESTART)",
        "TypeError",
        "Invoked with: '300'",
        "NOT_INITIALIZED",
        id="interval-str",
    ),
    pytest.param(
        [],
        "sam.initialize(300.0, Policy.RESTART)",
        "TypeError",
        "Invoked with: 300.0",
        "NOT_INITIALIZED",
        id="interval-float",
    ),
    pytest.param(
        [],
        "sam.initialize(True, Policy.RESTART)",
        "TypeError",
        "time_interval_ms must be an int, not bool",
        "NOT_INITIALIZED",
        id="interval-bool",
    ),
    pytest.param(
        [],
        "sam.initialize(300, 'RESTART')",
        "TypeError",
        "policy must be RecoveryPolicy or an int, not str",
        "NOT_INITIALIZED",
        id="policy-str",
    ),
    pytest.param(
        INITIALIZED,
        "sam.set_warn_signal(10.0)",
        "TypeError",
        "Invoked with: 10.0",
        "INITIALIZED",
        id="signal-float",
    ),
    pytest.param(
        INITIALIZED,
        "sam.data_store('text')",
        "TypeError",
        "data must be bytes-like or None, not str",
        "INITIALIZED",
        id="data-str",
    ),
    pytest.param(
        REGISTERED,
        "sam.set_hc_callback(42)",
        "TypeError",
        "Invoked with: 42",
        "REGISTERED",
        id="set_hc_callback-int",
    ),
]


def outcome(start_sam: StartSam, node: Node, setup: list[str], call: str) -> tuple[str, str]:
    """What ``call`` did after ``setup`` in a program of its own: its outcome line (``raised
    NAME: MESSAGE`` or ``returned``) and ``state NAME`` after it."""
    program = start_sam(node, "\n".join(setup) + CALL.format(call=call))
    assert program.finish() == 0, program.lines
    line, state = program.lines[-2:]
    return line, state


@pytest.mark.parametrize(("setup", "call", "message", "state"), WRONG_STATE)
def test_a_call_in_the_wrong_state_raises_bad_handle_error_naming_the_state(
    start_sam: StartSam,
    corosync_node: Node,
    setup: list[str],
    call: str,
    message: str,
    state: str,
) -> None:
    line, after = outcome(start_sam, corosync_node, setup, call)
    assert line.startswith("raised BadHandleError: "), line
    assert message in line
    assert after == f"state {state}"


@pytest.mark.parametrize(("setup", "call", "error", "message", "state"), BAD_ARGUMENT)
def test_a_bad_argument_raises_its_error_and_changes_nothing(
    start_sam: StartSam,
    corosync_node: Node,
    setup: list[str],
    call: str,
    error: str,
    message: str,
    state: str,
) -> None:
    line, after = outcome(start_sam, corosync_node, setup, call)
    assert line.startswith(f"raised {error}: "), line
    assert message in line
    assert after == f"state {state}"


def test_a_bad_value_is_caught_as_a_value_error(start_sam: StartSam, corosync_node: Node) -> None:
    program = start_sam(
        corosync_node,
        """
        try:
            sam.initialize(0, Policy.RESTART)
        except ValueError as e:
            say(f"ValueError: {type(e).__name__} from {e.function}, code {e.code.name}")
        """,
    )
    assert program.finish() == 0, program.lines
    assert program.lines == [
        "ValueError: InvalidParamError from sam_initialize, code INVALID_PARAM"
    ]


def test_without_the_daemon_the_quorum_and_cmap_flags_raise_library_error(
    start_sam: StartSam, corosync_node: Node
) -> None:
    cluster = corosync_node.cluster
    cluster.kill(corosync_node.nodeid)
    try:
        quorum = outcome(
            start_sam, corosync_node, [], "sam.initialize(300, Policy.RESTART | Policy.QUORUM)"
        )
        cmap = outcome(
            start_sam,
            corosync_node,
            ["sam.initialize(300, Policy.RESTART | Policy.CMAP)"],
            "sam.register()",  # registers in CMAP before it forks
        )
    finally:
        cluster.restart(corosync_node.nodeid)
    assert quorum[0].startswith("raised LibraryError: sam_initialize failed"), quorum
    assert quorum[1] == "state NOT_INITIALIZED"
    assert cmap[0].startswith("raised LibraryError: sam_register failed"), cmap
    assert cmap[1] == "state INITIALIZED"


def test_state_follows_the_life_cycle(start_sam: StartSam, corosync_node: Node) -> None:
    program = start_sam(
        corosync_node,
        """
        def show():
            say(f"state {sam.state().name} {type(sam.state()) is sam.State}")

        show()
        sam.initialize(300, Policy.QUIT)
        show()
        registered()
        show()
        sam.start()
        show()
        sam.stop()
        show()
        sam.start()
        show()
        sam.finalize()  # stops first
        show()
        sys.exit(0)
        """,
    )
    assert program.finish() == 0, program.lines
    assert program.matching("^state") == [
        f"state {name} True"
        for name in [
            "NOT_INITIALIZED",
            "INITIALIZED",
            "REGISTERED",
            "STARTED",
            "REGISTERED",
            "STARTED",
            "FINALIZED",
        ]
    ]


def test_the_test_process_never_initialized_sam() -> None:
    # Calls that cannot change the state from NOT_INITIALIZED: their argument errors come
    # first, and nothing else in this process initialized SAM (this module runs it last).
    with pytest.raises(TypeError):
        sam.data_store("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sam.set_hc_callback(42)  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        sam.set_warn_signal(2**40)
    with pytest.raises(BadHandleError, match="SAM is not initialized"):
        sam.hc_send()
    assert sam.state() is sam.State.NOT_INITIALIZED
