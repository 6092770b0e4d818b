"""Random argument lists thrown at every public method, constructor and callback setter of every
service, and at corosync.sam's functions (issue 24, item 4), on this module's own one-node
cluster: the only exceptions are the documented ones (TypeError, ValueError, OverflowError
and corosync's errors), never another exception, a crash or a hang.

What is called comes from the runtime classes (every public name, the constructor, the
container protocol) with the parameter names of the stubs (_corosync.pyi), so that a new
method is covered as soon as it exists. Each example gets handles of its own. The values:
ints of every size, floats (NaN and infinities), str (lone surrogates and NUL too), bytes,
None, bools, lists and tuples of those, and objects (plain, callable, enum members, a RingId).

What is left out, and why:

- argument lists that would do real harm when they are right: ``CFG.try_shutdown`` with
  flags 0 to 2 or none (with no tracking client to refuse, corosync shuts the node down),
  ``CFG.kill_node`` of node 0 or 1 (this node), ``CFG.reload_config`` with no arguments
  (every node rereads corosync.conf); their wrong argument lists still run;
- ``dispatch`` with ONE or BLOCKING (1, 3): they wait for an event, as documented;
- ``sam.register`` (forks), ``sam.initialize`` and ``sam.finalize`` (they change SAM's
  state for the rest of this process, which must stay NOT_INITIALIZED: test_sam_calls.py).
  The other SAM functions must leave that state as it was.
"""

from __future__ import annotations

import ast
import enum
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import corosync
from corosync import DispatchFlags, RingId, sam
from corosync.cfg import ShutdownFlags
from corosync.testing import Node

SERVICES: tuple[type, ...] = (corosync.CPG, corosync.CMAP, corosync.Quorum, corosync.Votequorum,
                              corosync.CFG)  # fmt: skip
STUBS = Path(corosync.__file__).with_name("_corosync.pyi")
#: The container protocol and the context manager: public through syntax.
PROTOCOL = {"__init__", "__enter__", "__exit__", "__getitem__", "__setitem__", "__delitem__",
            "__contains__", "__len__", "__iter__"}  # fmt: skip
#: Never called: they change this process's SAM state for good, or fork it.
SAM_LEFT_OUT = {"register", "initialize", "finalize"}

DOCUMENTED = (TypeError, ValueError, OverflowError, corosync.CorosyncError)


@dataclass(frozen=True)
class Target:
    """Something callable with random arguments: `owner.name`, whose stub names `params`."""

    owner: type | None  # None: a corosync.sam function
    name: str
    params: tuple[str, ...]
    setter: bool = False

    def __str__(self) -> str:
        owner = self.owner.__name__ if self.owner else "sam"
        return f"{owner}.{self.name}{'=' if self.setter else ''}"


def _stub_parameters() -> dict[tuple[str, str], tuple[str, ...]]:
    """(class or "", function) → the names of its parameters, from the stubs."""
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    tree = ast.parse(STUBS.read_text())

    def names(function: ast.FunctionDef) -> tuple[str, ...]:
        a = function.args
        every = [*a.posonlyargs, *a.args, *([a.vararg] if a.vararg else []), *a.kwonlyargs]
        return tuple(p.arg for p in every if p.arg != "self")

    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found["", node.name] = names(node)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    found.setdefault((node.name, item.name), names(item))
    return found


def targets() -> list[Target]:
    stubs = _stub_parameters()
    found: list[Target] = []
    for cls in SERVICES:
        for name in sorted(dir(cls)):
            if name.startswith("_") and name not in PROTOCOL:
                continue
            attribute = inspect.getattr_static(cls, name)
            if isinstance(attribute, property):
                if attribute.fset is not None:
                    found.append(Target(cls, name, ("value",), setter=True))
                continue
            assert (cls.__name__, name) in stubs, f"{cls.__name__}.{name} has no stub"
            found.append(Target(cls, name, stubs[cls.__name__, name]))
    for name in sam.__all__:
        function = getattr(sam, name)
        if isinstance(function, type) or name in SAM_LEFT_OUT:
            continue
        found.append(Target(None, name, stubs["", function.__name__]))
    return found


TARGETS = targets()

