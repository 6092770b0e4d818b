"""The command line's encodings, without a daemon: the shipped JSON Schema itself, ring ids in
both spellings, text that is not UTF-8, corosync-cmapctl's value lines and the values
``cmap set`` takes; and what ``python -m corosync`` says when stdout goes away."""

from __future__ import annotations

import math
import subprocess
import sys

import jsonschema
import pytest
from cli_helpers import conforms

from corosync import RingId, ValueType
from corosync.cli import SCHEMA_PATH, SCHEMA_VERSION, load_schema
from corosync.cli.cmap_values import line, parse_value, value_json
from corosync.cli.errors import CliError
from corosync.cli.output import escaped, ring_id_json, text_json
from corosync.cmap import TypedValue
from corosync.testing import python_env


def test_the_schema_is_shipped_valid_and_versioned() -> None:
    assert SCHEMA_PATH.name == f"v{SCHEMA_VERSION}.json" and SCHEMA_PATH.is_file()
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    kinds = {ref["$ref"].rpartition("/")[2] for ref in schema["oneOf"]}
    for kind in kinds:  # each document kind fixes its kind and the version
        definition = schema["$defs"][kind]
        assert definition["properties"]["kind"] == {"const": kind}
        assert {"schema_version", "kind"} <= set(definition["required"])
    assert schema["$defs"]["schema_version"] == {"const": SCHEMA_VERSION}


def test_ring_ids_come_in_both_of_corosyncs_spellings() -> None:
    assert ring_id_json(RingId(1, 12)) == {
        "nodeid": 1,
        "seq": 12,
        "text": "1.c",  # corosync >= 3.0.3 (CS_PRI_RING_ID)
        "legacy_text": "1/12",  # corosync-quorumtool before
    }
    conforms(ring_id_json(RingId(0xABC, 2**64 - 1)), "ring_id")


def test_text_that_is_not_utf8_is_base64_in_json_and_escaped_in_text() -> None:
    assert text_json("grüße") == "grüße"
    assert text_json(b"\xff\x00a") == {"base64": "/wBh"}
    assert escaped(b"a\\b\x00\xff~") == "a\\\\b\\x00\\xFF~"
    assert escaped("grüße\n\\") == "grüße\\x0A\\\\"


@pytest.mark.parametrize(
    ("typed", "shown", "as_json"),
    [
        (TypedValue(ValueType.UINT64, 2**64 - 1), "k (u64) = 18446744073709551615", 2**64 - 1),
        (TypedValue(ValueType.FLOAT, 0.1), "k (flt) = 0.100000", 0.1),
        (TypedValue(ValueType.DOUBLE, math.nan), "k (dbl) = nan", None),
        (TypedValue(ValueType.STRING, "x = y"), "k (str) = x = y", "x = y"),
        (TypedValue(ValueType.STRING, b"\xfe"), "k (str) = \\xFE", {"base64": "/g=="}),
        (TypedValue(ValueType.BINARY, b"\x01a"), "k (bin)", {"base64": "AWE="}),
    ],
    ids=["u64", "flt", "nan", "str", "str-not-utf8", "bin"],
)
def test_values_print_as_cmapctl_prints_them(
    typed: TypedValue, shown: str, as_json: object
) -> None:
    assert line("k", typed) == shown
    assert value_json(typed) == as_json
    conforms(value_json(typed), "value")


def test_binary_values_show_with_the_binary_option() -> None:
    assert line("k", TypedValue(ValueType.BINARY, b"\x01a\\"), show_binary=True) == (
        "k (bin) = \\x01a\\\\"
    )


def test_set_takes_cmapctls_types_and_refuses_others() -> None:
    assert parse_value("i16", "-3") == (ValueType.INT16, -3)
    assert parse_value("dbl", "2.5") == (ValueType.DOUBLE, 2.5)
    assert parse_value("str", "a b") == (ValueType.STRING, "a b")
    with pytest.raises(CliError, match=r"^'1.5' is not a valid u8 value$"):
        parse_value("u8", "1.5")
    with pytest.raises(CliError, match=r"^unknown type 'string'; one of: i8, u8, i16"):
        parse_value("string", "x")


@pytest.mark.parametrize("args", [["cmap", "--help"], ["--help"]])
def test_a_closed_stdout_ends_the_command_quietly(args: list[str]) -> None:
    # As under `| head -1` once head has gone: no traceback, no complaint, exit status 0.
    program = (
        "import os, sys\n"
        "read_end, write_end = os.pipe()\n"
        "os.close(read_end)\n"
        "os.dup2(write_end, 1)\n"
        "from corosync.cli import main\n"
        f"sys.exit(main({args!r}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=python_env()
    )
    assert (proc.returncode, proc.stderr) == (0, "")
