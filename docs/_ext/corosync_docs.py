"""What the documentation of corosync needs beyond Sphinx's autodoc:

* pybind11's signatures made readable: ``self: CPG`` dropped, and the signature of a
  function bound under another name (``corosync.sam.initialize`` is ``sam_initialize``)
  read from its docstring's first line, as autodoc does when the names match;
* ``{corosync-errors}``: the table of every exception class, generated from
  :mod:`corosync.errors` (its builtin bases, its code, its docstring), so that the page
  cannot miss a class or misstate a base;
* references that resolve as a reader means them: to re-exported names where they are
  documented, relative to the class they are written in; unresolved references to the
  package's public names fail the build, those to other packages and to internals pass;
* a check, once everything is read, that every name in the ``__all__`` of every public
  module is in the API reference, with every public attribute of its classes (a warning,
  which fails the warnings-as-errors build).
"""

from __future__ import annotations

import ast
import builtins
import enum
import functools
import importlib
import importlib.util
import inspect
import re
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Parser as RSTParser
from docutils.utils import new_document
from sphinx.application import Sphinx
from sphinx.domains.python import PythonDomain
from sphinx.environment import BuildEnvironment
from sphinx.errors import PycodeError
from sphinx.ext.autodoc._dynamic import _signatures
from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging
from sphinx.util.docstrings import prepare_docstring
from sphinx.util.docutils import SphinxDirective

_log = logging.getLogger(__name__)

# A pybind11 docstring's first line: name(arguments) -> result.
_SIGNATURE = re.compile(r"^(?P<name>\w+)(?P<rest>\(.*\)(?: -> .+)?)$")
# pybind11 names the instance: self: corosync._corosync.CPG (or self: object).
_SELF = re.compile(r"^self(?:: [\w.]+)?(?:, |(?=\)))")

# autodoc's private function, wrapped below: Sphinx is pinned (pyproject.toml), and one that
# moved it fails here, at the start of the build, not quietly.
_find_in_docstrings = _signatures._extract_signatures_from_docstrings


def _find_renamed(docstrings: Any, /, props: Any, tab_width: int) -> Any:
    """autodoc's reading of a signature from the docstring's first line, which must name the
    object as it is documented. A compiled function exported under another name
    (``corosync.sam.initialize`` is pybind11's ``sam_initialize``) names itself by its own
    ``__name__``: that line is read as if it named the documented one. (autodoc cannot
    introspect compiled functions, and its autodoc-process-signature event cannot add a
    signature where none was found.)"""
    own = getattr(props._obj, "__name__", None)
    if props.obj_type == "function" and own and own != props.name:
        for lines in docstrings or ():
            match = _SIGNATURE.match(lines[0]) if lines else None
            if match is not None and match["name"] == own:
                lines[0] = props.name + match["rest"]
    return _find_in_docstrings(docstrings, props=props, tab_width=tab_width)


_signatures._extract_signatures_from_docstrings = _find_renamed


def process_signature(
    app: Sphinx,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str, str | None] | None:
    """pybind11's signatures name ``self`` with its type: dropped, as Python's own
    signatures of methods do. Names a module imports only for type checking are qualified
    (``corosync_signature_names``), or they could not be looked up."""
    names = app.config.corosync_signature_names.get(getattr(obj, "__module__", None), {})
    for short, full in names.items():
        pattern = re.compile(rf"(?<![\w.]){short}\b")
        if signature is not None:
            signature = pattern.sub(full, signature)
        if return_annotation is not None:
            return_annotation = pattern.sub(full, return_annotation)
    if signature is None:
        return None
    if signature.startswith("(self"):
        signature = "(" + _SELF.sub("", signature[1:])
    return signature, return_annotation


def _builtin_bases(cls: type) -> list[type]:
    """The builtin exception classes ``cls`` derives from directly or through the package's
    own classes (``ClosedError``: ``ValueError``), most derived first."""
    found: list[type] = []
    for klass in cls.__mro__:
        if klass.__module__ == "builtins":
            continue
        for base in klass.__bases__:
            if base.__module__ == "builtins" and base is not Exception and base not in found:
                found.append(base)
    return found


class CorosyncErrors(SphinxDirective):
    """``{corosync-errors}``: a table of corosync.errors' exception classes."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        errors = importlib.import_module("corosync.errors")
        by_code = {cls: code for code, cls in errors._BY_CODE.items()}
        classes = [errors.CorosyncError, *errors._BY_CODE.values(), errors.ClosedError]
        defined = {
            obj
            for obj in vars(errors).values()
            if isinstance(obj, type) and issubclass(obj, errors.CorosyncError)
        }
        if missing := defined - set(classes):
            _log.warning(
                "corosync-errors: classes not placed in the table: %s",
                ", ".join(sorted(c.__name__ for c in missing)),
                location=self.get_location(),
            )
            classes.extend(sorted(missing, key=lambda c: c.__name__))
        rows = ["   * - Exception", "     - Code, also a", "     - Raised when"]
        for cls in classes:
            # ClosedError has its base's code; CorosyncError any.
            code = next((by_code[klass] for klass in cls.__mro__ if klass in by_code), None)
            kinds = [f"``{code.name}``" if code is not None else "any code"]
            kinds += [f"``{base.__name__}``" for base in _builtin_bases(cls)]
            doc = inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0].replace("\n", " ")
            # Written in corosync.errors, read on another page: names relative to it.
            doc = re.sub(r":(\w+):`(\w+)`", r":\1:`~corosync.errors.\2`", doc)
            # The code is in its column: "CS_ERR_BUSY: a CPG join..." says "a CPG join...".
            if code is not None:
                doc = doc.removeprefix(f"CS_ERR_{code.name}: ")
                if doc == f"CS_ERR_{code.name}.":
                    doc = f"corosync answers ``CS_ERR_{code.name}``."
            rows += [
                f"   * - :class:`~corosync.errors.{cls.__name__}`",
                f"     - {', '.join(kinds)}",
                f"     - {doc if doc.startswith('corosync') else doc[:1].upper() + doc[1:]}",
            ]
        text = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: auto",
            "",
            *rows,
        ]
        # reST (what the docstrings are written in), whatever the page is written in: MyST
        # would read a nested parse as Markdown.
        document = self.state.document
        table = new_document(document["source"], document.settings)
        table.reporter = document.reporter
        RSTParser().parse("\n".join(text) + "\n", table)
        return list(table.children)


@functools.cache
def _public_names(modules: tuple[str, ...]) -> dict[int, list[str]]:
    """Every class, function and module that a public module exports, by identity, with the
    names it is exported under (``corosync.CPG``, ``corosync.cpg.CPG``)."""
    names: dict[int, list[str]] = {}
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj):
                names.setdefault(id(obj), []).append(f"{module_name}.{name}")
    return names


def _lookup(dotted: str) -> Any:
    """The object a dotted name names, or None."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _documented_as(app: Sphinx, domain: PythonDomain, dotted: str) -> str | None:
    """Where the API reference documents what ``dotted`` names: a name of the package's
    (``corosync.testing.Cluster.kill``), a re-export (``corosync.LibraryError`` is
    ``corosync.errors.LibraryError``), a compiled class by its home
    (``corosync._corosync.SamState`` is ``corosync.sam.State``), or a method of one of
    those (``corosync.aio.CPG.mcast`` is ``corosync.cpg.CPG.mcast``)."""
    if dotted in domain.objects or dotted in domain.modules:
        return dotted
    if not dotted.startswith("corosync"):
        return None
    public = _public_names(tuple(app.config.corosync_public_modules))
    head, _, last = dotted.rpartition(".")
    for obj, suffix in [(_lookup(dotted), ""), (_lookup(head) if head else None, f".{last}")]:
        if obj is None:
            continue
        for name in public.get(id(obj), []):
            if f"{name}{suffix}" in domain.objects or f"{name}{suffix}" in domain.modules:
                return f"{name}{suffix}"
    return None


def _candidates(node: Any) -> list[str]:
    """What a reference's target may name, most specific first: relative to the class and
    the module it is written in (the module it is documented in, and the one that defines
    the class), then as written."""
    # A type written in a docstring or an unevaluated annotation: "dict[str, int]".
    target = node["reftarget"].lstrip("~.").partition("[")[0]
    module, klass = node.get("py:module"), node.get("py:class")
    found = []
    if module and klass:
        found.append(f"{module}.{klass}.{target}")
        home = getattr(_lookup(f"{module}.{klass}"), "__module__", None)
        if isinstance(home, str) and home != module:
            found.append(f"{home}.{target}")
    if module:
        found.append(f"{module}.{target}")
    return [*found, target]


def resolve_reexport(
    app: Sphinx, env: BuildEnvironment, node: Any, contnode: nodes.Element
) -> nodes.Element | None:
    """A reference that Sphinx's own lookup misses: to a name documented under another path
    (see :func:`_documented_as`), absolute or relative to the module and class it is in."""
    if node.get("refdomain") != "py":
        return None
    domain = env.get_domain("py")
    assert isinstance(domain, PythonDomain)
    for candidate in _candidates(node):
        name = _documented_as(app, domain, candidate)
        if name is not None:
            return domain.resolve_xref(
                env, node["refdoc"], app.builder, "obj", name, node, contnode
            )
    return None


def _public_path(app: Sphinx, dotted: str) -> bool:
    """Whether ``dotted`` goes through a public module and a name in its ``__all__``: what
    the API reference must document."""
    public = set(app.config.corosync_public_modules)
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        if module in public:
            rest = parts[cut:]
            return not rest or rest[0] in getattr(importlib.import_module(module), "__all__", [])
    return False


def quiet_foreign(app: Sphinx, domain: Any, node: Any) -> bool | None:
    """An unresolved reference is an error when it names something of the package's public
    API, even written relative to where it is (``Cluster.cut_link`` in corosync.testing).
    References to other packages (not linked: no intersphinx, the build needs no network)
    and to the package's internals (the modules the reference leaves out) pass."""
    if domain.name != "py":
        return None
    for candidate in _candidates(node):
        obj = _lookup(candidate)
        if obj is None:
            continue
        home = getattr(obj, "__module__", None) or getattr(obj, "__name__", "")
        if not str(home).startswith("corosync"):
            return True
        return None if _public_path(app, candidate) else True
    return hasattr(builtins, _candidates(node)[-1].partition(".")[0]) or None


