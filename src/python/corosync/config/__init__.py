"""``corosync.conf``, read, checked and edited as corosync 3.1 reads it.

>>> config = corosync.config.load("/etc/corosync/corosync.conf")   # doctest: +SKIP
>>> config.totem.cluster_name, [n.nodeid for n in config.nodelist]   # doctest: +SKIP
('c1', [1, 2])
>>> config.add_node(3, "node3", ["10.0.0.3"])                        # doctest: +SKIP
>>> config.set("totem.token", 5000)                                  # doctest: +SKIP
>>> [str(p) for p in config.validate()]                              # doctest: +SKIP
[]
>>> config.write("/etc/corosync/corosync.conf")                      # doctest: +SKIP

* :func:`parse` and :func:`load` accept exactly what corosync's parser accepts and raise
  :class:`ConfigError` naming the line, in corosync's words, for the rest
  (:mod:`.syntax` has the rules). :meth:`Config.text` gives the file back byte for byte;
  edits change only the lines they touch and write new ones like their neighbours.
* Keys are CMAP's names (:mod:`.cmap`): ``config.get("totem.token")``,
  ``config.set("nodelist.node.0.name", "a")``, ``config.delete(...)``.
* Typed views: :attr:`Config.totem`, :attr:`Config.nodelist`, :attr:`Config.quorum`,
  :attr:`Config.logging`.
* Edits: :meth:`Config.add_node`, :meth:`~Config.remove_node`, :meth:`~Config.add_link`,
  :meth:`~Config.remove_link`, :meth:`~Config.set`, :meth:`~Config.delete`.
* :meth:`Config.validate` lists :class:`Problem` s: what ``corosync -t`` refuses, what
  votequorum refuses at startup, and likely mistakes corosync keeps quiet about.
"""

from __future__ import annotations

from .document import Config, load, parse
from .model import Interface, LoggerSubsys, Logging, Node, Quorum, QuorumDevice, Totem
from .problem import Problem, Severity
from .syntax import ConfigError, Entry, Section, Trivia

__all__ = [
    "Config",
    "ConfigError",
    "Entry",
    "Interface",
    "LoggerSubsys",
    "Logging",
    "Node",
    "Problem",
    "Quorum",
    "QuorumDevice",
    "Section",
    "Severity",
    "Totem",
    "Trivia",
    "load",
    "parse",
]
