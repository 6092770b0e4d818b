"""corosync.CFG against a real three-node cluster whose daemons all stay up: node and link status
against what corosync-cfgtool prints on each node, node addresses, ring status, the errors for
unknown nodes and bad arguments, log files reopened after a rotation, a configuration reloaded
on every node, shutdown requests that trackers refuse (with callbacks, on asyncio's loop and
uvloop) and a closed handle. What takes a daemon down (kill_node, shutdowns that go ahead, a
killed daemon) is in test_cfg_shutdown.py.

corosync 3.1.7's answers (exec/cfg.c, checked here): node_status() of a node knet does not
know is CS_ERR_FAILED_OPERATION, node_addrs() and kill_node() of one CS_ERR_NOT_EXIST;
knet's host ids are 16 bits, so node_status(id + 65536) is node id's status. A REQUEST waits
for every tracker of the node it is asked on (other nodes' trackers, and handles that stopped
tracking, are not asked); one NO, or no answer within cfg.shutdown_timeout, is
CS_ERR_BUSY, and a request while one is pending CS_ERR_EXIST. An answer when no request is
pending is refused with CS_ERR_ACCESS, which libcfg does not pass on. reload_config()
returns once the calling node has reloaded, with that node's result only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import os
import re
import time
from collections.abc import Callable, Iterator

import pytest
from aio_helpers import Run
from cfg_helpers import (
    DEADLINE,
    Asking,
    ShownLink,
    Tracker,
    closing,
    local_nodeid_shown,
    log_marks,
    parse_link_status,
    parse_nodes,
    wait_logged,
)

import corosync
from corosync import CFG, CsError, ShutdownFlags, ShutdownReply, aio
from corosync.cfg import LinkStatus, NodeStatus, RingStatus, ShutdownRequest
from corosync.cmap import CMAP, TypedValue, ValueType
from corosync.testing import Cluster, Node

NODES = (1, 2, 3)
UINT32_MAX = 2**32 - 1
#: Node 2 is the one asked to shut down in these tests (it says no).
ASKED = 2


@pytest.fixture
def open_cfg(corosync_cluster: Cluster) -> Iterator[Callable[[int], CFG]]:
    """Opens a CFG handle on a node of the shared cluster; closes them all after the test."""
    yield from closing(lambda nodeid: corosync_cluster.node(nodeid).connect(CFG))


@pytest.fixture
def trackers(corosync_cluster: Cluster) -> Iterator[Callable[..., Tracker]]:
    """Starts shutdown trackers (cfg_helpers.Tracker) on nodes; closes them after the test."""
    yield from closing(lambda nodeid, *answer: Tracker(corosync_cluster.node(nodeid), *answer))


@pytest.fixture
def asking(corosync_cluster: Cluster) -> Iterator[Callable[..., Asking]]:
    """Asks nodes to shut down, each from a thread (cfg_helpers.Asking); closes them after."""
    yield from closing(lambda nodeid, *flags: Asking(corosync_cluster.node(nodeid), *flags))


def cfgtool(node: Node, *args: str) -> str:
    return node.run(["corosync-cfgtool", *args], check=True).stdout


def steady_view(cfg: CFG, node: Node, *args: str) -> tuple[dict[int, NodeStatus], str]:
    """node_status() of every node and what ``corosync-cfgtool *args`` prints, taken while
    knet's view did not change (path MTU discovery raises the MTUs for a while after the
    cluster formed)."""

    def view() -> tuple[dict[int, NodeStatus], str] | None:
        before = {other: cfg.node_status(other) for other in NODES}
        output = cfgtool(node, *args)
        after = {other: cfg.node_status(other) for other in NODES}
        return (after, output) if before == after else None

    taken = node.cluster.wait_for(view, DEADLINE, f"a steady view of node {node.nodeid}")
    assert taken is not None
    return taken


def shown(link: LinkStatus) -> ShownLink:
    """A LinkStatus as corosync-cfgtool -n prints it."""
    flags = [name for name in ("enabled", "connected", "dynconnected") if getattr(link, name)]
    return ShownLink(link.link, link.src, link.dst, frozenset(flags), link.mtu)


# --- status ------------------------------------------------------------------------------


@pytest.mark.parametrize("nodeid", NODES)
def test_node_status_of_the_other_nodes_is_what_corosync_cfgtool_n_prints(
    corosync_cluster: Cluster, open_cfg: Callable[[int], CFG], nodeid: int
) -> None:
    node = corosync_cluster.node(nodeid)
    cfg = open_cfg(nodeid)
    statuses, output = steady_view(cfg, node, "-n")
    assert cfg.local_nodeid == nodeid == local_nodeid_shown(output)
    nodes = parse_nodes(output)
    others = [other for other in NODES if other != nodeid]
    assert sorted(nodes) == others  # -n shows the reachable nodes but this one
    for other in others:
        status = statuses[other]
        assert status.nodeid == other and status.reachable
        assert (status.remote, status.external) == (False, False)
        assert nodes[other].flags == {"reachable"}
        assert nodes[other].links == {link.link: shown(link) for link in status.links}
        [link] = status.links
        address = corosync_cluster.node(other).address
        assert (link.link, link.src, link.dst) == (0, node.address, address)
        assert (link.enabled, link.connected, link.dynconnected) == (True, True, False)
        assert link.mtu > 0


@pytest.mark.parametrize("nodeid", NODES)
def test_node_status_of_every_node_is_what_corosync_cfgtool_s_prints(
    corosync_cluster: Cluster, open_cfg: Callable[[int], CFG], nodeid: int
) -> None:
    node = corosync_cluster.node(nodeid)
    cfg = open_cfg(nodeid)
    statuses, output = steady_view(cfg, node, "-s")
    assert local_nodeid_shown(output) == nodeid
    [shown_link] = parse_link_status(output).values()
    assert shown_link.link == 0 and shown_link.addr == node.address
    states = {
        other: "connected" if statuses[other].links[0].connected else "disconnected"
        for other in NODES
    }
    states[nodeid] = "localhost"
    assert shown_link.states == states
    assert sorted(states.values()) == ["connected", "connected", "localhost"]


def test_a_node_sees_itself_reachable_over_a_link_to_itself(
    corosync_cluster: Cluster, open_cfg: Callable[[int], CFG]
) -> None:
    for nodeid in NODES:
        address = corosync_cluster.node(nodeid).address
        status = open_cfg(nodeid).node_status(nodeid)
        assert (status.nodeid, status.reachable, status.remote, status.external) == (
            nodeid,
            True,
            False,
            False,
        )
        [link] = status.links
        assert link == LinkStatus(0, True, True, False, link.mtu, address, address)


def test_status_fields_are_typed_and_frozen(open_cfg: Callable[[int], CFG]) -> None:
    cfg = open_cfg(1)
    status = cfg.node_status(2)
    assert type(status) is NodeStatus and type(status.links) is list
    assert [type(getattr(status, name)) for name in ("nodeid", "reachable", "remote")] == [
        int,
        bool,
        bool,
    ]
    assert {type(getattr(status, f"onwire_{name}")) for name in ("min", "max", "ver")} == {int}
    assert type(status.external) is bool
    [link] = status.links
    assert type(link) is LinkStatus
    types = {field.name: type(getattr(link, field.name)) for field in dataclasses.fields(link)}
    assert types == {
        "link": int,
        "enabled": bool,
        "connected": bool,
        "dynconnected": bool,
        "mtu": int,
        "src": str,
        "dst": str,
    }
    [ring] = cfg.ring_status()
    for thing, name in [(status, "reachable"), (link, "connected"), (ring, "status")]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(thing, name, None)


def test_node_status_of_an_id_65536_above_a_node_is_that_nodes_status(
    corosync_cluster: Cluster, open_cfg: Callable[[int], CFG]
) -> None:
    # corosync passes the id to knet, whose host ids are 16 bits; the status names the id asked.
    cfg = open_cfg(1)

    def alias_and_status() -> tuple[NodeStatus, NodeStatus] | None:
        before, alias, after = cfg.node_status(2), cfg.node_status(65536 + 2), cfg.node_status(2)
        return (alias, after) if before == after else None  # else the MTU changed meanwhile

    taken = corosync_cluster.wait_for(alias_and_status, DEADLINE, "a steady status of node 2")
    assert taken is not None
    alias, status = taken
    assert alias == dataclasses.replace(status, nodeid=65536 + 2)


# --- addresses and rings ---------------------------------------------------------------


def test_node_addrs_are_the_configured_addresses_as_corosync_cfgtool_a_prints(
    corosync_cluster: Cluster, open_cfg: Callable[[int], CFG]
) -> None:
    for nodeid in NODES:
        node, cfg = corosync_cluster.node(nodeid), open_cfg(nodeid)
        own = [ipaddress.IPv4Address(node.address)]
        assert cfg.node_addrs() == cfg.node_addrs(0) == cfg.node_addrs(nodeid) == own
        assert type(cfg.node_addrs()[0]) is ipaddress.IPv4Address
        for other in NODES:
            addrs = cfg.node_addrs(other)
            assert addrs == [ipaddress.IPv4Address(corosync_cluster.node(other).address)]
            assert cfgtool(node, "-a", str(other)).split() == [str(a) for a in addrs]


def test_ring_status_names_the_link_and_this_nodes_address_as_corosync_cfgtool_s_b(
    corosync_cluster: Cluster, open_cfg: Callable[[int], CFG]
) -> None:
    for nodeid in NODES:
        node = corosync_cluster.node(nodeid)
        brief = re.findall(r"^\tstatus\t= (\S+)$", cfgtool(node, "-s", "-b"), re.MULTILINE)
        # One character per node: "n" for this one, 3 for a link enabled (1) and connected (2).
        expected = "".join("n" if other == nodeid else "3" for other in NODES)
        assert brief == [expected]
        assert open_cfg(nodeid).ring_status() == [RingStatus(f"0 {node.address}", expected)]


# --- unknown nodes and bad arguments ----------------------------------------------------


@pytest.mark.parametrize("nodeid", [4, 99, UINT32_MAX])
def test_a_node_corosync_does_not_know_is_an_error_naming_it(
    open_cfg: Callable[[int], CFG], nodeid: int
) -> None:
    cfg = open_cfg(1)
    with pytest.raises(corosync.FailedOperationError) as status:
        cfg.node_status(nodeid)
    assert (status.value.code, status.value.function) == (
        CsError.FAILED_OPERATION,
        "corosync_cfg_node_status_get",
    )
    assert f"node {nodeid}" in str(status.value)
    with pytest.raises(corosync.NotExistError) as addrs:
        cfg.node_addrs(nodeid)
    assert (addrs.value.code, addrs.value.function) == (
        CsError.NOT_EXIST,
        "corosync_cfg_get_node_addrs",
    )
    assert f"node {nodeid}" in str(addrs.value) and isinstance(addrs.value, KeyError)
    with pytest.raises(corosync.NotExistError) as kill:
        cfg.kill_node(nodeid, "no such node")
    assert kill.value.function == "corosync_cfg_kill_node"


def test_node_ids_out_of_range_or_not_int_are_refused(open_cfg: Callable[[int], CFG]) -> None:
    cfg = open_cfg(1)
    calls: dict[str, Callable[[object], object]] = {
        "node_status": lambda nodeid: cfg.node_status(nodeid),  # type: ignore[arg-type]
        "node_addrs": lambda nodeid: cfg.node_addrs(nodeid),  # type: ignore[arg-type]
        "kill_node": lambda nodeid: cfg.kill_node(nodeid, "bad id"),  # type: ignore[arg-type]
    }
    for name, call in calls.items():
        for nodeid in (-1, 2**32):
            with pytest.raises(OverflowError) as info:
                call(nodeid)
            assert str(info.value) == f"nodeid must be 0 to {UINT32_MAX}, not {nodeid}"
        for wrong in ("1", 1.0, None):
            with pytest.raises(TypeError) as wrong_type:
                call(wrong)
            message = f"{name}() argument 'nodeid' must be int, not {type(wrong).__name__}"
            assert str(wrong_type.value) == message
        with pytest.raises(TypeError):
            call(True)


def test_kill_node_refuses_a_bad_reason_before_asking_corosync(
    open_cfg: Callable[[int], CFG],
) -> None:
    # Node 99 does not exist: a reason that got through would come back as NotExistError.
    cfg = open_cfg(1)
    too_long = {"x" * 256: 256, "é" * 128: 256, "é" * 127 + "xx": 256}
    for reason, size in too_long.items():
        with pytest.raises(corosync.NameTooLongError) as info:
            cfg.kill_node(99, reason)
        assert (info.value.code, info.value.function) == (
            CsError.NAME_TOO_LONG,
            "corosync_cfg_kill_node",
        )
        assert f"{size} bytes, at most 255" in str(info.value)
    with pytest.raises(corosync.InvalidParamError) as nul:
        cfg.kill_node(99, "a\0b")
    assert nul.value.code == CsError.INVALID_PARAM and isinstance(nul.value, ValueError)
    for wrong in (b"reason", None, 5):
        with pytest.raises(TypeError) as wrong_type:
            cfg.kill_node(99, wrong)  # type: ignore[arg-type]
        assert str(wrong_type.value).startswith("kill_node() argument 'reason' must be str")
    with pytest.raises(UnicodeEncodeError):
        cfg.kill_node(99, "\udc80")
    for fits in ("é" * 127 + "x", "x" * 255, ""):
        with pytest.raises(corosync.NotExistError):
            cfg.kill_node(99, fits)


# --- logs and configuration --------------------------------------------------------------


def test_reopen_log_files_makes_corosync_write_a_new_log_file(
    corosync_cluster: Cluster, open_cfg: Callable[[int], CFG]
) -> None:
    node = corosync_cluster.node(1)
    rotated = node.log_path + ".1"
    os.rename(node.log_path, rotated)
    cfg = open_cfg(1)
    cfg.reopen_log_files()
    assert os.path.exists(node.log_path)
    # Reloading logs a notice at the harness's log level (reopening only a debug line). A
    # reload also rebuilds corosync's log filters, which its log thread applies when it
    # writes: a line logged just before may be dropped. So reload again until one shows.
    last_reload = 0.0

    def logged() -> bool:
        nonlocal last_reload
        if time.monotonic() - last_reload >= 1.0:
            cfg.reload_config()
            last_reload = time.monotonic()
        with open(node.log_path, encoding="utf-8", errors="replace") as f:
            return "Config reload requested by node 1" in f.read()

    corosync_cluster.wait_for(logged, DEADLINE, "a reload's notice in the reopened log")
    with open(rotated, encoding="utf-8") as f:
        assert "Config reload requested" not in f.read()


@pytest.fixture
def configs(corosync_cluster: Cluster) -> Iterator[dict[int, str]]:
    """Every node's corosync.conf text, written back and reloaded after the test."""
    original = {}
    for nodeid in NODES:
        with open(corosync_cluster.node(nodeid).conf_path, encoding="utf-8") as f:
            original[nodeid] = f.read()
    yield dict(original)
    for nodeid, text in original.items():
        write_config(corosync_cluster.node(nodeid), text)
    with corosync_cluster.node(1).connect(CFG) as cfg:
        cfg.reload_config()
    for nodeid in NODES:
        wait_token(corosync_cluster.node(nodeid), corosync_cluster.token_ms)


