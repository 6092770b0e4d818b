"""The text of a ``corosync.conf``: a lossless tree, its parser and its writer.

The parser accepts exactly what corosync 3.1's own (``parse_section`` in exec/coroparse.c)
accepts, and reports what it refuses with corosync's words and line number. Its rules:

* The file is read line by line (``fgets`` into 512 bytes): a line may hold at most 510 bytes
  besides its newline, else "Line too long". A ``\\n`` ends a line; one ``\\r`` before it is
  dropped (CRLF files work), then trailing spaces and tabs. The last line needs no newline.
* A line that is empty, or whose first character other than space or tab is ``#``, is
  ignored: comments take whole lines; a ``#`` after a value is part of the value.
* Whitespace is spaces and tabs only.
* A line that holds a ``{`` anywhere opens a section: its name is what comes before the first
  ``{``, without surrounding whitespace or trailing ``:``/``{`` (``totem {``, ``totem{`` and
  ``totem: {`` all open ``totem``); nothing may follow the brace.
* Else a line that holds a ``:`` is a key and its value: the key is what comes before the
  first ``:``, the value all the rest without surrounding whitespace, colons, ``}`` and ``#``
  included (``logfile: C:\\x # y`` has the value ``C:\\x # y``). ``key : value`` is the same.
* Else a line that holds a ``}`` must be exactly ``}`` (whitespace aside) and closes the
  innermost open section; a ``}`` at the top level, a section left open at the end of the
  file, or any other line is an error.
* Sections, keys, duplicates and order are all kept. corosync 3 has no ``include``.

The tree keeps every byte: each physical line is one :class:`Entry`, :class:`Trivia`
(comment or blank), section header or section closer, holding its text verbatim, so
:meth:`Section.render` gives back the parsed text unchanged, and an edit changes only the lines it
touches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["MAX_LINE_BYTES", "ConfigError", "Entry", "Item", "Section", "Trivia", "parse_tree"]

#: corosync reads a line into a 512-byte buffer: at most 510 bytes and the newline fit.
MAX_LINE_BYTES = 510

_BLANKS = " \t"


class ConfigError(ValueError):
    """A ``corosync.conf`` that corosync cannot read, or an edit that would make one.

    ``line`` is the 1-based line number corosync reports (0 when the problem is not on one
    line), ``reason`` corosync's own words for it where it has them, ``filename`` the name
    the text was parsed under. ``str()`` gives ``"<filename> line <n>: <message>"``.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int = 0,
        filename: str = "corosync.conf",
        reason: str | None = None,
    ) -> None:
        where = f"{filename} line {line}" if line else filename
        super().__init__(f"{where}: {message}")
        self.line = line
        self.filename = filename
        self.reason = reason if reason is not None else message


@dataclass(eq=False)
class Entry:
    """One ``key: value`` line. ``key`` and ``value`` are what corosync reads from it;
    the line's own text (indentation, separator, trailing blanks) is ``prefix + value +
    suffix``. ``lineno`` is its 1-based line number, kept current through edits."""

    key: str
    value: str
    prefix: str
    suffix: str
    eol: str = "\n"
    lineno: int = 0
    parent: Section | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        """The line as it stands in the file, without its newline."""
        return self.prefix + self.value + self.suffix


@dataclass(eq=False)
class Trivia:
    """A line corosync ignores: blank, or a comment (first non-blank character ``#``)."""

    text: str
    eol: str = "\n"
    lineno: int = 0
    parent: Section | None = field(default=None, repr=False)

    @property
    def is_comment(self) -> bool:
        """Whether the line is a comment rather than blank."""
        return self.text.lstrip(_BLANKS).startswith("#")


@dataclass(eq=False)
class Section:
    """A section: ``name {`` (``header``), its items, and the closing ``}`` line
    (``closer``). The root of a tree is a section with the name ``""`` and neither line.
    ``lineno`` and ``end_lineno`` are the lines of the header and of the closer."""

    name: str
    header: str = ""
    closer: str = "}"
    header_eol: str = "\n"
    closer_eol: str = "\n"
    items: list[Item] = field(default_factory=list)
    lineno: int = 0
    end_lineno: int = 0
    parent: Section | None = field(default=None, repr=False)

    @property
    def is_root(self) -> bool:
        """Whether this is the tree's root (the file itself)."""
        return self.parent is None

    @property
    def path(self) -> str:
        """The dotted names of the sections down to this one (``"quorum.device"``)."""
        names: list[str] = []
        section: Section | None = self
        while section is not None and not section.is_root:
            names.append(section.name)
            section = section.parent
        return ".".join(reversed(names))

    def entries(self, key: str | None = None) -> list[Entry]:
        """The section's own ``key: value`` lines, all or those of ``key``, in order."""
        return [i for i in self.items if isinstance(i, Entry) and key in (None, i.key)]

    def sections(self, name: str | None = None) -> list[Section]:
        """The section's direct subsections, all or those called ``name``, in order."""
        return [i for i in self.items if isinstance(i, Section) and name in (None, i.name)]

    def get(self, key: str) -> str | None:
        """The value of ``key`` in this section itself: the last one, as corosync keeps
        the last of duplicate keys; None without one."""
        found = self.entries(key)
        return found[-1].value if found else None

    def walk(self) -> Iterator[Item]:
        """Every item below this section, depth first, in file order."""
        for item in self.items:
            yield item
            if isinstance(item, Section):
                yield from item.walk()

    def lines(self) -> Iterator[tuple[str, str]]:
        """(text, newline) of every line of the section, in order."""
        if not self.is_root:
            yield self.header, self.header_eol
        for item in self.items:
            if isinstance(item, Section):
                yield from item.lines()
            else:
                yield item.text, item.eol
        if not self.is_root:
            yield self.closer, self.closer_eol

    def render(self) -> str:
        """The section's text, every line as it stands."""
        return "".join(text + eol for text, eol in self.lines())

    def renumber(self, start: int = 1) -> int:
        """Set ``lineno`` of every line from ``start`` on; return the next line number."""
        number = start
        if not self.is_root:
            self.lineno, number = number, number + 1
        for item in self.items:
            if isinstance(item, Section):
                number = item.renumber(number)
            else:
                item.lineno, number = number, number + 1
        if not self.is_root:
            self.end_lineno, number = number, number + 1
        return number


