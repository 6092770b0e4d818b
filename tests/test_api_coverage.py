"""Every function that corosync's installed headers declare is bound, or listed here with a
reason. A function added to the headers (a corosync upgrade) fails this test until someone
decides what to do with it. A bound function is named in the docstring of the Python
attribute that wraps it, so a reader goes from Python to the C documentation in one step."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import corosync

HEADERS = Path("/usr/include/corosync")
SERVICE_HEADERS = ["cpg.h", "cmap.h", "quorum.h", "votequorum.h", "sam.h", "corotypes.h"]

# C function → the Python attribute (dotted, from the `corosync` package) whose docstring
# names it.
BOUND: dict[str, str] = {
    "cpg_model_initialize": "CPG.__init__",
    "cpg_finalize": "CPG.close",
    "cpg_fd_get": "CPG.fileno",
    "cpg_dispatch": "CPG.dispatch",
    "cpg_join": "CPG.join",
    "cpg_leave": "CPG.leave",
    "cpg_mcast_joined": "CPG.mcast",
    "cpg_membership_get": "CPG.membership",
    "cpg_local_get": "CPG.local_nodeid",
    "cpg_flow_control_state_get": "CPG.flow_control_enabled",
    "cpg_max_atomic_msgsize_get": "CPG.max_atomic_msgsize",
    "cpg_iteration_initialize": "CPG.groups",
    "cpg_iteration_next": "CPG.groups",
    "cpg_iteration_finalize": "CPG.groups",
    "cs_strerror": "CorosyncError",
}

NOT_BOUND: dict[str, str] = {
    "cpg_initialize": "superseded by cpg_model_initialize, which CPG() calls: the same "
    "connection plus the totem-confchg callback",
    "cpg_context_get": "used internally to find a connection's state from C callbacks",
    "cpg_context_set": "used internally (the context is passed to cpg_model_initialize)",
    "cpg_zcb_alloc": "zero-copy buffers: CPG.mcast already sends buffer-protocol objects "
    "without copying on the Python side; corosync's zcb path maps a file per buffer and "
    "gains nothing for a Python caller",
    "cpg_zcb_free": "see cpg_zcb_alloc",
    "cpg_zcb_mcast_joined": "see cpg_zcb_alloc",
    "qb_to_cs_error": "internal errno conversion of corosync's libraries",
    "hdb_error_to_cs": "internal handle-database error conversion of corosync's libraries",
}

# Whole services whose binding has not landed yet: each is a road-map issue of its own.
NOT_YET: dict[str, str] = {
    "cmap_": "CMAP lands with the CMAP issue",
    "quorum_": "Quorum lands with the Quorum and Votequorum issue",
    "votequorum_": "Votequorum lands with the Quorum and Votequorum issue",
    "sam_": "SAM lands with the SAM issue",
}

DECLARATION = re.compile(
    r"^(?:extern\s+)?(?:const\s+)?(?:cs_error_t|char|int|void|unsigned\s+int|uint\d+_t)"
    r"[\s*]+(\w+)\s*\(",
    re.MULTILINE,
)


def declared_functions() -> set[str]:
    names: set[str] = set()
    for header in SERVICE_HEADERS:
        path = HEADERS / header
        assert path.exists(), f"{path} is missing: install corosync's -dev packages"
        names.update(DECLARATION.findall(path.read_text()))
    return names


def resolve(dotted: str) -> object:
    obj: object = corosync
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def test_headers_parse_to_a_plausible_api() -> None:
    declared = declared_functions()
    # Guard against a regex that silently matches nothing.
    assert {"cpg_join", "cmap_get", "quorum_getquorate", "sam_register"} <= declared
    assert len(declared) > 80


def test_every_declared_function_is_bound_or_has_a_reason() -> None:
    declared = declared_functions()
    unaccounted = sorted(
        name
        for name in declared
        if name not in BOUND
        and name not in NOT_BOUND
        and not any(name.startswith(prefix) for prefix in NOT_YET)
    )
    assert unaccounted == [], f"neither bound nor listed with a reason: {unaccounted}"


def test_lists_name_only_declared_functions() -> None:
    declared = declared_functions()
    stale = sorted((set(BOUND) | set(NOT_BOUND)) - declared)
    assert stale == [], f"listed but not declared by the headers: {stale}"


@pytest.mark.parametrize(("function", "attribute"), sorted(BOUND.items()))
def test_bound_function_is_wrapped_and_documented(function: str, attribute: str) -> None:
    obj = resolve(attribute)
    doc = obj.__doc__ or ""
    if attribute == "CorosyncError":
        # The message text comes from cs_strerror, through the C++ core's error type.
        doc = corosync.errors.__doc__ or ""
        function = "cs_error_t"
    assert function in doc, f"{attribute}'s docstring does not name {function}"