def process_bases(app: Sphinx, name: str, obj: Any, options: Any, bases: list[type]) -> None:
    """Show the bases a reader can look up: not pybind11's ``pybind11_object``, nor the
    package's private building blocks (``Cluster`` is assembled from mixins)."""
    public = _public_names(tuple(app.config.corosync_public_modules))
    bases[:] = [
        base
        for base in bases
        if not base.__module__.startswith(("corosync", "pybind11_builtins")) or id(base) in public
    ] or [object]


def _imported_comment(module_name: str, name: str) -> list[str] | None:
    """The ``#:`` comment of a constant that ``module_name`` imports from another module of
    the package (``corosync.cli`` imports ``EXIT_OK`` from ``corosync.cli.errors``)."""
    try:
        module = importlib.import_module(module_name)
        tree = ast.parse(inspect.getsource(module))
    except (ImportError, OSError, TypeError):
        return None
    for statement in tree.body:
        if not isinstance(statement, ast.ImportFrom):
            continue
        for alias in statement.names:
            if (alias.asname or alias.name) != name:
                continue
            source = statement.module or ""
            if statement.level:
                package = module_name if hasattr(module, "__path__") else module.__package__
                source = importlib.util.resolve_name("." * statement.level + source, package)
            try:
                docs = ModuleAnalyzer.for_module(source).find_attr_docs()
            except PycodeError:
                return None
            return list(docs.get(("", alias.name), [])) or None
    return None


def process_docstring(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """A constant is documented by its ``#:`` comment, never by its type's docstring (an
    ``int`` has one of its own, which autodoc would show for a constant imported from
    another module). An enum exported under another name than its own (``corosync.sam.State``
    is the compiled ``SamState``), which autodoc shows as a mere alias, gets its docstring
    and its members."""
    if inspect.isclass(obj) and issubclass(obj, enum.Enum):
        if obj.__name__ != name.rpartition(".")[2]:
            members = ", ".join(f"``{member.name}`` ({member.value})" for member in obj)
            lines[:] = [*(lines or prepare_docstring(obj.__doc__ or "")), f"Members: {members}."]
        return
    if what not in ("data", "attribute") or inspect.isclass(obj) or obj is None:
        return
    type_doc = type(obj).__doc__
    if not isinstance(type_doc, str):
        return
    own = prepare_docstring(type_doc)
    if [line.strip() for line in lines if line.strip()] != [
        line.strip() for line in own if line.strip()
    ]:
        return
    module_name, _, attr = name.rpartition(".")
    lines[:] = _imported_comment(module_name, attr) or []


def _documented(domain: PythonDomain, module: str, name: str, obj: Any) -> bool:
    if inspect.ismodule(obj):
        return obj.__name__ in domain.modules
    if f"{module}.{name}" in domain.objects:
        return True
    home = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    return isinstance(home, str) and f"{home}.{qualname}" in domain.objects


def check_coverage(app: Sphinx, env: BuildEnvironment) -> None:
    """Warn about each public name that the API reference leaves out."""
    domain = env.get_domain("py")
    assert isinstance(domain, PythonDomain)
    for module_name in app.config.corosync_public_modules:
        module = importlib.import_module(module_name)
        if module_name not in domain.modules:
            _log.warning("API reference: module %s is not documented", module_name)
            continue
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not _documented(domain, module_name, name, obj):
                _log.warning("API reference: %s.%s is not documented", module_name, name)
            elif inspect.isclass(obj) and obj.__name__ == name:  # an alias lists its members
                where = _documented_as(app, domain, f"{module_name}.{name}")
                for attr in _own_public_attributes(obj):
                    if f"{where}.{attr}" not in domain.objects:
                        _log.warning("API reference: %s.%s is not documented", where, attr)


def _own_public_attributes(cls: type) -> list[str]:
    """The public attributes a class of the package has, its bases' of the package included
    (``Cluster`` is assembled from mixins), not those of builtins and the standard
    library."""
    found = []
    for attr in dir(cls):
        if attr.startswith("_"):
            continue
        definer = next((k for k in cls.__mro__ if attr in vars(k)), None)
        if definer is not None and definer.__module__.startswith("corosync"):
            found.append(attr)
    return found


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("corosync_public_modules", [], "env", types=[list])
    app.add_config_value("corosync_signature_names", {}, "env", types=[dict])
    app.connect("autodoc-process-signature", process_signature)
    app.connect("autodoc-process-docstring", process_docstring)
    app.connect("autodoc-process-bases", process_bases)
    app.connect("missing-reference", resolve_reexport)
    app.connect("warn-missing-reference", quiet_foreign)
    app.connect("env-check-consistency", check_coverage)
    app.add_directive("corosync-errors", CorosyncErrors)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
