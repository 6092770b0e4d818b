"""A ``corosync.conf`` as a whole: :class:`Config`, with :func:`parse` and :func:`load`."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from . import edits, membership, model
from .cmap import INTERFACE_KEYS, Resolved, resolve, value_problem
from .problem import Problem
from .syntax import Entry, Section, parse_tree

__all__ = ["Config", "load", "parse"]

_T = TypeVar("_T")
_NUMBER = re.compile(r"[0-9]+")


class Config:
    """A parsed ``corosync.conf``: its lossless tree, its CMAP keys, typed views, edits.

    ``Config(text)`` parses ``text`` (raising :class:`ConfigError` where corosync would
    refuse to read it); ``Config()`` is an empty file to build one up. :meth:`text` gives
    the file back byte for byte, edits changing only the lines they touch. ``filename``
    names the file in error messages.

    Keys are named as CMAP names them (:mod:`corosync.config.cmap`): ``totem.token``,
    ``nodelist.node.1.ring0_addr``, ``totem.interface.1.knet_link_priority``,
    ``logging.logger_subsys.QUORUM.debug``. An edit that fails raises and changes nothing.
    """

    def __init__(self, text: str = "", *, filename: str = "corosync.conf") -> None:
        self.filename = filename
        #: The lossless tree of the file (its root section, named "").
        self.root: Section = parse_tree(text, filename)
        self._resolved: Resolved | None = None

    def __repr__(self) -> str:
        return f"<corosync.config.Config {self.filename!r}, {self.root.renumber() - 1} lines>"

    def __str__(self) -> str:
        return self.text()

    def text(self) -> str:
        """The file's text: as parsed, but for the edits made since."""
        return self.root.render()

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the text to ``path`` atomically (a new file renamed over the old one, which
        keeps its permissions), so that corosync never reads half a file."""
        path = os.fspath(path)
        directory = os.path.dirname(path) or "."
        fd, temporary = tempfile.mkstemp(prefix=".corosync.conf.", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(self.text().encode("utf-8", "surrogateescape"))
            try:
                os.chmod(temporary, os.stat(path).st_mode & 0o7777)
            except FileNotFoundError:
                os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise

    # --- CMAP keys ------------------------------------------------------------------------

    @property
    def resolved(self) -> Resolved:
        """What corosync stores of the file (recomputed after an edit)."""
        if self._resolved is None:
            self._resolved = resolve(self.root)
        return self._resolved

    def keys(self, prefix: str = "") -> list[str]:
        """The CMAP keys the file sets that start with ``prefix``, sorted as CMAP sorts."""
        return sorted(k for k in self.resolved.values if k.startswith(prefix))

    def entry(self, key: str) -> Entry | None:
        """The line that sets CMAP key ``key`` (the last of duplicates), or None."""
        return self.resolved.values.get(key)

    def get(self, key: str) -> str | None:
        """The value of CMAP key ``key`` as the file gives it, or None without one."""
        entry = self.entry(key)
        return None if entry is None else entry.value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self.resolved.values

    def set(self, key: str, value: str | int) -> Entry:
        """Set CMAP key ``key`` to ``value`` and return its line.

        An existing key gets the new value on the line that sets it; a new one is added to
        its section, which is created where missing (``totem.interface.<L>.<key>``: the
        interface section of link L, ``logging.logger_subsys.<NAME>.<key>``: that
        subsystem's). A node's keys need the node (:meth:`add_node`). A value corosync's
        parser would refuse (``totem.token: soon``) raises ValueError, and so does a key
        that would make a line no file could hold.
        """
        text = edits.check_value(key, value)
        problem = value_problem(key, text)
        if problem is not None:
            raise ValueError(f"{key}: {problem}")
        entry = self.entry(key)
        if entry is not None:
            edits.check_line(entry.prefix + text + entry.suffix)
            entry.value = text
        else:
            before = self.text()
            try:
                section, name = self._section_for(key)
                entry = edits.add_entry(section, name, text)
            except BaseException:
                self._restore(before)
                raise
        self._changed()
        return entry

    def delete(self, key: str) -> int:
        """Remove every line that sets CMAP key ``key``; return how many there were."""
        count = 0
        while (entry := self.entry(key)) is not None:
            # Each removal may uncover an earlier line that the removed one overrode.
            edits.remove(entry)
            self._changed()
            count += 1
        return count

    def _section_for(self, key: str) -> tuple[Section, str]:
        parts = key.split(".")
        if len(parts) < 2 or not all(parts):
            raise ValueError(f"{key!r} is not a key inside a section (name.key)")
        if parts[:2] == ["nodelist", "node"]:
            if len(parts) != 4 or not _NUMBER.fullmatch(parts[2]):
                raise ValueError(f"{key!r}: a node's keys are nodelist.node.<index>.<key>")
            sections = self.resolved.nodes.get(int(parts[2]))
            if not sections:
                raise KeyError(f"{key}: there is no node {parts[2]} (add_node() adds one)")
            return sections[-1], edits.check_name(parts[3], "key")
        if parts[:2] == ["totem", "interface"]:
            if len(parts) != 4 or not _NUMBER.fullmatch(parts[2]) or parts[3] not in INTERFACE_KEYS:
                raise ValueError(
                    f"{key!r}: a link's keys are totem.interface.<link>.<key>, <key> one of"
                    f" {', '.join(INTERFACE_KEYS)}"
                )
            return membership.interface_section(self.root, self.resolved, int(parts[2])), parts[3]
        if parts[:2] == ["logging", "logger_subsys"] and len(parts) == 4:
            name = edits.check_name(parts[2], "subsystem")
            sections = self.resolved.subsystems.get(name)
            if sections:
                return sections[-1], edits.check_name(parts[3], "key")
            logging = self._section(["logging"])
            section = edits.add_section(logging, "logger_subsys")
            edits.add_entry(section, "subsys", name)
            return section, edits.check_name(parts[3], "key")
        if parts[0] == "uidgid" or "logging_daemon" in parts or "member" in parts:
            raise ValueError(f"{key!r}: edit uidgid, logging_daemon and member sections by hand")
        for name in parts[:-1]:
            edits.check_name(name, "section name")
        return self._section(parts[:-1]), edits.check_name(parts[-1], "key")

    def _section(self, names: Sequence[str]) -> Section:
        section = self.root
        for name in names:
            found = section.sections(name)
            section = found[-1] if found else edits.add_section(section, name)
        return section

    def _changed(self) -> None:
        edits.fix_newlines(self.root)
        self.root.renumber()
        self._resolved = None

    def _restore(self, text: str) -> None:
        self.root = parse_tree(text, self.filename)
        self._resolved = None

    # --- typed views -----------------------------------------------------------------------

    @property
    def totem(self) -> model.Totem:
        """The ``totem`` section, typed."""
        return model.totem_view(self.resolved, self.filename)

    @property
    def nodelist(self) -> list[model.Node]:
        """The nodes of the ``nodelist``, in order."""
        return model.nodes_view(self.resolved, self.filename)

    @property
    def quorum(self) -> model.Quorum:
        """The ``quorum`` section, typed."""
        return model.quorum_view(self.resolved, self.filename)

    @property
    def logging(self) -> model.Logging:
        """The ``logging`` section, typed."""
        return model.logging_view(self.resolved, self.filename)

    def node(self, nodeid: int) -> model.Node:
        """The node with node id ``nodeid`` (KeyError without one)."""
        for node in self.nodelist:
            if node.nodeid == nodeid:
                return node
        raise KeyError(f"no node with nodeid {nodeid} in {self.filename}")

    # --- edits of the membership -------------------------------------------------------------

    def add_node(
        self,
        nodeid: int,
        name: str | None,
        addresses: Sequence[str] | Mapping[int, str],
        *,
        quorum_votes: int | None = None,
    ) -> model.Node:
        """Add a node (``nodeid``, ``name``, an address per link: a sequence for links 0,
        1, ... or a mapping by link number) after the last one and return it.

        The new ``node { }`` is laid out as the last node is: same indentation and
        separators, its keys in the same order (``nodeid``, ``name``, addresses,
        ``quorum_votes`` in a file without nodes). It must have a node id and a name no
        other node has, and the links the other nodes have (corosync refuses nodes with
        different numbers of links, and several links without names).
        """
        self._edit(lambda: membership.add_node(self, nodeid, name, addresses, quorum_votes))
        return self.node(nodeid)

    def remove_node(self, nodeid: int) -> None:
        """Remove the node with node id ``nodeid`` (KeyError without one), and the blank
        line that set it apart, if any."""
        self._edit(lambda: membership.remove_node(self, nodeid))

    def add_link(
        self,
        addresses: Mapping[int, str],
        *,
        linknumber: int | None = None,
        options: Mapping[str, str | int] | None = None,
    ) -> int:
        """Add a knet link (the lowest free link number, or ``linknumber``) and return its
        number: ``addresses`` gives every node's address on it, by node id; each node gets
        a ``ring<L>_addr`` line after its other addresses. ``options``
        (``knet_link_priority``...) go into a ``totem { interface { linknumber: L } }``.
        """
        return self._edit(lambda: membership.add_link(self, addresses, linknumber, options))

    def remove_link(self, linknumber: int) -> None:
        """Remove link ``linknumber``: every node's address on it and its interface
        section. The last link cannot go."""
        self._edit(lambda: membership.remove_link(self, linknumber))

    def _edit(self, change: Callable[[], _T]) -> _T:
        before = self.text()
        try:
            result = change()
        except BaseException:
            self._restore(before)
            raise
        self._changed()
        return result

    # --- validation -------------------------------------------------------------------------

    def validate(self) -> list[Problem]:
        """Every problem corosync would have with the file, by line (see :class:`Problem`)."""
        from .validate import validate

        return validate(self)


def parse(text: str, filename: str = "corosync.conf") -> Config:
    """Parse the text of a ``corosync.conf`` (:class:`ConfigError` if corosync refuses it)."""
    return Config(text, filename=filename)


def load(path: str | os.PathLike[str]) -> Config:
    """Read and parse the ``corosync.conf`` at ``path`` (bytes that are not UTF-8 are kept
    as they are)."""
    with open(path, "rb") as f:
        data = f.read()
    return Config(data.decode("utf-8", "surrogateescape"), filename=os.fspath(path))
