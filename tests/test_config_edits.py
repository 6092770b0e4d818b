"""Editing corosync.conf (corosync.config): keys set and deleted, nodes and links added and
removed, new lines laid out like their neighbours, every other line left as it was, and an
edit that fails leaving the file unchanged."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from config_cases import BASE

import corosync.config
from corosync.config import Config, ConfigError
from corosync.testing import config as harness_config

CORPUS = Path(__file__).parent / "data" / "corosync_conf"


def load(name: str) -> Config:
    return corosync.config.load(CORPUS / name)


def changes(before: str, after: str) -> list[str]:
    """The lines removed ("-") and added ("+") from before to after."""
    diff = difflib.ndiff(before.splitlines(keepends=True), after.splitlines(keepends=True))
    return [line for line in diff if line[0] in "+-"]


def test_setting_a_key_changes_its_value_and_nothing_else() -> None:
    config = load("corosync.conf.example")
    before = config.text()
    entry = config.set("totem.cluster_name", "prod")
    assert changes(before, config.text()) == [
        "- \tcluster_name: ExampleCluster\n",
        "+ \tcluster_name: prod\n",
    ]
    assert (entry.value, entry.lineno, config.totem.cluster_name) == ("prod", 6, "prod")


def test_a_new_key_goes_after_its_sections_keys_laid_out_like_them() -> None:
    config = load("corosync.conf.example")
    before = config.text()
    config.set("totem.token", 5000)
    config.set("quorum.provider", "corosync_votequorum")  # a section with comments only
    config.set("logging.logger_subsys.QUORUM.to_syslog", "no")
    assert changes(before, config.text()) == [
        "+ \ttoken: 5000\n",
        "+ \t\tto_syslog: no\n",
        "+ \tprovider: corosync_votequorum\n",
    ]
    text = config.text()
    assert "\tcrypto_hash: none\n\ttoken: 5000\n}" in text
    assert "#provider: corosync_votequorum\n\tprovider: corosync_votequorum\n}" in text
    assert "\t\tdebug: off\n\t\tto_syslog: no\n\t}" in text
    # The separator too: "key : value" files get "key : value" lines.
    spaced = corosync.config.parse("totem {\n  version : 2\n}\n")
    spaced.set("totem.token", 3000)
    assert spaced.text() == "totem {\n  version : 2\n  token : 3000\n}\n"


def test_new_sections_are_made_where_missing() -> None:
    config = Config(BASE)
    config.set("quorum.device.model", "net")
    config.set("totem.interface.1.knet_link_priority", 2)
    config.set("logging.logger_subsys.CPG.debug", "on")
    config.set("quorum.provider", "corosync_votequorum")
    assert config.text() == BASE.replace(
        "    cluster_name: test\n",
        "    cluster_name: test\n    interface {\n        linknumber: 1\n"
        "        knet_link_priority: 2\n    }\n",
    ) + (
        "\nquorum {\n    provider: corosync_votequorum\n    device {\n        model: net\n"
        "    }\n}\n\nlogging {\n    logger_subsys {\n        subsys: CPG\n        debug: on\n"
        "    }\n}\n"
    )
    assert config.quorum.device is not None and config.quorum.device.model == "net"
    assert config.totem.interfaces[1].knet_link_priority == 2


def test_new_lines_follow_crlf_and_the_old_last_line_gets_its_newline() -> None:
    text = BASE.replace("\n", "\r\n").removesuffix("\r\n")
    config = corosync.config.parse(text)
    config.set("totem.token", 2000)
    config.set("system.state_dir", "/tmp/state")
    assert config.text() == (
        text.replace("cluster_name: test\r\n", "cluster_name: test\r\n    token: 2000\r\n")
        + "\r\n\r\nsystem {\r\n    state_dir: /tmp/state\r\n}\r\n"
    )
    assert corosync.config.parse(config.text()).get("system.state_dir") == "/tmp/state"


def test_a_file_without_indentation_gets_four_spaces_and_tabs_are_followed() -> None:
    config = Config()
    config.set("totem.version", 2)
    config.set("quorum.device.model", "net")
    assert config.text() == (
        "totem {\n    version: 2\n}\n\nquorum {\n    device {\n        model: net\n    }\n}\n"
    )
    tabs = corosync.config.parse("totem {\n\tversion: 2\n}\n")
    tabs.set("quorum.device.votes", 1)
    assert tabs.text().endswith("quorum {\n\tdevice {\n\t\tvotes: 1\n\t}\n}\n")


def test_values_and_names_that_no_line_can_hold_are_refused_and_change_nothing() -> None:
    config = Config(BASE)
    for key, value, error, message in [
        ("totem.token", "soon", ValueError, 'Value of key "totem.token" is expected to be'),
        ("totem.token", True, TypeError, "corosync spells yes/no keys"),
        ("totem.cluster_name", "a\nb", ValueError, "invalid character"),
        ("totem.cluster_name", "a{", ValueError, "invalid character"),
        ("totem.cluster_name", " a", ValueError, "may not begin or end with blanks"),
        ("totem.cluster_name", "x" * 600, ValueError, "a line of more than 510 bytes"),
        ("totem.crypto_cipher", "aes512", ValueError, "Invalid cipher type"),
        ("totem.interface.1.mcastport", 70000, ValueError, "range (0..65535)"),
        ("totem.interface.1.colour", "red", ValueError, "a link's keys are"),
        ("nodelist.node.7.name", "x", KeyError, "there is no node 7"),
        ("nodelist.node.name", "x", ValueError, "nodelist.node.<index>.<key>"),
        ("quorum.dev ice.model", "x", ValueError, "invalid section name"),
        ("token", "1", ValueError, "not a key inside a section"),
        ("uidgid.uid", "0", ValueError, "by hand"),
        ("new_section.k:y", "1", ValueError, "invalid key"),
    ]:
        with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
            config.set(key, value)  # type: ignore[arg-type]
        assert config.text() == BASE, key


def test_delete_removes_every_line_that_sets_a_key() -> None:
    config = corosync.config.parse(
        BASE.replace("cluster_name: test\n", "cluster_name: test\n    token: 1\n    token: 2\n")
    )
    assert config.get("totem.token") == "2"
    assert config.delete("totem.token") == 2
    assert config.text() == BASE
    assert config.delete("totem.token") == 0
    assert config.delete("nodelist.node.1.name") == 1
    assert config.nodelist[1].name is None


def test_add_node_writes_what_corosyncs_man_page_shows() -> None:
    before = (CORPUS / "corosync.conf.5-951-963.conf").read_text()
    after = (CORPUS / "corosync.conf.5-972-990.conf").read_text()
    config = corosync.config.parse(before)
    node = config.add_node(3, "NEW", ["10.24.38.108"])
    assert (node.index, node.nodeid, node.name, node.addresses) == (
        2,
        3,
        "NEW",
        {0: "10.24.38.108"},
    )
    # The man page's new node has a blank line before its brace, as its node 2 has.
    assert config.text() == after.replace("name: NEW\n\n", "name: NEW\n")
    config.remove_node(3)
    assert config.text() == before


def test_add_node_copies_the_last_nodes_layout_and_its_blank_line() -> None:
    udpu = load("corosync.conf.example.udpu-v2.4.6")
    before = udpu.text()
    udpu.add_node(6, None, {0: "10.16.35.106"})
    assert changes(before, udpu.text()) == [
        "+ \n",
        "+ \tnode {\n",
        "+ \t\tring0_addr: 10.16.35.106\n",
        "+ \t\tnodeid: 6\n",
        "+ \t}\n",
    ]
    udpu.remove_node(6)
    assert udpu.text() == before
    example = load("corosync.conf.example")
    example.add_node(3, "node3", {0: "192.168.0.3"}, quorum_votes=2)
    assert "\tnode {\n\t\tname: node3\n\t\tnodeid: 3\n\t\tring0_addr: 192.168.0.3\n" in (
        example.text()
    )
    assert "\t\tquorum_votes: 2\n\t}\n\t# ...\n}\n" in example.text()


def test_add_node_starts_a_nodelist_and_keeps_nodes_consistent() -> None:
    config = Config("totem {\n    version: 2\n}\n")
    config.add_node(1, "a", ["10.0.0.1", "10.1.0.1"])
    assert config.text().endswith(
        "\nnodelist {\n    node {\n        nodeid: 1\n        name: a\n"
        "        ring0_addr: 10.0.0.1\n        ring1_addr: 10.1.0.1\n    }\n}\n"
    )
    before = config.text()
    for args, error, message in [
        ((1, "b", ["10.0.0.2", "10.1.0.2"]), ValueError, "node id 1 is taken"),
        ((2, "a", ["10.0.0.2", "10.1.0.2"]), ValueError, "name 'a' is taken"),
        ((2, "b", ["10.0.0.2"]), ValueError, r"the other nodes have links \[0, 1\]"),
        ((2, None, ["10.0.0.2", "10.1.0.2"]), ValueError, "needs a name"),
        ((0, "b", ["10.0.0.2", "10.1.0.2"]), ValueError, "between 1 and 65535"),
        ((70000, "b", ["10.0.0.2", "10.1.0.2"]), ValueError, "between 1 and 65535"),
        ((2, "b", "10.0.0.2"), TypeError, "not a str"),
        ((2, "b", {8: "10.0.0.2"}), ValueError, "link numbers go from 0 to 7"),
        ((2, "b", []), ValueError, "at least one link"),
        ((True, "b", ["10.0.0.2", "10.1.0.2"]), TypeError, "nodeid must be an int"),
    ]:
        with pytest.raises(error, match=message):
            config.add_node(*args)  # type: ignore[arg-type]
        assert config.text() == before
    with pytest.raises(ValueError, match="2 nodelist sections"):
        corosync.config.parse("nodelist {\n}\nnodelist {\n}\n").add_node(1, "a", ["10.0.0.1"])
    with pytest.raises(KeyError, match="no node with nodeid 9"):
        config.remove_node(9)


def test_add_link_and_remove_link_give_the_file_back() -> None:
    config = Config(BASE)
    link = config.add_link({1: "10.1.0.1", 2: "10.1.0.2"}, options={"knet_link_priority": 2})
    assert link == 1
    assert [n.addresses for n in config.nodelist] == [
        {0: "10.0.0.1", 1: "10.1.0.1"},
        {0: "10.0.0.2", 1: "10.1.0.2"},
    ]
    assert config.totem.interfaces[1].knet_link_priority == 2
    assert "        ring0_addr: 10.0.0.2\n        ring1_addr: 10.1.0.2\n    }" in config.text()
    assert [p for p in config.validate() if p.severity == "error"] == []
    config.remove_link(1)
    assert config.text() == BASE
    # A link below the existing ones goes before them.
    config.add_link({1: "10.3.0.1", 2: "10.3.0.2"}, linknumber=3)
    config.remove_link(0)
    config.add_link({1: "10.0.0.1", 2: "10.0.0.2"})
    assert config.nodelist[0].addresses == {0: "10.0.0.1", 3: "10.3.0.1"}
    assert "ring0_addr: 10.0.0.1\n        ring3_addr: 10.3.0.1\n" in config.text()


def test_add_link_refuses_what_corosync_would_and_changes_nothing() -> None:
    config = Config(BASE)
    for kwargs, message in [
        ({"addresses": {1: "10.1.0.1"}}, r"missing \[2\]"),
        ({"addresses": {1: "a", 2: "b", 3: "c"}}, r"unknown \[3\]"),
        ({"addresses": {1: "a", 2: "b"}, "linknumber": 0}, "link 0 is in use"),
        ({"addresses": {1: "a", 2: "b"}, "linknumber": 8}, "not a link number"),
        ({"addresses": {1: "a", 2: "b"}, "options": {"colour": "red"}}, "not a link option"),
        ({"addresses": {1: "a", 2: "b"}, "options": {"ttl": 300}}, r"range \(0..255\)"),
    ]:
        with pytest.raises(ValueError, match=message):
            config.add_link(**kwargs)  # type: ignore[arg-type]
        assert config.text() == BASE
    udpu = Config(BASE.replace("cluster_name: test", "cluster_name: test\n    transport: udpu"))
    with pytest.raises(ValueError, match="only knet has several links"):
        udpu.add_link({1: "a", 2: "b"})
    nameless = Config(BASE.replace("        name: n2\n", ""))
    with pytest.raises(ValueError, match="need a name on every node"):
        nameless.add_link({1: "a", 2: "b"})
    with pytest.raises(ValueError, match="the only link"):
        config.remove_link(0)
    with pytest.raises(KeyError, match="no node has an address on link 5"):
        config.remove_link(5)


def test_line_numbers_follow_edits() -> None:
    config = Config(BASE)
    name = config.entry("nodelist.node.1.name")
    assert name is not None and name.lineno == 14
    config.set("totem.token", 2000)
    assert name.lineno == 15
    config.add_node(3, "n3", ["10.0.0.3"])
    assert config.node(3).line == 18
    assert config.root.sections("nodelist")[0].end_lineno == 23


def test_the_harness_renders_its_configs_through_the_model() -> None:
    nodes = [harness_config.NodeEntry(i, f"10.213.9.{i}", f"node{i}") for i in (1, 2, 3)]
    text = harness_config.render(
        cluster_name="c9", nodes=nodes, log_path="/tmp/x/corosync.log", state_dir="/tmp/x"
    )
    config = corosync.config.parse(text)
    assert [(n.nodeid, n.name, n.addresses) for n in config.nodelist] == [
        (i, f"node{i}", {0: f"10.213.9.{i}"}) for i in (1, 2, 3)
    ]
    assert (config.totem.token, config.totem.token_coefficient) == (1000, 0)
    assert config.validate() == []
    generation = harness_config.with_generation(text, 4)
    assert corosync.config.parse(generation).get(harness_config.GENERATION_KEY) == "4"
    assert generation == text + harness_config.generation_section(4).join(["\n", ""])
    again = harness_config.with_generation(generation, 5)
    assert again == generation.replace("config_generation: 4", "config_generation: 5")
    # A text corosync cannot parse (a test writes one on purpose) gets the section appended.
    assert harness_config.with_generation("totem {{\n", 1) == (
        "totem {{\n\ncorosync_testing {\n    config_generation: 1\n}\n"
    )
    with pytest.raises(ConfigError):
        corosync.config.parse("totem {{\n")


@pytest.mark.parametrize(
    "name", [p.name for p in sorted(CORPUS.iterdir()) if p.suffix != ".md" and "380" not in p.name]
)
def test_edits_of_every_corpus_file_only_add_lines_and_parse_back(name: str) -> None:
    config = load(name)
    before = config.text()
    config.set("totem.token_warning", 60)
    config.set("quorum.device.model", "net")
    nodeids = [n.nodeid or 0 for n in config.nodelist]
    if all(nodeids) and not config.root.sections("nodelist")[1:]:
        links = sorted(config.nodelist[-1].addresses) if nodeids else []
        address = {link: f"10.9.{link}.9" for link in links or [0]}
        config.add_node(max(nodeids, default=0) + 1, "added", address)
    assert all(line.startswith("+ ") for line in changes(before, config.text()))
    again = corosync.config.parse(config.text())
    assert again.text() == config.text()
    assert (again.get("totem.token_warning"), again.get("quorum.device.model")) == ("60", "net")
