"""The C++ core as a package of its own: `cmake --install` puts the library, its headers
(under include/corosync_cxx, free of Python) and a CMake package in a prefix; a C++ program
(examples/cpp/cluster_tool) and a separately compiled pybind11 extension
(examples/cpp/cpg_sender) build against it with find_package, and run against real daemons.
The extension sends through a corosync.CPG created in Python, using the one copy of the core
the process has, and dispatches it without the GIL."""

from __future__ import annotations

import ctypes
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cpp_build import CoreBuild, run

import corosync
import corosync._corosync
from corosync.testing import Node, python_env


def installed_headers(core: CoreBuild) -> list[Path]:
    return sorted((core.include / "corosync_cxx").glob("*.hpp"))


def test_the_package_installs_its_library_headers_and_cmake_files(cpp_core: CoreBuild) -> None:
    lib = cpp_core.prefix / "lib"
    assert (lib / "libcorosync_cxx.so.0.1").is_symlink()  # the soname: 0.MINOR before 1.0
    package = lib / "cmake" / "corosync_cxx"
    for name in ("corosync_cxxConfig.cmake", "corosync_cxxConfigVersion.cmake"):
        assert (package / name).is_file()
    names = {h.name for h in installed_headers(cpp_core)}
    assert {"cpg.hpp", "cmap.hpp", "quorum.hpp", "votequorum.hpp", "sam.hpp", "cfg.hpp"} <= names
    assert "version.hpp" in names
    assert not (cpp_core.include / "corosync").exists()  # nothing among corosync's own headers


def test_no_installed_header_mentions_python(cpp_core: CoreBuild) -> None:
    for header in installed_headers(cpp_core):
        text = header.read_text()
        assert "pybind11" not in text and "Python.h" not in text, header


# Every header the package installs (a test checks the list is complete).
HEADERS = [
    "cfg.hpp", "cmap.hpp", "cpg.hpp", "cpg_connections.hpp", "cpg_parked.hpp", "error.hpp",
    "handle.hpp", "netns.hpp", "quorum.hpp", "retry.hpp", "ring_id.hpp", "sam.hpp",
    "service_handle.hpp", "version.hpp", "votequorum.hpp",
]  # fmt: skip


@pytest.mark.parametrize("header", HEADERS)
def test_each_installed_header_compiles_alone_without_warnings(
    cpp_core: CoreBuild, header: str, tmp_path: Path
) -> None:
    unit = tmp_path / "unit.cpp"
    unit.write_text(f"#include <corosync_cxx/{header}>\n")
    # Only the prefix (and the system's corosync headers): no Python include path.
    run(["g++", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
         f"-I{cpp_core.include}", unit])  # fmt: skip


def test_every_installed_header_is_checked(cpp_core: CoreBuild) -> None:
    assert HEADERS == [h.name for h in installed_headers(cpp_core)]


def test_a_cpp_program_built_against_the_package_uses_cpg_and_cmap(
    cpp_core: CoreBuild, corosync_node: Node, tmp_path: Path
) -> None:
    build = cpp_core.build_example("cluster_tool", tmp_path / "tool")
    result = corosync_node.run([str(build / "cluster_tool"), "cxx-tool", "hello from C++"])
    cluster = corosync_node.cluster.name
    assert result.stdout.splitlines() == [
        f"node 1 of cluster {cluster}",
        "joined cxx-tool with 1 member(s)",
        "delivered from node 1: hello from C++",
    ]
    linked = run(["ldd", build / "cluster_tool"])
    assert str(cpp_core.prefix / "lib" / "libcorosync_cxx.so.0.1") in linked


# Runs in the node's namespace: a CPG made in Python, a message sent by the C++ extension
# through it, received by Python on the same handle.
SENDER_PROGRAM = textwrap.dedent(
    """
    import select
    import corosync, cpg_sender
    got = []
    cpg = corosync.CPG(on_deliver=lambda group, nodeid, pid, message: got.append(message))
    cpg.join("cxx-interop")
    cpg_sender.send(cpg, "sent by C++")
    while not got:
        cpg.dispatch(corosync.DispatchFlags.ONE)
    print("received", got[0].decode())
    # Dispatched by C++ without the GIL: the Python callback takes it back itself.
    cpg_sender.send(cpg, "dispatched by C++")
    while len(got) < 2:
        select.select([cpg.fileno()], [], [], 10)
        assert cpg_sender.dispatch_pending(cpg)
    print("received", got[1].decode())
    print("nodeid", cpg_sender.local_nodeid(cpg))
    print("tags", cpg_sender.header_abi_tag == cpg_sender.library_abi_tag)
    maps = open("/proc/self/maps").read().splitlines()
    copies = {line.split()[-1] for line in maps if "libcorosync_cxx" in line}
    print("copies", len(copies))
    cpg.close()
    try:
        cpg_sender.send(cpg, "after close")
    except Exception as e:
        print("closed", type(e).__name__)
    """
)


def test_a_separately_built_extension_sends_through_a_cpg_made_in_python(
    cpp_core: CoreBuild, corosync_node: Node, tmp_path: Path
) -> None:
    pybind11_dir = run([sys.executable, "-m", "pybind11", "--cmakedir"]).strip()
    build = cpp_core.build_example("cpg_sender", tmp_path / "sender", pybind11_dir)
    env = python_env()
    env["PYTHONPATH"] = f"{build}:{env['PYTHONPATH']}"
    program = corosync_node.popen(
        [sys.executable, "-c", SENDER_PROGRAM],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    stdout, stderr = program.communicate(timeout=60)
    assert program.returncode == 0, stdout + stderr
    assert stdout.splitlines() == [
        "received sent by C++",
        "received dispatched by C++",
        "nodeid 1",
        "tags True",
        "copies 1",  # the package's and the prefix's library share a soname: loaded once
        "closed ClosedError",
    ]


def capsule_pointer(capsule: object, name: bytes) -> int:
    """PyCapsule_GetPointer, as another extension module calls it."""
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return int(get(capsule, name) or 0)


def test_a_module_built_with_other_headers_is_refused_the_object(corosync_node: Node) -> None:
    with corosync_node.connect(corosync.CPG) as cpg:
        capsule = cpg.cxx_handle()
        assert (
            capsule_pointer(capsule, b"corosync_cxx.Cpg " + corosync._corosync.CXX_ABI_TAG.encode())
            != 0
        )
        with pytest.raises(ValueError, match="incorrect name"):
            capsule_pointer(capsule, b"corosync_cxx.Cpg corosync_cxx 9.9 cxx11abi 1")


def test_every_handle_type_offers_its_cpp_object(corosync_node: Node) -> None:
    handles = {
        "Cpg": corosync.CPG,
        "Cmap": corosync.CMAP,
        "Quorum": corosync.Quorum,
        "Votequorum": corosync.Votequorum,
        "Cfg": corosync.CFG,
    }
    for type_name, factory in handles.items():
        with corosync_node.connect(factory) as handle:
            capsule = handle.cxx_handle()
            assert f'capsule object "corosync_cxx.{type_name} corosync_cxx 0.1 ' in repr(capsule)
            del capsule
        with pytest.raises(corosync.ClosedError):
            handle.cxx_handle()
