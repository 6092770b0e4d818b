"""Every function that corosync's installed headers declare is bound, or listed here with a
reason. A function added to the headers (a corosync upgrade) fails this test until someone
decides what to do with it. A bound function is named in the docstring of the Python
attribute that wraps it, so a reader goes from Python to the C documentation in one step."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import corosync

HEADERS = Path("/usr/include/corosync")
SERVICE_HEADERS = [
    "cpg.h",
    "cmap.h",
    "quorum.h",
    "votequorum.h",
    "sam.h",
    "cfg.h",
    "corotypes.h",
]

# C function → the Python attribute (dotted, from the `corosync` package) that wraps it. The
# attribute's own docstring names the function.
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
    "cmap_initialize_map": "CMAP.__init__",
    "cmap_finalize": "CMAP.close",
    "cmap_fd_get": "CMAP.fileno",
    "cmap_dispatch": "CMAP.dispatch",
    "cmap_get": "CMAP.get",
    "cmap_set": "CMAP.set",
    "cmap_delete": "CMAP.delete",
    "cmap_inc": "CMAP.inc",
    "cmap_dec": "CMAP.dec",
    "cmap_iter_init": "CMAP.keys",
    "cmap_iter_next": "CMAP.keys",
    "cmap_iter_finalize": "CMAP.keys",
    "cmap_track_add": "CMAP.track",
    "cmap_track_delete": "CMAP.untrack",
    "quorum_model_initialize": "Quorum.__init__",
    "quorum_finalize": "Quorum.close",
    "quorum_fd_get": "Quorum.fileno",
    "quorum_dispatch": "Quorum.dispatch",
    "quorum_getquorate": "Quorum.quorate",
    "quorum_trackstart": "Quorum.trackstart",
    "quorum_trackstop": "Quorum.trackstop",
    "votequorum_initialize": "Votequorum.__init__",
    "votequorum_finalize": "Votequorum.close",
    "votequorum_fd_get": "Votequorum.fileno",
    "votequorum_dispatch": "Votequorum.dispatch",
    "votequorum_getinfo": "Votequorum.info",
    "votequorum_setexpected": "Votequorum.set_expected",
    "votequorum_setvotes": "Votequorum.set_votes",
    "votequorum_trackstart": "Votequorum.trackstart",
    "votequorum_trackstop": "Votequorum.trackstop",
    "votequorum_qdevice_register": "Votequorum.qdevice_register",
    "votequorum_qdevice_unregister": "Votequorum.qdevice_unregister",
    "votequorum_qdevice_update": "Votequorum.qdevice_update",
    "votequorum_qdevice_poll": "Votequorum.qdevice_poll",
    "votequorum_qdevice_master_wins": "Votequorum.qdevice_master_wins",
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
    "cmap_initialize": "superseded by cmap_initialize_map, which CMAP() calls (the same "
    "connection, to the map chosen by its `map` argument)",
    "cmap_context_get": "not needed: each track's state travels as its own user_data",
    "cmap_context_set": "see cmap_context_get",
    "cmap_set_int8": "the typed setters are CMAP.set with its `type` argument, which also "
    "range-checks the value (cmap_set takes every type)",
    "cmap_set_uint8": "see cmap_set_int8",
    "cmap_set_int16": "see cmap_set_int8",
    "cmap_set_uint16": "see cmap_set_int8",
    "cmap_set_int32": "see cmap_set_int8",
    "cmap_set_uint32": "see cmap_set_int8",
    "cmap_set_int64": "see cmap_set_int8",
    "cmap_set_uint64": "see cmap_set_int8",
    "cmap_set_float": "see cmap_set_int8",
    "cmap_set_double": "see cmap_set_int8",
    "cmap_set_string": "see cmap_set_int8",
    "cmap_get_uint8": "see cmap_get_int8",
    "cmap_get_int16": "see cmap_get_int8",
    "cmap_get_uint16": "see cmap_get_int8",
    "cmap_get_int32": "see cmap_get_int8",
    "cmap_get_uint32": "see cmap_get_int8",
    "cmap_get_int64": "see cmap_get_int8",
    "cmap_get_uint64": "see cmap_get_int8",
    "cmap_get_float": "see cmap_get_int8",
    "cmap_get_double": "see cmap_get_int8",
    "cmap_get_int8": "the typed getters are CMAP.get, which answers every type with its "
    "ValueType (cmap_get reads every type)",
    "cmap_get_string": "see cmap_get_int8",
    "quorum_initialize": "superseded by quorum_model_initialize (model V1), which Quorum() "
    "calls: the same connection plus ring ids and the nodelist callback",
    "quorum_context_get": "used internally to find a connection's state from C callbacks",
    "quorum_context_set": "used internally (the context is passed to quorum_model_initialize)",
    "votequorum_context_get": "used internally to find a connection's state from C callbacks",
    "votequorum_context_set": "used internally, once, when Votequorum() connects",
    "sam_initialize": "sam.initialize",
    "sam_finalize": "sam.finalize",
    "sam_start": "sam.start",
    "sam_stop": "sam.stop",
    "sam_warn_signal_set": "sam.set_warn_signal",
    "sam_register": "sam.register",
    "sam_hc_send": "sam.hc_send",
    "sam_hc_callback_register": "sam.set_hc_callback",
    "sam_data_getsize": "sam.data_size",
    "sam_data_restore": "sam.data_restore",
    "sam_data_store": "sam.data_store",
    "sam_mark_failed": "sam.mark_failed",
    "corosync_cfg_initialize": "CFG.__init__",
    "corosync_cfg_finalize": "CFG.close",
    "corosync_cfg_fd_get": "CFG.fileno",
    "corosync_cfg_dispatch": "CFG.dispatch",
    "corosync_cfg_ring_status_get": "CFG.ring_status",
    "corosync_cfg_node_status_get": "CFG.node_status",
    "corosync_cfg_kill_node": "CFG.kill_node",
    "corosync_cfg_trackstart": "CFG.trackstart",
    "corosync_cfg_trackstop": "CFG.trackstop",
    "corosync_cfg_try_shutdown": "CFG.try_shutdown",
    "corosync_cfg_replyto_shutdown": "CFG.reply_to_shutdown",
    "corosync_cfg_get_node_addrs": "CFG.node_addrs",
    "corosync_cfg_local_get": "CFG.local_nodeid",
    "corosync_cfg_reload_config": "CFG.reload_config",
    "corosync_cfg_reopen_log_files": "CFG.reopen_log_files",
    "cs_strerror": "no Python function of its own: the C++ core calls it for the text of "
    "every CorosyncError's message",
    "qb_to_cs_error": "internal errno conversion of corosync's libraries",
    "hdb_error_to_cs": "internal handle-database error conversion of corosync's libraries",
}

DECLARATION = re.compile(
    r"^(?:extern\s+)?(?:const\s+)?(?:cs_error_t|char|int|void|unsigned\s+int|uint\d+_t)"
    r"[\s*]+(\w+)\s*\(",
    re.MULTILINE,
)


def declared_by(header: str) -> set[str]:
    path = HEADERS / header
    assert path.exists(), f"{path} is missing: install corosync's -dev packages"
    return set(DECLARATION.findall(path.read_text()))


def declared_functions() -> set[str]:
    return set().union(*(declared_by(header) for header in SERVICE_HEADERS))


def resolve(dotted: str) -> tuple[object, object]:
    """The attribute named by `dotted` (from the `corosync` package) as stored where it is
    defined (a property or method descriptor, not its result or a bound method), and the
    object it was found on. Raises AttributeError when it is not there or only inherited
    from a class outside the package."""
    owner: object = corosync
    attribute: object = corosync
    for part in dotted.split("."):
        owner = attribute
        if isinstance(owner, type):
            defined_on = next((c for c in owner.__mro__ if part in vars(c)), None)
            if defined_on is None or not defined_on.__module__.startswith("corosync"):
                raise AttributeError(f"{dotted}: {part} is not defined by the package")
            attribute = inspect.getattr_static(owner, part)
        else:
            attribute = getattr(owner, part)
    return owner, attribute


def own_docstring(attribute: object) -> str:
    """The docstring written for `attribute` itself: a class's own, never one inherited from
    a base class (a function's or property's docstring is always its own)."""
    if isinstance(attribute, type):
        doc = vars(attribute).get("__doc__")
    else:
        doc = getattr(attribute, "__doc__", None)
    return doc if isinstance(doc, str) else ""


def names_as_a_word(text: str, function: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(function)}(?!\w)", text) is not None


def test_headers_parse_to_a_plausible_api() -> None:
    # Guard against a regex that silently matches nothing in one of the headers.
    samples = {
        "cpg.h": "cpg_join",
        "cmap.h": "cmap_get",
        "quorum.h": "quorum_getquorate",
        "votequorum.h": "votequorum_getinfo",
        "sam.h": "sam_register",
        "cfg.h": "corosync_cfg_initialize",
        "corotypes.h": "cs_strerror",
    }
    assert set(samples) == set(SERVICE_HEADERS)
    for header, function in samples.items():
        assert function in declared_by(header), f"{header} parsed without {function}"
    assert len(declared_functions()) > 90


def test_every_declared_function_is_bound_or_has_a_reason() -> None:
    unaccounted = sorted(
        name for name in declared_functions() if name not in BOUND and name not in NOT_BOUND
    )
    assert unaccounted == [], f"neither bound nor listed with a reason: {unaccounted}"


def test_bound_and_not_bound_name_only_declared_functions() -> None:
    declared = declared_functions()
    stale = sorted((set(BOUND) | set(NOT_BOUND)) - declared)
    assert stale == [], f"listed but not declared by the headers: {stale}"


def test_each_function_has_one_status() -> None:
    both = sorted(set(BOUND) & set(NOT_BOUND))
    assert both == [], f"both bound and not bound: {both}"


@pytest.mark.parametrize(("function", "dotted"), sorted(BOUND.items()))
def test_bound_function_is_wrapped_by_an_attribute_whose_docstring_names_it(
    function: str, dotted: str
) -> None:
    owner, attribute = resolve(dotted)
    assert isinstance(attribute, property | type) or callable(attribute), (
        f"{dotted} is a {type(attribute).__name__}, not a function, property or class"
    )
    if isinstance(attribute, type):
        assert attribute.__module__.startswith("corosync"), f"{dotted} is not the package's"
    doc = own_docstring(attribute)
    assert names_as_a_word(doc, function), f"{dotted}'s own docstring does not name {function}"
    # The module or class it was found on does not count: only the wrapper's own text does.
    assert owner is corosync or isinstance(owner, type)


def test_resolve_finds_the_descriptor_on_the_extensions_class() -> None:
    # CPG is corosync._corosync's class, re-exported by the package.
    assert corosync.CPG.__module__ == "corosync._corosync"
    owner, attribute = resolve("CPG.local_nodeid")
    assert owner is corosync.CPG and isinstance(attribute, property)
    with pytest.raises(AttributeError):
        resolve("CPG.no_such_method")
    with pytest.raises(AttributeError):
        resolve("CPG.__reduce_ex__")  # inherited from object: not the package's


def test_a_docstring_names_a_function_only_as_a_whole_word() -> None:
    assert names_as_a_word("Join a group (cpg_join).", "cpg_join")
    assert not names_as_a_word("(cpg_join_x)", "cpg_join")
    assert not names_as_a_word("cpg_iteration_* calls", "cpg_iteration_next")
    assert not names_as_a_word("xcpg_join", "cpg_join")


def test_a_class_docstring_is_its_own_not_an_inherited_one() -> None:
    class Documented:
        """Wraps cs_strerror."""

    class Undocumented(Documented):
        pass

    assert names_as_a_word(own_docstring(Documented), "cs_strerror")
    assert own_docstring(Undocumented) == ""