def write_config(node: Node, text: str) -> None:
    with open(node.conf_path, "w", encoding="utf-8") as f:
        f.write(text)


def cmap_value(node: Node, key: str) -> TypedValue:
    with node.connect(CMAP) as cmap:
        return cmap.get(key)


def wait_token(node: Node, token_ms: int) -> None:
    node.cluster.wait_for(
        lambda: cmap_value(node, "totem.token").value == token_ms,
        what=f"totem.token {token_ms} on node {node.nodeid}",
    )


def test_reload_config_applies_a_new_token_on_every_node(
    corosync_cluster: Cluster, configs: dict[int, str], open_cfg: Callable[[int], CFG]
) -> None:
    old, new = f"token: {corosync_cluster.token_ms}", "token: 1300"
    for nodeid, text in configs.items():
        assert old in text
        write_config(corosync_cluster.node(nodeid), text.replace(old, new))
    open_cfg(1).reload_config()
    node = corosync_cluster.node(1)
    # corosync answers once the calling node has reloaded: it has the new value at once.
    assert cmap_value(node, "totem.token") == TypedValue(ValueType.UINT32, 1300)
    assert cmap_value(node, "runtime.config.totem.token") == TypedValue(ValueType.UINT32, 1300)
    assert cmap_value(node, "config.reload_status") == TypedValue(ValueType.INT32, CsError.OK)
    for nodeid in (2, 3):
        wait_token(corosync_cluster.node(nodeid), 1300)
        assert cmap_value(corosync_cluster.node(nodeid), "runtime.config.totem.token").value == 1300


