"""``python -m corosync cmap get|set|delete|list|stats|track`` on a one-node cluster, against
corosync-cmapctl on the same node: the same ``key (type) = value`` lines for every type, values
written by one read back by the other, the same changes tracked. Every --json document is
checked against the schema shipped in the package."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from cli_helpers import Streaming, cli, steady, tool
from example_processes import Program

from corosync import CMAP, ValueType
from corosync.testing import Cluster, Node

# One key per type, with the extreme values of the integer types; the string has a '='.
VALUES = {
    "i8": "-128",
    "u8": "255",
    "i16": "-32768",
    "u16": "65535",
    "i32": "-2147483648",
    "u32": "4294967295",
    "i64": "-9223372036854775808",
    "u64": "18446744073709551615",
    "flt": "1.5",
    "dbl": "-2.25",
    "str": "a = b, c",
}
BINARY = "bin\\ary\x01\x7f"  # printable ASCII, a backslash and two control bytes
_LINE = re.compile(r"(\S+) \((\w+)\)(?: = (.*))?")


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    """The node of a one-node cluster shared by the module."""
    with Cluster(1) as cluster:
        yield cluster.node(1)


def cmapctl(node: Node, *args: str) -> list[str]:
    return tool(node, "corosync-cmapctl", *args).splitlines()


def set_every_type(node: Node, prefix: str) -> list[str]:
    """Set one key of each type through the command line; their names, in order."""
    for name, value in VALUES.items():
        assert cli(node, "cmap", "set", f"{prefix}{name}", name, value).status == 0
    assert cli(node, "cmap", "set", f"{prefix}bin", "bin", "-", stdin=BINARY).status == 0
    return [f"{prefix}{name}" for name in [*VALUES, "bin"]]


def test_list_prints_what_cmapctl_prints(node: Node) -> None:
    shown, (text, js) = steady(
        lambda: cmapctl(node),
        lambda: (cli(node, "cmap", "list"), cli(node, "cmap", "list", "--json")),
        "the icmap map",
    )
    assert text.status == js.status == 0
    assert text.lines == shown
    doc = js.json("cmap_items")
    assert doc["map"] == "icmap"
    parsed = [_LINE.fullmatch(line) for line in shown]
    assert [(i["key"], i["type"]) for i in doc["items"]] == [(m[1], m[2]) for m in parsed if m]


def test_get_prints_every_type_as_cmapctl_does(node: Node, prefix: str) -> None:
    keys = set_every_type(node, prefix)
    got = cli(node, "cmap", "get", "-b", *keys)
    assert got.status == 0 and got.stderr == ""
    assert got.lines == cmapctl(node, "-b", "-g", *keys)
    assert got.lines[0] == f"{prefix}i8 (i8) = -128"
    assert got.lines[-1] == f"{prefix}bin (bin) = bin\\\\ary\\x01\\x7F"
    # Without -b, a binary value is not shown (cmapctl's default too).
    assert cli(node, "cmap", "get", keys[-1]).lines == cmapctl(node, "-g", keys[-1])


def test_get_json_gives_each_type_its_number_or_text(node: Node, prefix: str) -> None:
    keys = set_every_type(node, prefix)
    doc = cli(node, "cmap", "get", "--json", *keys).json("cmap_items")
    items = {item["key"][len(prefix) :]: (item["type"], item["value"]) for item in doc["items"]}
    expected: dict[str, tuple[str, object]] = {
        name: (name, int(value)) for name, value in VALUES.items() if name[0] in "iu"
    }
    expected |= {"flt": ("flt", 1.5), "dbl": ("dbl", -2.25), "str": ("str", VALUES["str"])}
    expected["bin"] = ("bin", {"base64": "YmluXGFyeQF/"})
    assert items == expected
    # --json before the command name works as well.
    assert cli(node, "--json", "cmap", "get", *keys).json("cmap_items") == doc


def test_what_cmapctl_sets_the_command_line_reads_and_back(node: Node, prefix: str) -> None:
    tool(node, "corosync-cmapctl", "-s", f"{prefix}by-tool", "u16", "513")
    doc = cli(node, "cmap", "get", "--json", f"{prefix}by-tool").json("cmap_items")
    assert doc["items"] == [{"key": f"{prefix}by-tool", "type": "u16", "value": 513}]
    set_ = cli(node, "cmap", "set", "--json", f"{prefix}by-cli", "i64", "-5")
    assert set_.json("cmap_items")["items"] == [
        {"key": f"{prefix}by-cli", "type": "i64", "value": -5}
    ]
    assert cmapctl(node, "-g", f"{prefix}by-cli") == [f"{prefix}by-cli (i64) = -5"]
    with node.connect(CMAP) as cmap:  # and the binding agrees with both
        assert cmap.get(f"{prefix}by-cli") == (ValueType.INT64, -5)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["u8", "256"], "value 256 is out of range for UINT8 (0 to 255)"),
        (["i8", "-129"], "value -129 is out of range for INT8 (-128 to 127)"),
        (["u32", "twelve"], "'twelve' is not a valid u32 value"),
        (["int", "1"], "unknown type 'int'; one of: i8, u8,"),
    ],
    ids=["u8-range", "i8-range", "not-a-number", "unknown-type"],
)
def test_set_refuses_a_bad_value_in_one_line_and_sets_nothing(
    node: Node, prefix: str, args: list[str], says: str
) -> None:
    line = cli(node, "cmap", "set", f"{prefix}k", *args).error_line()
    assert says in line
    assert node.run(["corosync-cmapctl", "-g", f"{prefix}k"]).returncode == 1


def test_delete_removes_keys_and_prefixes(node: Node, prefix: str) -> None:
    keys = set_every_type(node, prefix)
    assert cli(node, "cmap", "delete", keys[0]).status == 0
    gone = node.run(["corosync-cmapctl", "-g", keys[0]])
    assert gone.returncode == 1 and "CS_ERR_NOT_EXIST" in gone.stderr
    deleted = cli(node, "cmap", "delete", "--prefix", "--json", prefix).json("cmap_deleted")
    assert deleted == {
        "schema_version": 1,
        "kind": "cmap_deleted",
        "map": "icmap",
        "keys": sorted(keys[1:]),  # CMAP iterates in key order
    }
    assert node.run(["corosync-cmapctl", prefix]).stdout == ""
    line = cli(node, "cmap", "delete", keys[0]).error_line()
    assert f"no key '{keys[0]}'" in line


def test_list_of_an_unused_prefix_is_empty(node: Node, prefix: str) -> None:
    ran = cli(node, "cmap", "list", prefix)
    assert (ran.status, ran.stdout, ran.stderr) == (0, "", "")
    assert cli(node, "cmap", "list", "--json", prefix).json("cmap_items")["items"] == []


def test_stats_prints_the_stats_map_as_cmapctl_m_stats(node: Node) -> None:
    # knet's handle statistics hold still on an idle cluster without crypto or compression.
    stats = cli(node, "cmap", "stats", "stats.knet.handle.")
    assert stats.lines == cmapctl(node, "-m", "stats", "stats.knet.handle.")
    listed = cli(node, "cmap", "list", "--map", "stats", "stats.knet.handle.")
    assert listed.lines == stats.lines
    # The totem counters move: their keys and types are the same.
    doc = cli(node, "cmap", "stats", "--json", "stats.srp.").json("cmap_items")
    assert doc["map"] == "stats"
    shown = [_LINE.fullmatch(line) for line in cmapctl(node, "-m", "stats", "stats.srp.")]
    assert [(i["key"], i["type"]) for i in doc["items"]] == [(m[1], m[2]) for m in shown if m]


class Trackers:
    """corosync-cmapctl -T, ``cmap track --prefix`` and ``cmap track --prefix --json`` on the
    same prefix, all three tracking (a key poked until each has shown it)."""

    def __init__(self, node: Node, prefix: str) -> None:
        self.node, self.prefix = node, prefix
        # stdbuf: cmapctl's stdout is a pipe here, which stdio would buffer to the end.
        self.cmapctl = Program(node, ["stdbuf", "-oL", "corosync-cmapctl", "-T", prefix])
        self.text = Streaming(node, "cmap", "track", "--prefix", prefix)
        self.json = Streaming(node, "cmap", "track", "--json", "--prefix", prefix)
        with node.connect(CMAP) as cmap:
            deadline = time.monotonic() + 30
            for poke in range(1_000_000):
                assert time.monotonic() < deadline, "the trackers never showed a change"
                cmap.set(f"{prefix}ready", poke, ValueType.UINT32)
                for program in self.programs:
                    program.read(0.05)
                if all(any("ready" in line for line in p.lines) for p in self.programs):
                    break

    @property
    def programs(self) -> list[Program]:
        return [self.cmapctl, self.text, self.json]

    def changes(self, program: Program) -> list[str]:
        """A tracker's lines about other keys than the one poked."""
        return [
            line for line in program.lines if "ready" not in line and not line.startswith("Type")
        ]

    def close(self) -> None:
        for program in self.programs:
            program.close()


