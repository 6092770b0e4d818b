"""Sphinx configuration of the documentation site; tools/build_docs.sh builds it.

Sphinx's autodoc documents the API from the compiled module itself (its pybind11 signatures
and docstrings, which tools/gen_stubs.py turns into the checked stub) and from the Python
modules' docstrings: the reference is generated, never retyped. Pages are Markdown (MyST).
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
SRC = DOCS.parent / "src" / "python"
# The module built in place (its .so in src/python/corosync) comes first; otherwise the
# installed package is documented (a source tree without the .so would hide it).
if any((SRC / "corosync").glob("_corosync*.so")):
    sys.path.insert(0, str(SRC))
sys.path.insert(0, str(DOCS / "_ext"))

import corosync  # noqa: E402  (after the path is set)

project = "corosync for Python"
author = "the corosync-python authors"
copyright = f"2026, {author}"
version = release = corosync.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "corosync_docs",  # docs/_ext: signatures, references, the error table, coverage
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_ext"]
# Every reference to a name of this package must resolve (a renamed class breaks the
# build); names of other packages are not linked (no intersphinx: the build must not need
# the network), which docs/_ext lets pass.
nitpicky = True
nitpick_ignore = [
    # Node's constructor takes the harness's bookkeeping (a test gets nodes from Cluster).
    ("py:class", "Resources"),
]

myst_heading_anchors = 3

autodoc_default_options = {
    "members": True,
    "undoc-members": True,
    "show-inheritance": True,
}
# The class docstring and __init__'s together: pybind11 puts what the constructor takes there.
autoclass_content = "both"
autodoc_member_order = "bysource"
autodoc_typehints_format = "short"
python_use_unqualified_type_names = True
# Names that the pytest plugin imports only for type checking (importing the harness would
# cost every pytest run): annotations there name them unqualified.
corosync_signature_names = {
    "corosync.testing.pytest_plugin": {
        "Cluster": "corosync.testing.Cluster",
        "Node": "corosync.testing.Node",
    },
}

html_theme = "furo"
html_title = f"corosync for Python {release}"

# Every name in these modules' __all__ must be in the API reference (docs/_ext checks).
corosync_public_modules = [
    "corosync",
    "corosync.cpg",
    "corosync.cmap",
    "corosync.quorum",
    "corosync.votequorum",
    "corosync.cfg",
    "corosync.sam",
    "corosync.aio",
    "corosync.errors",
    "corosync.testing",
    "corosync.testing.pytest_plugin",
    "corosync.config",
    "corosync.cli",
    "corosync.exporter",
    "corosync.exporter.watcher",
    "corosync.exporter.snapshot",
    "corosync.exporter.collector",
    "corosync.exporter.server",
]
