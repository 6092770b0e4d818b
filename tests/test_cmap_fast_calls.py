"""`cmap.get(key)` and `cmap.set(key, value[, type])`, the calls made once per read and per
write, take a fast path past pybind11's dispatcher; every other shape (keywords, a subclass,
arguments of the wrong type) takes the full one. Both must behave alike: these tests pin the
edges where one hands over to the other."""

from __future__ import annotations

import types
from collections.abc import Callable

import pytest

import corosync
import corosync.testing
from corosync.cmap import TypedValue, ValueType


class MyCMAP(corosync.CMAP):
    """A subclass: its calls take the full path."""


@pytest.mark.parametrize("name", ["get", "set"])
def test_the_per_call_methods_are_method_descriptors(name: str) -> None:
    assert isinstance(vars(corosync.CMAP)[name], types.MethodDescriptorType)
    assert getattr(corosync.CMAP, name).__doc__.startswith(f"{name}(self: ")


def test_every_way_of_calling_them_reaches_the_same_method(
    cmap: corosync.CMAP, prefix: str
) -> None:
    key = prefix + "n"
    cmap.set(key, 1, ValueType.UINT32)
    corosync.CMAP.set(cmap, key, 2, ValueType.UINT32)
    bound_set, bound_get = cmap.set, cmap.get
    bound_set(key, 3, 6)  # type: ignore[arg-type]  # a plain int: ValueType.UINT32
    assert bound_get(key) == TypedValue(ValueType.UINT32, 3)
    cmap.set(key=key, value=4, type=ValueType.UINT32)  # keywords: the full path
    assert corosync.CMAP.get(cmap, key) == TypedValue(ValueType.UINT32, 4)
    assert cmap.get(key=key) == TypedValue(ValueType.UINT32, 4)
    cmap.set(key, 5, None)  # None: the key keeps its type
    assert cmap.get(key) == TypedValue(ValueType.UINT32, 5)


def test_a_subclass_gets_and_sets_like_the_class(
    corosync_node: corosync.testing.Node, prefix: str
) -> None:
    with corosync_node.connect(MyCMAP) as mine:
        mine.set(prefix + "s", "text")
        mine.set(prefix + "n", 7, ValueType.UINT8)
        assert mine.get(prefix + "s") == TypedValue(ValueType.STRING, "text")
        assert mine.get(prefix + "n") == TypedValue(ValueType.UINT8, 7)


@pytest.mark.parametrize(
    ("type_", "error", "message"),
    [
        (True, TypeError, r"^type must be ValueType or an int, not bool$"),
        (0, ValueError, r"^type must be a ValueType \(1 to 12\), not 0$"),
        (13, ValueError, r"^type must be a ValueType \(1 to 12\), not 13$"),
        (2**70, ValueError, r"^type must be a ValueType \(1 to 12\), not 1180591620717411303424$"),
        ("UINT8", TypeError, r"^type must be ValueType or an int, not str$"),
    ],
)
def test_a_type_outside_the_fast_shape_raises_the_full_paths_error(
    cmap: corosync.CMAP, prefix: str, type_: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        cmap.set(prefix + "n", 1, type_)  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["get", "set"])
def test_a_key_that_is_no_str_raises_the_full_paths_type_error(
    cmap: corosync.CMAP, method: str
) -> None:
    args: tuple[object, ...] = (b"totem.cluster_name",) if method == "get" else (b"k", 1)
    with pytest.raises(TypeError, match=rf"^{method}\(\) argument 'key' must be str, not bytes$"):
        getattr(cmap, method)(*args)


def test_the_fast_paths_errors_name_the_call_and_the_key(cmap: corosync.CMAP, prefix: str) -> None:
    key = prefix + "n"
    with pytest.raises(
        OverflowError,
        match=rf"^cmap\.set\('{key}'\): value -1 is out of range for UINT8 \(0 to 255\)$",
    ):
        cmap.set(key, -1, ValueType.UINT8)
    with pytest.raises(
        OverflowError,
        match=rf"^cmap\.set\('{key}'\): value {2**64} is out of range for UINT64 ",
    ):
        cmap.set(key, 2**64, ValueType.UINT64)
    with pytest.raises(TypeError, match=rf"^cmap\.set\('{key}'\): a new key's type follows"):
        cmap.set(key, object())  # type: ignore[arg-type]
    with pytest.raises(corosync.NotExistError, match=key):
        cmap.get(key)


@pytest.mark.parametrize("value", [object(), True, 1.5, "1", -1, 256], ids=repr)
@pytest.mark.parametrize("type_", [ValueType.UINT8, None], ids=["UINT8", "None"])
def test_a_refused_value_raises_alike_on_both_paths(
    cmap: corosync.CMAP, prefix: str, value: object, type_: ValueType | None
) -> None:
    key = prefix + "n"

    def refusal(set_value: Callable[[], None]) -> tuple[type[BaseException], str]:
        with pytest.raises((TypeError, ValueError, OverflowError)) as info:
            set_value()
        return type(info.value), str(info.value)

    if type_ is None:
        cmap.set(key, 1, ValueType.UINT8)  # an existing key keeps its type
    fast = refusal(lambda: cmap.set(key, value, type_))  # type: ignore[arg-type]
    full = refusal(lambda: cmap.set(key=key, value=value, type=type_))  # type: ignore[arg-type]
    assert fast == full


def test_after_close_the_fast_calls_raise_closed_error(cmap: corosync.CMAP, prefix: str) -> None:
    cmap.close()
    with pytest.raises(corosync.ClosedError, match="cmap_get"):
        cmap.get(prefix + "n")
    with pytest.raises(corosync.ClosedError):
        cmap.set(prefix + "n", 1, ValueType.UINT32)


@pytest.mark.parametrize("name", ["get", "set"])
def test_a_method_given_another_object_as_self_raises_type_error(name: str) -> None:
    with pytest.raises(
        TypeError,
        match=rf"^descriptor '{name}' for '[\w.]*CMAP' objects doesn't apply to a 'int' object$",
    ):
        getattr(corosync.CMAP, name)(42, "k", 1)
