"""Edits of a ``corosync.conf`` tree that leave every other line as it was.

New lines look like their neighbours: a new key takes the indentation and the separator
(``key: value``, ``key : value``, ``key:value``) of the keys around it; a new section's
indentation is its siblings', or its parent's plus the file's own indentation step (the
first one found in the file: a tab, 4 spaces...; 4 spaces in a file without any); a CRLF
file gets CRLF lines. A key goes after the last key of its section (before its
subsections), a section at the end of its parent, a top-level section after a blank line.
Names that edits write are CMAP names without dots (``a-z A-Z 0-9 _ - /``); values may not
hold a newline, a ``{`` (it would open a section), a NUL, or leading or trailing blanks
(corosync would drop them), and a line may not grow beyond 510 bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .syntax import MAX_LINE_BYTES, Entry, Item, Section, Trivia

__all__ = [
    "add_entry",
    "add_section",
    "check_line",
    "check_name",
    "check_value",
    "fix_newlines",
    "indent_of",
    "insert",
    "lines_of",
    "make_entry",
    "remove",
]

_NAME = re.compile(r"[A-Za-z0-9_/-]+")
_DEFAULT_STEP = "    "


def check_name(name: str, what: str = "name") -> str:
    """``name`` if edits may write it as a key or section name, else ValueError."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"invalid {what} {name!r}: use letters, digits, '_', '-', '/'")
    return name


def check_value(key: str, value: str | int) -> str:
    """The text of ``value`` for ``key``, or ValueError/TypeError if no line can hold it."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(
            f"the value of {key} must be a str or an int, not {type(value).__name__} (corosync"
            " spells yes/no keys 'yes'/'no' and votequorum's flags 1/0: write which)"
        )
    text = str(value)
    if any(c in text for c in "\n\r{\0"):
        raise ValueError(f"invalid character in the value of {key}: {text!r}")
    if text != text.strip(" \t"):
        raise ValueError(f"the value of {key} may not begin or end with blanks: {text!r}")
    return text


def lines_of(item: Item) -> Iterator[tuple[str, str]]:
    """(text, newline) of each line of ``item``."""
    if isinstance(item, Section):
        yield from item.lines()
    else:
        yield item.text, item.eol


def _leading(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" \t"))]


def _line_text(item: Item) -> str:
    return item.header if isinstance(item, Section) else item.text


def _root(section: Section) -> Section:
    while section.parent is not None:
        section = section.parent
    return section


def _step(root: Section) -> str:
    # The file's indentation step: the first section whose items are indented deeper.
    for item in root.walk():
        if isinstance(item, Section):
            outer = _leading(item.header)
            for inner in item.items:
                if isinstance(inner, Entry | Section):
                    deeper = _leading(_line_text(inner))
                    if deeper.startswith(outer) and len(deeper) > len(outer):
                        return deeper[len(outer) :]
    return _DEFAULT_STEP


def _crlf(root: Section) -> str:
    texts = [text for text, eol in root.lines() if eol]
    return "\r" if texts and sum(t.endswith("\r") for t in texts) * 2 > len(texts) else ""


def indent_of(section: Section) -> str:
    """The indentation of a new item of ``section``: its last item's, else one step more
    than its header's."""
    for item in reversed(section.items):
        if isinstance(item, Entry | Section):
            return _leading(_line_text(item))
    if section.is_root:
        return ""
    return _leading(section.header) + _step(_root(section))


def _separator(section: Section) -> str:
    for entries in (section.entries(), [i for i in _root(section).walk() if isinstance(i, Entry)]):
        for entry in reversed(entries):
            separator = entry.prefix[len(_leading(entry.prefix)) + len(entry.key) :]
            if separator.strip(" \t") == ":":
                return separator
    return ": "


def check_line(text: str) -> str:
    """``text`` if a line of it fits in corosync's line buffer, else ValueError."""
    if len(text.encode("utf-8", "surrogateescape")) > MAX_LINE_BYTES:
        raise ValueError(f"a line of more than {MAX_LINE_BYTES} bytes: {text[:60]!r}...")
    return text


def make_entry(section: Section, key: str, value: str, like: Entry | None = None) -> Entry:
    """A new line ``key: value`` for ``section``, formatted like ``like`` (a line of the same
    section) or like the section's other keys."""
    cr = _crlf(_root(section))
    if like is not None:
        indent = _leading(like.prefix)
        separator = like.prefix[len(indent) + len(like.key) :]
    else:
        indent, separator = indent_of(section), _separator(section)
    check_line(indent + key + separator + value + cr)
    return Entry(key, value, indent + key + separator, cr, "\n", 0, section)


def insert(section: Section, index: int, item: Item) -> None:
    """Put ``item`` into ``section`` at ``index``."""
    item.parent = section
    section.items.insert(index, item)


def add_entry(section: Section, key: str, value: str) -> Entry:
    """Add ``key: value`` to ``section`` after its last key (before its subsections)."""
    entry = make_entry(section, key, value)
    keys = [n for n, i in enumerate(section.items) if isinstance(i, Entry)]
    subsections = [n for n, i in enumerate(section.items) if isinstance(i, Section)]
    if keys:
        index = keys[-1] + 1
    elif subsections:
        index = subsections[0]
    else:
        index = len(section.items)
    insert(section, index, entry)
    return entry


def add_section(parent: Section, name: str, index: int | None = None) -> Section:
    """Add an empty section ``name { }`` to ``parent`` (at its end by default); a top-level
    one after a blank line."""
    cr = _crlf(_root(parent))
    indent = indent_of(parent)
    section = Section(name, header=check_line(f"{indent}{name} {{{cr}"), closer=f"{indent}}}{cr}")
    if index is None:
        index = len(parent.items)
        if parent.is_root and parent.items:
            last = parent.items[-1]
            if not (isinstance(last, Trivia) and not last.is_comment):
                insert(parent, index, Trivia(cr))
                index += 1
    insert(parent, index, section)
    return section


def remove(item: Item) -> None:
    """Take ``item`` out of the tree, and a blank line before it when it was set apart
    from what comes before by one and nothing of its section follows it."""
    section = item.parent
    assert section is not None
    index = section.items.index(item)
    del section.items[index]
    before = section.items[index - 1] if index > 0 else None
    after = section.items[index] if index < len(section.items) else None
    if (
        isinstance(before, Trivia)
        and not before.is_comment
        and index > 1
        and (after is None or (isinstance(after, Trivia) and not after.is_comment))
    ):
        del section.items[index - 1]


def fix_newlines(root: Section) -> None:
    """Give every line but the file's last a newline (an edit may have put lines after a
    last line that had none), a CRLF one in a CRLF file."""
    cr = _crlf(root)
    holders = list(_newline_holders(root))
    for holder, attribute in holders[:-1]:
        if getattr(holder, attribute):
            continue
        setattr(holder, attribute, "\n")
        if isinstance(holder, Entry):
            holder.suffix += cr if not holder.suffix.endswith("\r") else ""
        elif isinstance(holder, Trivia):
            holder.text += cr if not holder.text.endswith("\r") else ""
        else:
            text = "header" if attribute == "header_eol" else "closer"
            if not getattr(holder, text).endswith("\r"):
                setattr(holder, text, getattr(holder, text) + cr)


def _newline_holders(section: Section) -> Iterator[tuple[Item, str]]:
    if not section.is_root:
        yield section, "header_eol"
    for item in section.items:
        if isinstance(item, Section):
            yield from _newline_holders(item)
        else:
            yield item, "eol"
    if not section.is_root:
        yield section, "closer_eol"