def test_track_prints_the_changes_cmapctl_t_prints(node: Node, prefix: str) -> None:
    trackers = Trackers(node, prefix)
    try:
        key = f"{prefix}k"
        tool(node, "corosync-cmapctl", "-s", key, "u32", "1")
        assert cli(node, "cmap", "set", key, "u32", "2").status == 0
        assert cli(node, "cmap", "delete", key).status == 0
        for program in trackers.programs:
            program.wait_for(rf"^delete> {re.escape(key)} |\"event\": \"delete\"")
        expected = [
            f"create> {key} (u32) = 1",
            f"modify> {key} (u32) = 2",
            f"delete> {key} (u32) = 2",
        ]
        assert trackers.changes(trackers.cmapctl) == expected
        assert trackers.changes(trackers.text) == expected
        changes = [d for d in trackers.json.documents("cmap_change") if d["key"] == key]
        assert [(d["event"], d["new"], d["old"]) for d in changes] == [
            ("add", {"type": "u32", "value": 1}, None),
            ("modify", {"type": "u32", "value": 2}, {"type": "u32", "value": 1}),
            ("delete", None, {"type": "u32", "value": 2}),
        ]
        assert trackers.text.stop() == trackers.json.stop() == 0  # SIGTERM: a normal end
        trackers.cmapctl.type("q")
        assert trackers.cmapctl.finish() == 0
    finally:
        trackers.close()


def test_track_ends_after_count_changes_or_the_timeout(node: Node, prefix: str) -> None:
    counted = Streaming(node, "cmap", "track", "--json", "--count", "2", f"{prefix}k")
    try:
        with node.connect(CMAP) as cmap:
            deadline = time.monotonic() + 30
            # Changes until it has seen two (it may miss the first ones, made before it
            # tracks) and exited by itself.
            for value in range(1_000_000):
                assert time.monotonic() < deadline, counted.lines
                cmap.set(f"{prefix}k", value % 256, ValueType.UINT8)
                counted.read(0.05)
                if counted.eof:
                    break
        assert counted.finish() == 0
        assert [doc["event"] for doc in counted.documents()] in (
            ["add", "modify"],
            ["modify", "modify"],
        )
    finally:
        counted.close()
    ended = Streaming(node, "cmap", "track", "--timeout", "0.2", f"{prefix}other")
    try:
        assert ended.finish() == 0 and ended.lines == []
    finally:
        ended.close()