def test_reload_config_raises_only_for_the_calling_nodes_own_broken_config(
    corosync_cluster: Cluster, configs: dict[int, str], open_cfg: Callable[[int], CFG]
) -> None:
    broken = corosync_cluster.node(2)
    write_config(broken, configs[2].replace("totem {", "totem {{", 1))
    since = log_marks([broken])[2]
    open_cfg(1).reload_config()  # node 1 reloaded its own file; node 2 failed on its own
    wait_logged(broken, "Unable to reload config file: parser error", since)
    with pytest.raises(corosync.InvalidParamError) as info:
        open_cfg(2).reload_config()
    assert (info.value.code, info.value.function) == (
        CsError.INVALID_PARAM,
        "corosync_cfg_reload_config",
    )
    assert cmap_value(broken, "totem.token").value == corosync_cluster.token_ms


# --- shutdown requests refused ------------------------------------------------------------


def test_a_tracker_answering_no_makes_try_shutdown_raise_busy_error(
    corosync_cluster: Cluster,
    trackers: Callable[..., Tracker],
    asking: Callable[..., Asking],
) -> None:
    tracker = trackers(ASKED, ShutdownReply.NO)
    ask = asking(ASKED)
    assert tracker.wait_asked() == [ShutdownFlags.REQUEST]
    with pytest.raises(corosync.BusyError) as info:
        ask.result()
    assert (info.value.code, info.value.function) == (CsError.BUSY, "corosync_cfg_try_shutdown")
    node = corosync_cluster.node(ASKED)
    assert node.alive and node.members() == frozenset(NODES)
    assert tracker.settle() == [ShutdownFlags.REQUEST]


