"""The text of corosync.conf (corosync.config): every file of corosync's own tree and man pages
written back byte for byte, lines read exactly as corosync's parser reads them, and what it
refuses named by line in its words."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from config_cases import BASE, CASES, SYNTAX_ERRORS, Case

import corosync.config
from corosync.config import Config, ConfigError, Entry, Section, Trivia

CORPUS = Path(__file__).parent / "data" / "corosync_conf"
FILES = sorted(p.name for p in CORPUS.iterdir() if p.name != "README.md")
#: The one text of the corpus corosync refuses: a man page's nodelist with a "...." line.
REFUSED = {"votequorum.5-380-386.conf": (6, "Line is not opening or closing section or key value")}


def test_the_corpus_holds_corosyncs_examples() -> None:
    assert len(FILES) == 20
    assert {"corosync.conf.example", "test_corosync.aug.conf"} <= set(FILES)


@pytest.mark.parametrize("name", [n for n in FILES if n not in REFUSED])
def test_every_corpus_file_is_written_back_byte_for_byte(name: str) -> None:
    data = (CORPUS / name).read_bytes()
    config = corosync.config.load(CORPUS / name)
    assert config.text().encode() == data
    assert str(config) == data.decode()
    # Every line is in the tree once, numbered as in the file.
    lines = data.decode().split("\n")[:-1]
    config.root.renumber()
    numbered = {}
    for item in config.root.walk():
        if isinstance(item, Section):
            numbered[item.lineno] = item.header
            numbered[item.end_lineno] = item.closer
        else:
            numbered[item.lineno] = item.text
    assert numbered == dict(enumerate(lines, 1))


def test_the_man_page_fragment_with_an_ellipsis_is_refused_at_its_line() -> None:
    [(name, (line, reason))] = REFUSED.items()
    with pytest.raises(ConfigError) as info:
        corosync.config.load(CORPUS / name)
    assert (info.value.line, info.value.reason) == (line, reason)
    assert str(info.value) == f"{CORPUS / name} line {line}: {reason}"


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.error not in SYNTAX_ERRORS], ids=lambda c: c.name
)
def test_texts_corosync_can_parse_are_written_back_unchanged(case: Case) -> None:
    assert corosync.config.parse(case.text).text() == case.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("totem {\n    token: 5000\n}\n", {"totem.token": "5000"}),
        # the section name: before the first brace, without blanks, colons or braces
        ("totem{\ntoken:5000\n}\n", {"totem.token": "5000"}),
        ("totem: {\n\ttoken : 5000\n}\n", {"totem.token": "5000"}),
        ("totem :{\ntoken\t:\t5000\t \n}\n", {"totem.token": "5000"}),
        # the value: everything after the first colon, comments and braces included
        ("logging {\n    logfile: C:/x # y }\n}\n", {"logging.logfile": "C:/x # y }"}),
        ("totem {\n    cluster_name: a:b::c\n}\n", {"totem.cluster_name": "a:b::c"}),
        ("totem {\n    cluster_name:\n}\n", {"totem.cluster_name": ""}),
        # comments take whole lines; blanks are spaces and tabs
        ("# c\n  \t# c\ntotem {\n#x: 1\n\n\t\n}\n", {}),
        # CRLF: one \r before the newline goes; the last line needs no newline
        ("totem {\r\n    token: 5000\r\n}", {"totem.token": "5000"}),
        ("totem {\n    token: 5000 \r\n}\n", {"totem.token": "5000"}),
        # corosync never drops a name's first character: ":" is a key, and a section
        (": x\n:: {\n}\n", {":": "x"}),
        # sections of the same name merge, the last value of a key counts
        (
            "totem {\ntoken: 1\n}\ntotem {\ntoken: 2\njoin: 60\n}\n",
            {"totem.token": "2", "totem.join": "60"},
        ),
        # a key with dots, a section with blanks: CMAP names as corosync builds them
        ("my section {\n    a.b: c\n}\n", {"my section.a.b": "c"}),
    ],
)
def test_lines_are_read_as_corosync_reads_them(text: str, expected: dict[str, str]) -> None:
    config = corosync.config.parse(text)
    assert {k: config.get(k) for k in config.keys()} == expected
    assert config.text() == text


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.error in SYNTAX_ERRORS], ids=lambda c: c.name
)
def test_what_the_parser_refuses_is_named_by_line_in_corosyncs_words(case: Case) -> None:
    with pytest.raises(ConfigError) as info:
        corosync.config.parse(case.text, "cluster.conf")
    assert (info.value.line, info.value.reason) == (case.line, case.error)
    assert str(info.value).startswith(f"cluster.conf line {case.line}: {case.error}")
    assert isinstance(info.value, ValueError)


def test_an_unclosed_section_is_named_with_its_line() -> None:
    with pytest.raises(
        ConfigError,
        match=r"line 4: Missing closing brace \(section"
        r" 'quorum.device' opened on line 4 is not closed\)",
    ):
        corosync.config.parse("quorum {\n    provider: corosync_votequorum\n\n    device {\n")


def test_a_stray_brace_says_no_section_is_open() -> None:
    with pytest.raises(ConfigError, match=r"line 3: Unexpected closing brace \(no section"):
        corosync.config.parse("totem {\n}\n}\n")


def test_line_length_counts_bytes_as_corosync_does() -> None:
    # 250 two-byte characters and 10 more bytes: 510 bytes fit, one more does not.
    fits = "a_key: " + "é" * 250 + "xxx"
    assert len(fits) == 260 and len(fits.encode()) == 510
    assert corosync.config.parse(fits + "\n").get("a_key") == "é" * 250 + "xxx"
    with pytest.raises(ConfigError, match="line 1: Line too long"):
        corosync.config.parse(fits + "x\n")


def test_the_tree_keeps_every_line_as_it_is() -> None:
    config = corosync.config.parse("# top\ntotem {\n\tversion : 2 \n\n}\n")
    comment, totem = config.root.items
    assert isinstance(comment, Trivia) and comment.is_comment and comment.lineno == 1
    assert isinstance(totem, Section) and (totem.name, totem.path, totem.lineno) == (
        "totem",
        "totem",
        2,
    )
    entry, blank = totem.items
    assert isinstance(entry, Entry) and isinstance(blank, Trivia) and not blank.is_comment
    assert (entry.key, entry.value, entry.prefix, entry.suffix) == (
        "version",
        "2",
        "\tversion : ",
        " ",
    )
    assert (entry.lineno, totem.end_lineno, entry.parent) == (3, 5, totem)
    assert totem.get("version") == "2" and totem.entries("token") == []
    assert repr(config) == "<corosync.config.Config 'corosync.conf', 5 lines>"


def test_bytes_that_are_not_utf8_survive_load_and_write(tmp_path: Path) -> None:
    path = tmp_path / "corosync.conf"
    data = BASE.encode().replace(b"cluster_name: test", b"cluster_name: t\xe9st")
    path.write_bytes(data)
    config = corosync.config.load(path)
    assert config.text().encode("utf-8", "surrogateescape") == data
    config.write(path)
    assert path.read_bytes() == data


def test_write_replaces_the_file_whole_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "corosync.conf"
    path.write_text("totem {\n}\n")
    os.chmod(path, 0o640)
    before = os.stat(path).st_ino
    config = Config(BASE)
    config.write(path)
    assert path.read_text() == BASE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert os.stat(path).st_ino != before  # a new file renamed over the old one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corosync.conf"]
    fresh = tmp_path / "new.conf"
    config.write(fresh)
    assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o644
