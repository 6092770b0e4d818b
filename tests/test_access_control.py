"""Access control (issue 24, item 7): a process whose user corosync's uidgid configuration
does not admit gets AccessError (a PermissionError) from every service, with a message that
says how access is granted; once admitted (by uid or gid at run time through CMAP, or by a
``uidgid`` section in corosync.conf and a reload), the same process works.

The process is a forked child that enters the node's network namespace as root, then drops
to the user and group under test and opens a handle; it reports through a pipe."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

import corosync
from corosync import AccessError, ValueType
from corosync.testing import Cluster, netns

UID, GID = 12_345, 23_456
NOBODY = 65_534  # Debian's nobody and nogroup

SERVICES: list[Callable[[], object]] = [
    corosync.CPG,
    corosync.CMAP,
    corosync.Quorum,
    corosync.Votequorum,
    corosync.CFG,
]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster(1) as c:
        yield c


def connect_as(cluster: Cluster, uid: int, gid: int, service: Callable[[], object]) -> str:
    """Open `service` on node 1 from a child running as uid/gid: "ok", or the exception's
    class and message."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        report = "child failed before connecting"
        try:
            os.close(read_end)
            with open(f"/run/netns/{cluster.node(1).netns}") as ns:
                netns.setns(ns.fileno())
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            try:
                handle = service()
                handle.close()  # type: ignore[attr-defined]
                report = "ok"
            except Exception as e:
                report = f"{type(e).__name__}|{isinstance(e, PermissionError)}|{e}"
            os.write(write_end, report.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        data = b""
        while chunk := os.read(read_end, 65536):
            data += chunk
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    return data.decode()


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: getattr(s, "__name__", "?"))
def test_a_user_not_admitted_gets_access_error_saying_how_to_grant_it(
    cluster: Cluster, service: Callable[[], object]
) -> None:
    kind, is_permission_error, message = connect_as(cluster, UID, GID, service).split("|", 2)
    assert kind == "AccessError" and is_permission_error == "True", message
    assert "access denied (CS_ERR_ACCESS)" in message
    assert f"runs as uid {UID}, gid {GID}" in message
    assert "uidgid { uid: USER }" in message and "uidgid.uid.<uid>" in message


def test_access_error_is_a_permission_error() -> None:
    assert issubclass(AccessError, PermissionError)


@pytest.mark.parametrize("by", ["uid", "gid"])
def test_admitting_the_uid_or_gid_at_run_time_lets_it_in(cluster: Cluster, by: str) -> None:
    key = f"uidgid.{by}.{UID if by == 'uid' else GID}"
    with cluster.node(1).connect(corosync.CMAP) as cmap:
        cmap.set(key, 1, ValueType.UINT8)
        try:
            assert [connect_as(cluster, UID, GID, s) for s in SERVICES] == ["ok"] * 5
        finally:
            cmap.delete(key)
    assert connect_as(cluster, UID, GID, corosync.CPG).startswith("AccessError|")


def test_a_uidgid_section_and_a_reload_let_the_user_in(cluster: Cluster) -> None:
    assert connect_as(cluster, NOBODY, NOBODY, corosync.CPG).startswith("AccessError|")
    cluster.reconfigure(lambda text: text + "uidgid {\n    uid: nobody\n}\n")
    assert connect_as(cluster, NOBODY, NOBODY, corosync.CPG) == "ok"
    # Another user is still refused.
    assert connect_as(cluster, UID, GID, corosync.CPG).startswith("AccessError|")