def test_a_second_request_while_one_is_pending_raises_exist_error(
    trackers: Callable[..., Tracker], asking: Callable[..., Asking]
) -> None:
    tracker = trackers(ASKED)  # answers after its callback returned
    first = asking(ASKED)
    tracker.wait_asked()
    second = asking(ASKED)
    with pytest.raises(corosync.ExistError) as info:
        second.result()
    assert info.value.code == CsError.EXIST
    tracker.cfg.reply_to_shutdown(ShutdownReply.NO)
    with pytest.raises(corosync.BusyError):
        first.result()
    assert tracker.settle() == [ShutdownFlags.REQUEST]


@pytest.fixture
def short_shutdown_timeout(corosync_cluster: Cluster) -> Iterator[int]:
    """cfg.shutdown_timeout (ms; corosync reads it at each request) lowered on the asked node."""
    with corosync_cluster.node(ASKED).connect(CMAP) as cmap:
        cmap.set("cfg.shutdown_timeout", 300, ValueType.UINT32)
        yield 300
        cmap.delete("cfg.shutdown_timeout")


def test_a_tracker_that_never_answers_makes_try_shutdown_raise_busy_error_after_the_timeout(
    short_shutdown_timeout: int,
    trackers: Callable[..., Tracker],
    asking: Callable[..., Asking],
) -> None:
    tracker = trackers(ASKED)
    ask = asking(ASKED)
    tracker.wait_asked()
    with pytest.raises(corosync.BusyError):
        ask.result()
    # corosync then sends a timeout notice, but only to trackers that once asked themselves.
    assert tracker.settle() == [ShutdownFlags.REQUEST]
    # Too late: corosync refuses the answer (CS_ERR_ACCESS), which libcfg does not pass on.
    tracker.cfg.reply_to_shutdown(ShutdownReply.YES)
    tracker.answer = ShutdownReply.NO
    again = asking(ASKED)
    assert tracker.wait_asked(2) == [ShutdownFlags.REQUEST] * 2
    with pytest.raises(corosync.BusyError):
        again.result()