#: What a section holds, line by line.
Item = Entry | Trivia | Section


def _trim(text: str, also: str = "") -> str:
    # coroparse's remove_whitespace(): leading blanks, then trailing blanks (and, for names,
    # colons and braces), but never the first character left (its loop stops at "start").
    text = text.lstrip(_BLANKS)
    drop = _BLANKS + also
    end = len(text)
    while end > 1 and text[end - 1] in drop:
        end -= 1
    return text[:end]


def _skip_blanks(text: str, at: int) -> int:
    # coroparse's strchr_rs(): the position after the character at ``at`` and any blanks.
    at += 1
    while at < len(text) and text[at] in _BLANKS:
        at += 1
    return at


def _too_long(section: Section, name: str) -> bool:
    # CMAP key names have at most 255 bytes (ICMAP_KEYNAME_MAXLEN); corosync counts a
    # separating dot even at the top level.
    length = len(section.path.encode("utf-8", "surrogateescape"))
    return length + len(name.encode("utf-8", "surrogateescape")) + 1 >= 255


def _content(raw: str, eol: str) -> str | None:
    """What corosync parses of a line (None: it refuses the line as too long)."""
    if len(raw.encode("utf-8", "surrogateescape")) > MAX_LINE_BYTES:
        return None
    if "\0" in raw:
        # fgets() reads past a NUL but strlen() stops at it: the newline looks missing,
        # which corosync takes for an overlong line unless the line was empty to there or
        # is the file's last, unterminated one.
        raw = raw[: raw.index("\0")]
        if raw and eol:
            return None
    return raw[:-1] if raw.endswith("\r") else raw


def parse_tree(text: str, filename: str = "corosync.conf") -> Section:
    """Parse ``text`` into a tree rooted at a :class:`Section` named ``""``.

    Raises :class:`ConfigError` with corosync's message and line number for a text corosync
    would refuse to read.
    """
    root = Section("", header="", closer="", header_eol="", closer_eol="")
    stack = [root]
    parts = text.split("\n")
    lines = [(p, "\n") for p in parts[:-1]] + ([(parts[-1], "")] if parts[-1] else [])

    def fail(reason: str, lineno: int, hint: str = "") -> ConfigError:
        return ConfigError(reason + hint, line=lineno, filename=filename, reason=reason)

    for lineno, (raw, eol) in enumerate(lines, 1):
        current = stack[-1]
        content = _content(raw, eol)
        if content is None:
            raise fail(
                "Line too long",
                lineno,
                f" (corosync reads at most {MAX_LINE_BYTES}"
                " bytes of a line, up to the first NUL byte)",
            )
        line = content.rstrip(_BLANKS)
        stripped = line.lstrip(_BLANKS)
        if not stripped or stripped.startswith("#"):
            current.items.append(Trivia(raw, eol, lineno, current))
            continue
        if "{" in line:
            after = _skip_blanks(line, line.index("{"))
            name = _trim(line[: after - 1], ":{")
            if not name:
                raise fail("Missing section name before opening bracket '{'", lineno)
            if _trim(line[after:]):
                raise fail("Extra characters after opening bracket '{'", lineno)
            if _too_long(current, name):
                raise fail("Start of section makes total cmap path too long", lineno)
            section = Section(name, header=raw, header_eol=eol, lineno=lineno, parent=current)
            current.items.append(section)
            stack.append(section)
        elif ":" in line:
            after = _skip_blanks(line, line.index(":"))
            key = _trim(line[: after - 1], ":{")
            value = line[after:]
            if _too_long(current, key):
                raise fail("New key makes total cmap path too long", lineno)
            current.items.append(
                Entry(key, value, raw[:after], raw[after + len(value) :], eol, lineno, current)
            )
        elif "}" in line:
            if _trim(line) != "}":
                raise fail("Extra characters before or after closing bracket '}'", lineno)
            if current.is_root:
                raise fail("Unexpected closing brace", lineno, " (no section is open)")
            current.closer, current.closer_eol, current.end_lineno = raw, eol, lineno
            stack.pop()
        else:
            raise fail("Line is not opening or closing section or key value", lineno)
    if len(stack) > 1:
        open_section = stack[-1]
        raise fail(
            "Missing closing brace",
            len(lines),
            f" (section '{open_section.path}' opened on line {open_section.lineno} is not closed)",
        )
    return root