#: Values that get past the first checks, so that the calls go deeper.
PLAUSIBLE = [0, 1, 2, 99, -1, 2**32 - 1, 2**32, 2**64 - 1, 2**64, "g", "test.prop.key", "é" * 70,
             "x" * 300, "a\0b", "", b"x", b"\xff" * 3, RingId(1, 1), DispatchFlags.ALL, 1.5,
             True]  # fmt: skip


class AnyCallback:
    """A callable that takes anything (a callback)."""

    def __call__(self, *args: object) -> None:
        pass


SCALARS = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(PLAUSIBLE),
    st.floats(),
    st.text(st.characters(exclude_categories=()), max_size=300),  # lone surrogates too
    st.binary(max_size=300),
    st.none(),
    st.booleans(),
    st.sampled_from([object(), AnyCallback(), print, ShutdownFlags.REQUEST, enum.Enum]),
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner), max_leaves=4
)


def harmful(target: Target, args: list[Any], kwargs: dict[str, Any]) -> bool:
    """Whether the argument lists left out (the module docstring) could be these."""

    def given(position: int, name: str) -> list[Any]:
        value = [args[position]] if len(args) > position else []
        return value + ([kwargs[name]] if name in kwargs else [])

    def any_of(values: list[Any], harmful: tuple[int, ...]) -> bool:
        return any(any(_equal(v, h) for h in harmful) for v in values)

    name = f"{target}"
    if name == "CFG.try_shutdown":
        flags = given(0, "flags")
        return not flags or any_of(flags, (0, 1, 2))
    if name == "CFG.kill_node":
        return any_of(given(0, "nodeid"), (0, 1))
    if name == "CFG.reload_config":
        return not args and not kwargs
    if target.name == "dispatch":
        return any_of(given(0, "flags"), (DispatchFlags.ONE, DispatchFlags.BLOCKING))
    return False


def _equal(value: Any, other: int) -> bool:
    try:
        return bool(value == other)
    except Exception:
        return False


@pytest.fixture(scope="module")
def node(corosync_node: Node) -> Iterator[Node]:
    yield corosync_node
    assert sam.state() is sam.State.NOT_INITIALIZED


@pytest.mark.timeout(120)
@pytest.mark.parametrize("target", TARGETS, ids=str)
@settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_random_arguments_raise_only_documented_exceptions(
    node: Node, target: Target, data: st.DataObject
) -> None:
    args = data.draw(st.lists(VALUES, max_size=len(target.params) + 1), label="args")
    names = st.sampled_from([*target.params, "bogus"]) if target.params else st.just("bogus")
    kwargs = data.draw(st.dictionaries(names, VALUES, max_size=2), label="kwargs")
    assume(not harmful(target, args, kwargs))
    closed_first = data.draw(st.booleans(), label="closed first") if target.owner else False
    with node.entered():
        call, handles = _bind(target, closed_first)
        try:
            call(*args, **kwargs)
        except DOCUMENTED:
            pass
        finally:
            for handle in handles:
                handle.close()
    if target.owner is None:
        assert sam.state() is sam.State.NOT_INITIALIZED


def _bind(target: Target, closed_first: bool) -> tuple[Callable[..., object], list[Any]]:
    """The call to make, and the handles to close after it."""
    if target.owner is None:
        return getattr(sam, target.name), []
    handles: list[Any] = []
    if target.name == "__init__":

        def construct(*args: Any, **kwargs: Any) -> object:
            handles.append(target.owner(*args, **kwargs))  # type: ignore[misc]
            return handles[-1]

        return construct, handles
    handle = target.owner()
    handles.append(handle)
    if closed_first:
        handle.close()
    if target.setter:
        return lambda value: setattr(handle, target.name, value), handles
    method = getattr(handle, target.name)
    if target.name == "__iter__":  # iterating is part of the protocol
        return lambda *args, **kwargs: list(method(*args, **kwargs)), handles
    return method, handles


def test_every_service_and_sam_function_is_a_target() -> None:
    covered = {str(t) for t in TARGETS}
    for cls in SERVICES:
        assert f"{cls.__name__}.__init__" in covered and f"{cls.__name__}.dispatch" in covered
    assert {"CPG.on_deliver=", "CFG.on_shutdown=", "CMAP.__setitem__", "sam.hc_send"} <= covered
    assert len(TARGETS) >= 80, len(TARGETS)
