"""Hand-written ``corosync.conf`` texts, broken and odd, with what corosync 3.1.7 says of
them: the validation tests and the ``corosync -t`` agreement tests share this table.

Each :class:`Case` is :data:`BASE` (a valid two-node knet cluster) with a change, and the
error ``corosync -t`` prints for it (None: it accepts the file) with, for a parser error,
the line it names. The ``line`` of every case is the line our validation names too.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BASE", "CASES", "SYNTAX_ERRORS", "Case"]

#: What corosync's parser says of a text it cannot read at all (corosync.config.parse raises).
SYNTAX_ERRORS = frozenset(
    {
        "Missing closing brace",
        "Unexpected closing brace",
        "Extra characters after opening bracket '{'",
        "Missing section name before opening bracket '{'",
        "Extra characters before or after closing bracket '}'",
        "Line is not opening or closing section or key value",
        "Line too long",
        "New key makes total cmap path too long",
        "Start of section makes total cmap path too long",
    }
)

BASE = """\
totem {
    version: 2
    cluster_name: test
}

nodelist {
    node {
        nodeid: 1
        name: n1
        ring0_addr: 10.0.0.1
    }
    node {
        nodeid: 2
        name: n2
        ring0_addr: 10.0.0.2
    }
}
"""


def _replace(old: str, new: str, count: int = 1) -> str:
    assert BASE.count(old) >= count, old
    return BASE.replace(old, new, count)


def _totem(*lines: str) -> str:
    return _replace(
        "    cluster_name: test\n",
        "    cluster_name: test\n" + "".join(f"    {line}\n" for line in lines),
    )


def _append(text: str) -> str:
    return BASE + text


_NODE2 = "        ring0_addr: 10.0.0.2\n"


@dataclass(frozen=True)
class Case:
    """A text and what corosync -t says of it: ``error`` (None: accepted) on ``line``."""

    name: str
    text: str
    error: str | None
    line: int = 0


CASES = [
    # --- what corosync's parser refuses ------------------------------------------------------
    Case("missing closing brace", BASE[: BASE.rindex("}")], "Missing closing brace", 16),
    Case("unexpected closing brace", _append("}\n"), "Unexpected closing brace", 18),
    Case(
        "text after an opening brace",
        _replace("totem {", "totem { version: 2"),
        "Extra characters after opening bracket '{'",
        1,
    ),
    Case(
        "a brace without a section name",
        _append("{\n}\n"),
        "Missing section name before opening bracket '{'",
        18,
    ),
    Case(
        "text after a closing brace",
        _replace("    }\n}", "    }\n} x"),
        "Extra characters before or after closing bracket '}'",
        17,
    ),
    Case(
        "a line that is no key, section or brace",
        _totem("token 5000"),
        "Line is not opening or closing section or key value",
        4,
    ),
    Case(
        "include (corosync 3 has none)",
        _append("include /etc/corosync/other.conf\n"),
        "Line is not opening or closing section or key value",
        18,
    ),
    Case("a line of 511 bytes", _totem("cluster_name2: " + "x" * 492), "Line too long", 4),
    Case("a NUL byte inside a line", _totem("token: 50\x0000"), "Line too long", 4),
    Case(
        "a key path over 255 bytes",
        _totem("k" * 250 + ": v"),
        "New key makes total cmap path too long",
        4,
    ),
    Case(
        "a key name CMAP refuses",
        _append("ab: c\n"),
        'Can\'t store key "ab" into icmap, returned error is CS_ERR_NAME_TOO_LONG',
        18,
    ),
    Case(
        "a comment after a number",
        _totem("token: 5000 # ms"),
        'Value of key "totem.token" is expected to be integer in range (0..4294967295), but'
        ' "5000 # ms" was given',
        4,
    ),
    Case(
        "a negative token",
        _totem("token: -1"),
        'Value of key "totem.token" is expected to be integer in range (0..4294967295), but'
        ' "-1" was given',
        4,
    ),
    Case(
        "a nodeid that is no number",
        _replace("nodeid: 2", "nodeid: two"),
        'Value of key "nodelist.node.1.nodeid" is expected to be integer in range'
        ' (0..4294967295), but "two" was given',
        13,
    ),
    Case(
        "a port beyond 16 bits",
        _totem("interface {", "    mcastport: 70000", "}"),
        'Value of key "totem.interface.mcastport" is expected to be integer in range'
        ' (0..65535), but "70000" was given',
        5,
    ),
    Case("an unknown ip_version", _totem("ip_version: ipv5"), "Invalid ip_version type", 4),
    Case(
        "an unknown cipher",
        _totem("crypto_cipher: aes512"),
        "Invalid cipher type. Should be none, aes256, aes192 or aes128",
        4,
    ),
    Case(
        "compression model none",
        _totem("knet_compression_model: none"),
        "Invalid compression model. Should be zlib, lz4, lz4hc, lzo2, lzma, bzip2 or zstd",
        4,
    ),
    Case(
        "an unknown sched_rr",
        _append("system {\n    sched_rr: maybe\n}\n"),
        "Invalid system.sched_rr value",
        19,
    ),
    Case(
        "a uidgid key other than uid and gid",
        _append("uidgid {\n    user: 0\n}\n"),
        "uidgid: Only uid and gid are allowed items",
        19,
    ),
    Case(
        "a logger_subsys without subsys",
        _append("logging {\n    logger_subsys {\n        debug: on\n    }\n}\n"),
        "No subsys key in logger_subsys directive",
        21,
    ),
    Case(
        "a config_version that is no number",
        _totem("config_version: abc"),
        "Assertion `safe_atoq_range(val_type, &min_val, &max_val) == 0' failed.",
        4,
    ),
    # --- what corosync's logging refuses -------------------------------------------------------
    Case(
        "to_syslog maybe",
        _append("logging {\n    to_syslog: maybe\n}\n"),
        "parse error in config: unknown value for to_syslog.",
        19,
    ),
    Case(
        "an unknown syslog facility",
        _append("logging {\n    syslog_facility: local9\n}\n"),
        "parse error in config: unknown syslog facility specified.",
        19,
    ),
    Case(
        "an unknown logfile priority",
        _append("logging {\n    logfile_priority: loud\n}\n"),
        "parse error in config: unknown logfile priority specified.",
        19,
    ),
    Case(
        "an unknown timestamp",
        _append("logging {\n    timestamp: sometimes\n}\n"),
        "parse error in config: unknown value for timestamp.",
        19,
    ),
    Case(
        "a subsystem's debug maybe",
        _append(
            "logging {\n    logger_subsys {\n        subsys: CPG\n        debug: maybe\n    }\n}\n"
        ),
        "parse error in config: unknown value for debug.",
        21,
    ),
    # --- what totem refuses -------------------------------------------------------------------
    Case(
        "no version",
        _replace("    version: 2\n", ""),
        "parse error in config: This totem parser can only parse version 2 configurations.",
        1,
    ),
    Case(
        "version 3",
        _replace("version: 2", "version: 3"),
        "parse error in config: This totem parser can only parse version 2 configurations.",
        2,
    ),
    Case(
        "an unknown transport",
        _totem("transport: tcp"),
        "Invalid transport type. Should be udpu, udp or knet",
        4,
    ),
    Case(
        "a cipher without a hash",
        _totem("crypto_cipher: aes256"),
        "crypto_cipher requires crypto_hash with value other than none",
        4,
    ),
    Case(
        "crypto over udpu",
        _totem("transport: udpu", "crypto_cipher: aes256", "crypto_hash: sha256"),
        "parse error in config: crypto_cipher & crypto_hash are only valid for the Knet transport.",
        5,
    ),
    Case(
        "an unknown link_mode",
        _totem("link_mode: fast"),
        'parse error in config: The Knet link mode "fast" specified is invalid.  It must be'
        " active, passive or rr.",
        4,
    ),
    Case(
        "a node without nodeid",
        _replace("        nodeid: 2\n", ""),
        "Knet requires an explicit nodeid to be specified for address '10.0.0.2'.",
        14,
    ),
    Case(
        "a nodeid beyond knet's",
        _replace("nodeid: 2", "nodeid: 70000"),
        "Knet requires nodeid to be less than 65536 for address '10.0.0.2'.",
        13,
    ),
    Case(
        "a nodeid twice",
        _replace("nodeid: 2", "nodeid: 1"),
        "Nodeid 1 appears twice in corosync.conf",
        13,
    ),
    Case(
        "link 8",
        _replace(_NODE2, _NODE2 + "        ring8_addr: 10.8.0.2\n"),
        "parse error in config: interface ring number 8 is bigger than allowed maximum 7",
        16,
    ),
    Case(
        "an address that is none",
        _replace("10.0.0.2", "10.0.0.300"),
        "failed to parse node address '10.0.0.300'",
        15,
    ),
    Case(
        "IPv4 and IPv6 on one link",
        _replace("10.0.0.2", "fd00::2"),
        "parse error in config: Nodes for link 0 have different IP families (compared fd00::2"
        " with 10.0.0.1)",
        15,
    ),
    Case(
        "two links, a node without name",
        _replace(
            "        ring0_addr: 10.0.0.1\n",
            "        ring0_addr: 10.0.0.1\n        ring1_addr: 10.1.0.1\n",
        ).replace("        name: n2\n" + _NODE2, _NODE2 + "        ring1_addr: 10.1.0.2\n"),
        "parse error in config: for a multi-link configuration, all nodes must have a 'name'"
        " attribute",
    ),
    Case(
        "a second link on one node only",
        _replace(
            "        ring0_addr: 10.0.0.1\n",
            "        ring0_addr: 10.0.0.1\n        ring1_addr: 10.1.0.1\n",
        ),
        "parse error in config: Not all nodes have the same number of links",
    ),
    Case(
        "two links over udpu",
        _totem("transport: udpu")
        .replace(
            "        ring0_addr: 10.0.0.1\n",
            "        ring0_addr: 10.0.0.1\n        ring1_addr: 10.1.0.1\n",
        )
        .replace(_NODE2, _NODE2 + "        ring1_addr: 10.1.0.2\n"),
        "parse error in config: 2 is too many configured interfaces for non-Knet transport.",
    ),
    Case(
        "a token below 30 ms",
        _totem("token: 20"),
        "parse error in config: The token timeout parameter (20 ms) may not be less than (30 ms).",
        4,
    ),
    Case(
        "a token too short to retransmit",
        _totem("token: 100", "token_retransmits_before_loss_const: 10"),
        "parse error in config: Not appropriate token or token_retransmits_before_loss_const"
        " value set",
        4,
    ),
    Case(
        "a join longer than the consensus",
        _totem("join: 5000"),
        "parse error in config: The consensus timeout parameter (3600 ms) may not be less than"
        " join timeout (5000 ms).",
        4,
    ),
    Case(
        "a token_warning over 100",
        _totem("token_warning: 150"),
        "parse error in config: The token warning parameter (150%) must be between 0"
        " (disabled) and 100.",
        4,
    ),
    Case(
        "an unknown knet_transport",
        _totem("interface {", "    knet_transport: tcp", "}"),
        "Unrecognised knet_transport. expected 'udp' or 'sctp'",
        5,
    ),
    Case(
        "a ttl with knet",
        _totem("interface {", "    ttl: 5", "}"),
        "parse error in config: Can only set ttl on multicast transport types for interface 0",
        5,
    ),
    Case(
        "an interface of link 9",
        _totem("interface {", "    linknumber: 9", "    knet_link_priority: 2", "}"),
        "parse error in config: interface ring number 9 is bigger than allowed maximum 7",
        6,
    ),
    Case(
        "a link priority with udpu",
        _totem("transport: udpu", "interface {", "    knet_link_priority: 2", "}"),
        "parse error in config: Can only set link priority on knet transport type for interface 0",
        6,
    ),
    Case(
        "no nodelist",
        BASE[: BASE.index("nodelist")],
        "parse error in config: No interfaces defined",
    ),
    Case(
        "nodes without addresses",
        BASE.replace("        ring0_addr: 10.0.0.1\n", "").replace(_NODE2, ""),
        "parse error in config: No interfaces defined",
        6,
    ),
    # --- what corosync accepts --------------------------------------------------------------
    Case("the base", BASE, None),
    Case(
        "braces and colons every way",
        _replace("totem {", "totem: {")
        .replace("version: 2", "version :2")
        .replace("cluster_name: test", "cluster_name:\ttest  "),
        None,
    ),
    Case("CRLF and no final newline", BASE.replace("\n", "\r\n")[:-2], None),
    Case("a value with # and }", _replace("cluster_name: test", "cluster_name: a#b}c"), None),
    Case("indented comments and blank lines", _replace("{\n", "{\n\t  # comment\n\n"), None),
    Case("a line of 510 bytes", _totem("cluster_name2: " + "x" * 491), None),
    Case("a line that starts with a NUL byte", _replace("}\n\n", "}\n\x00token: 5000\n"), None),
    Case("a NUL byte in an unterminated last line", _append("my_key: v\x00junk"), None),
    Case("a key given twice", _totem("token: 5000", "token: 3000"), None),
    Case("a key corosync does not know", _totem("tokem: 5000"), None),
    Case(
        "udpu making node ids",
        _totem("transport: udpu")
        .replace("        nodeid: 1\n", "")
        .replace("        nodeid: 2\n", ""),
        None,
    ),
    Case("a section corosync does not know", _append("my_tool {\n    setting: 1\n}\n"), None),
    Case(
        "two_node with a quorum device",
        _append(
            "quorum {\n    provider: corosync_votequorum\n    two_node: 1\n"
            "    device {\n        model: net\n    }\n}\n"
        ),
        None,
    ),
    Case("an unknown quorum provider", _append("quorum {\n    provider: majority\n}\n"), None),
]
