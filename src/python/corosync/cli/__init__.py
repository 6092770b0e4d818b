"""The command line, ``python -m corosync`` (installed as ``corosync-py`` too): corosync's
state read through the typed API, printed as corosync's own tools lay it out or as JSON.

Commands::

    status                        corosync-quorumtool -s and corosync-cfgtool -s together
    quorum status                 corosync-quorumtool -s
    quorum watch                  the quorum status now and after every change (-m)
    links [--nodes]               corosync-cfgtool -s (--nodes: -n)
    cmap get KEY...               corosync-cmapctl -g
    cmap set KEY TYPE VALUE       corosync-cmapctl -s
    cmap delete [--prefix] KEY... corosync-cmapctl -d / -D
    cmap list [PREFIX...]         corosync-cmapctl [PREFIX]
    cmap stats [PREFIX...]        corosync-cmapctl -m stats
    cmap track [--prefix] KEY...  corosync-cmapctl -t / -T
    cpg groups                    corosync-cpgtool -n
    cpg members [GROUP]           corosync-cpgtool
    cpg send GROUP [MESSAGE...]   join, send (each stdin line without MESSAGE), leave
    cpg listen GROUP              join and print messages and membership changes
    exporter --port N             serve metrics to Prometheus (corosync.exporter)

``--json`` (on any command) prints JSON documents of the schema shipped as
``corosync/cli/schema/v1.json`` (:data:`SCHEMA_PATH`): one object, or one per line for the
streaming commands (``cmap track``, ``cpg listen``, ``quorum watch``), each with
``schema_version`` and ``kind``. Ring ids come in both of corosync's spellings
(``{"nodeid": 1, "seq": 12, "text": "1.c", "legacy_text": "1/12"}``); bytes that are not
UTF-8 come as ``{"base64": ...}``. Errors stay text, on stderr.

Exit status:

* 0: done; for ``status`` and ``quorum status``: this node is quorate;
* 1: an error, told in one line on stderr (no traceback unless ``--debug``): corosync not
  reachable, a call corosync refused, a missing key (``cmap get``, ``cmap delete``), a usage
  error;
* 2: ``status`` and ``quorum status`` only: this node is not quorate (as
  ``corosync-quorumtool -s``).

The streaming commands run until Ctrl-C or SIGTERM, ``--count N`` items or ``--timeout S``
seconds, and then exit 0; a closed stdout ends any command quietly with 0.
"""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from corosync.cli.errors import EXIT_ERROR, EXIT_NOT_QUORATE, EXIT_OK
from corosync.cli.main import main
from corosync.cli.output import SCHEMA_VERSION

__all__ = [
    "EXIT_ERROR",
    "EXIT_NOT_QUORATE",
    "EXIT_OK",
    "SCHEMA_PATH",
    "SCHEMA_VERSION",
    "load_schema",
    "main",
]

#: The JSON Schema of every ``--json`` document (draft 2020-12).
SCHEMA_PATH: Traversable = resources.files(__name__) / "schema" / f"v{SCHEMA_VERSION}.json"


def load_schema() -> dict[str, Any]:
    """The JSON Schema of the ``--json`` output, parsed."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema
