"""One-line messages for calls whose arguments pybind11 could not match.

pybind11 answers a wrong call with a TypeError that lists every overload's full signature
and repeats the arguments. The binding hands that message, with the call's arguments, to
:func:`brief`, which says in one line what is wrong: an unknown keyword, a missing or extra
argument, or which parameter got a value of the wrong type. Only the error path runs this.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

_HEADER = re.compile(r"^(\w+)\(\): incompatible (?:function|constructor) arguments")
_OVERLOAD = re.compile(r"^\s+1\. ([\w.]*)\((.*)\)(?: -> .*)?$", re.MULTILINE)


@dataclass(frozen=True)
class _Parameter:
    name: str
    annotation: str
    required: bool
    kind: str  # "positional", "star", "keyword"


def _split_top_level(text: str) -> list[str]:
    """Split at commas that are not inside brackets."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    if text[start:].strip():
        parts.append(text[start:].strip())
    return parts


def _parameters(signature: str) -> list[_Parameter]:
    params, kind = [], "positional"
    for part in _split_top_level(signature):
        if part == "*":
            kind = "keyword"
            continue
        head, _, default = part.partition(" = ")
        name, _, annotation = head.partition(": ")
        if name.startswith("**"):
            continue
        if name.startswith("*"):
            params.append(_Parameter(name[1:], annotation, False, "star"))
            kind = "keyword"
            continue
        params.append(_Parameter(name, annotation, not default, kind))
    return params


def _is_buffer(value: object) -> bool:
    try:
        memoryview(value)  # type: ignore[arg-type]
    except TypeError:
        return False
    return True


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_iterable(value: object) -> bool:
    try:
        iter(value)  # type: ignore[call-overload]
    except TypeError:
        return False
    return True


# What each annotation pybind11 writes accepts, enough to find the offending argument.
_ACCEPTS: list[tuple[str, Callable[[object], bool]]] = [
    ("None", lambda v: v is None),
    ("str", lambda v: isinstance(v, str)),
    ("bytes", lambda v: isinstance(v, bytes)),
    ("bool", lambda v: isinstance(v, bool)),
    ("typing.SupportsFloat", lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
    ("typing.SupportsInt", _is_int),
    ("typing.SupportsIndex", _is_int),
    ("int", _is_int),
    ("float", lambda v: isinstance(v, int | float)),
    ("collections.abc.Callable", callable),
    ("collections.abc.Iterable", _is_iterable),
    ("typing_extensions.Buffer", _is_buffer),
    ("collections.abc.Buffer", _is_buffer),
]


def _alternatives(annotation: str) -> list[str]:
    """The base names of a union's members: `Callable[[str | bytes], None] | None` gives
    `collections.abc.Callable` and `None` (unions inside brackets are not split)."""
    return [a.split("[", 1)[0] for a in _split_top_level(annotation.replace(" | ", ","))]


def _accepts(annotation: str, value: object) -> bool | None:
    """Whether `annotation` accepts `value`; None when it names a type this cannot judge."""
    judged = False
    for base in _alternatives(annotation):
        for name, check in _ACCEPTS:
            if base == name:
                judged = True
                if check(value):
                    return True
    return False if judged else None


def _describe(annotation: str) -> str:
    names = [a.rsplit(".", 1)[-1] for a in _alternatives(annotation)]
    plain = {"SupportsFloat": "float", "SupportsInt": "int", "SupportsIndex": "int"}
    plain |= {"Callable": "callable", "Buffer": "a bytes-like object", "Iterable": "an iterable"}
    return " or ".join(dict.fromkeys(plain.get(n, n) for n in names))


def brief(message: str, args: Sequence[object], kwargs: Mapping[str, object] | None) -> str | None:
    """The one-line message for pybind11's `message` about a call with `args` (the bound
    object first) and `kwargs`; None when the message is not pybind11's mismatch report."""
    header = _HEADER.match(message)
    overloads = _OVERLOAD.findall(message)
    if not header or len(overloads) != 1:
        return None
    function = header.group(1)
    owner, signature = overloads[0]
    params = _parameters(signature)
    kwargs = dict(kwargs or {})
    given = list(args)[1:]  # without the object the method was called on
    if params and params[0].name == "self":
        params = params[1:]
    # A constructor's signature names its class: CPG() reads better than __init__().
    label = f"{owner.rsplit('.', 1)[-1] if function == '__init__' and owner else function}()"

    positional = [p for p in params if p.kind == "positional"]
    star = next((p for p in params if p.kind == "star"), None)
    by_name = {p.name: p for p in params if p.kind != "star"}
    bound: list[tuple[_Parameter, object]] = []
    for i, value in enumerate(given):
        if i < len(positional):
            bound.append((positional[i], value))
        elif star is not None:
            bound.append((star, value))
        else:
            count = len(positional)
            return (
                f"{label} takes {count} positional argument{'s' * (count != 1)} "
                f"but {len(given)} were given"
            )
    for name, value in kwargs.items():
        param = by_name.get(name)
        if param is None:
            close = [p for p in by_name if p.startswith(name[:3])]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return f"{label} got an unexpected keyword argument {name!r}{hint}"
        if any(p is param for p, _ in bound):
            return f"{label} got multiple values for argument {name!r}"
        bound.append((param, value))
    for param in params:
        if param.required and not any(p is param for p, _ in bound):
            return f"{label} missing required argument {param.name!r}"
    for param, value in bound:
        if _accepts(param.annotation, value) is False:
            if len(params) == 1 and re.fullmatch(r"arg\d+", param.name):  # a property setter
                return (
                    f"{function} must be {_describe(param.annotation)}, not {type(value).__name__}"
                )
            what = "an argument" if param.kind == "star" else f"argument {param.name!r}"
            return (
                f"{label} {what} must be {_describe(param.annotation)}, not {type(value).__name__}"
            )
    return f"{label} got arguments it cannot take; expected ({signature})"