def test_only_the_asked_nodes_trackers_that_still_track_are_asked(
    trackers: Callable[..., Tracker], asking: Callable[..., Asking]
) -> None:
    stopped = trackers(ASKED)
    stopped.cfg.trackstop()
    elsewhere = trackers(1)
    refusing = trackers(ASKED, ShutdownReply.NO)
    ask = asking(ASKED)
    assert refusing.wait_asked() == [ShutdownFlags.REQUEST]
    with pytest.raises(corosync.BusyError):
        ask.result()
    assert stopped.settle() == [] and elsewhere.settle() == []


def test_aio_events_yield_a_shutdown_request_answered_in_the_loop(
    run: Run, open_cfg: Callable[[int], CFG]
) -> None:
    tracker, requester = open_cfg(ASKED), open_cfg(ASKED)

    async def main() -> tuple[ShutdownRequest, BaseException | None]:
        async with aio.events(tracker) as stream:
            tracker.trackstart()
            # try_shutdown waits for the answer: in a thread, so that the loop serves the stream.
            asked = asyncio.ensure_future(asyncio.to_thread(requester.try_shutdown))
            request = await anext(stream)
            tracker.reply_to_shutdown(ShutdownReply.NO)
            try:
                await asked
            except corosync.BusyError as e:
                return request, e
            return request, None

    request, error = run(main())
    assert request == ShutdownRequest(flags=ShutdownFlags.REQUEST)
    assert type(request.flags) is ShutdownFlags
    assert isinstance(error, corosync.BusyError)


# --- a closed handle ------------------------------------------------------------------------


def test_a_closed_handle_raises_closed_error_for_every_method(corosync_cluster: Cluster) -> None:
    with corosync_cluster.node(1).entered(), CFG(on_shutdown=print) as cfg:
        fd = cfg.fileno()
        assert (repr(cfg), cfg.closed, cfg.retry_timeout) == ("<corosync.CFG>", False, 3.0)
        assert cfg.local_nodeid == 1 and cfg.fileno() == fd
    assert cfg.closed and repr(cfg) == "<corosync.CFG closed>"
    cfg.close()
    assert cfg.on_shutdown is None
    calls: dict[str, Callable[[], object]] = {
        "local_nodeid": lambda: cfg.local_nodeid,
        "node_status": lambda: cfg.node_status(1),
        "node_addrs": lambda: cfg.node_addrs(),
        "ring_status": lambda: cfg.ring_status(),
        "reload_config": lambda: cfg.reload_config(),
        "reopen_log_files": lambda: cfg.reopen_log_files(),
        "kill_node": lambda: cfg.kill_node(99, "closed"),
        "trackstart": lambda: cfg.trackstart(),
        "trackstop": lambda: cfg.trackstop(),
        "try_shutdown": lambda: cfg.try_shutdown(),
        "reply_to_shutdown": lambda: cfg.reply_to_shutdown(),
        "dispatch": lambda: cfg.dispatch(),
        "fileno": lambda: cfg.fileno(),
        "enter": lambda: cfg.__enter__(),
        "on_shutdown": lambda: setattr(cfg, "on_shutdown", print),
    }
    for name, call in calls.items():
        with pytest.raises(corosync.ClosedError) as info:
            call()
        assert info.value.code == CsError.BAD_HANDLE, name
