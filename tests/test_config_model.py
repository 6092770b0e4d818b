"""Typed access to corosync.conf (corosync.config): corosync's own example files read back
with the values they hold, keys named and resolved as CMAP names them, and checked against
what a running daemon shows in CMAP for the same file."""

from __future__ import annotations

from pathlib import Path

import pytest
from corosync_t import start_daemon

import corosync.config
from corosync.config import ConfigError, Interface, LoggerSubsys, Node, QuorumDevice

CORPUS = Path(__file__).parent / "data" / "corosync_conf"


def load(name: str) -> corosync.config.Config:
    return corosync.config.load(CORPUS / name)


def test_corosyncs_example_reads_back_typed() -> None:
    config = load("corosync.conf.example")
    totem = config.totem
    assert (totem.version, totem.cluster_name, totem.crypto_cipher, totem.crypto_hash) == (
        2,
        "ExampleCluster",
        "none",
        "none",
    )
    assert totem.transport is None and totem.token is None and totem.interfaces == {}
    logging = config.logging
    assert (logging.fileline, logging.to_stderr, logging.to_logfile, logging.to_syslog) == (
        False,
        True,
        True,
        True,
    )
    assert (logging.logfile, logging.debug, logging.timestamp) == (
        "/var/log/cluster/corosync.log",
        "off",
        None,  # commented out
    )
    assert logging.subsystems == {
        "QUORUM": LoggerSubsys("QUORUM", 35, "off", {"subsys": "QUORUM", "debug": "off"})
    }
    assert config.quorum.provider is None and config.quorum.device is None
    assert config.nodelist == [
        Node(0, 50, 1, "node1", {}, None, {"name": "node1", "nodeid": "1"}),
        Node(1, 60, 2, "node2", {}, None, {"name": "node2", "nodeid": "2"}),
    ]
    assert config.node(2) is not None and config.node(2).name == "node2"
    with pytest.raises(KeyError, match="no node with nodeid 3"):
        config.node(3)


def test_the_augeas_lens_example_reads_back_typed() -> None:
    config = load("test_corosync.aug.conf")
    totem = config.totem
    assert (totem.transport, totem.token, totem.version) == ("udp", 1000, 2)
    assert totem.options["secauth"] == "off" and totem.options["rrp_mode"] == "none"
    assert totem.interfaces == {
        0: Interface(
            0,
            13,
            bindnetaddr="192.168.122.1",
            mcastaddr="226.94.1.1",
            mcastport=5405,
            ttl=45,
        )
    }
    quorum = config.quorum
    assert (quorum.provider, quorum.expected_votes, quorum.votes) == ("corosync_votequorum", 5, 2)
    assert (quorum.two_node, quorum.wait_for_all, quorum.last_man_standing) == (True,) * 3
    assert (quorum.last_man_standing_window, quorum.auto_tie_breaker) == (10000, True)
    assert [(n.nodeid, n.name, n.addresses, n.quorum_votes) for n in config.nodelist] == [
        (1, "balalaika", {0: "192.168.122.1"}, 2),
        (2, "cythara", {0: "192.168.122.2", 1: "192.168.123.1"}, None),
    ]
    subsystems = config.logging.subsystems
    assert (subsystems["CPG"].debug, subsystems["CPG"].options["to_syslog"]) == ("on", "no")
    assert subsystems["MSG"].options == {
        "to_stderr": "no",
        "logfile": "/tmp/corosync-msg.log",
        "subsys": "MSG",
        "debug": "on",
        "tags": "enter|trace4",
    }
    assert config.logging.options["function_name"] == "on"
    # Sections without a view, by CMAP name.
    assert config.get("resources.system.memory_used.recovery") == "reboot"
    assert config.get("resources.system.load_15min.max") == "8.56"
    assert config.keys("uidgid.") == ["uidgid.config.gid.0", "uidgid.config.uid.0"]
    # the interface's ringnumber (a corosync 2 key) stays where corosync 3 puts it
    assert config.get("totem.interface.ringnumber") == "0"


def test_nodes_without_nodeid_and_the_man_pages_fragments() -> None:
    udpu = load("corosync.conf.example.udpu-v2.4.6")
    assert [(n.index, n.nodeid) for n in udpu.nodelist] == [
        (0, 1),
        (1, 2),
        (2, None),
        (3, None),
        (4, None),
    ]
    assert udpu.nodelist[4].addresses == {0: "10.16.35.105"}
    atb = load("votequorum.5-293-298.conf")
    assert (atb.quorum.auto_tie_breaker, atb.quorum.auto_tie_breaker_node) == (True, "1 3 5")
    assert atb.quorum.expected_votes == 8 and atb.nodelist == []
    added = load("corosync.conf.5-972-990.conf")
    assert added.keys("nodelist.node.2.") == [
        "nodelist.node.2.name",
        "nodelist.node.2.nodeid",
        "nodelist.node.2.ring0_addr",
    ]
    assert added.get("nodelist.node.2.name") == "NEW"
    assert added.entry("nodelist.node.2.name") is not None
    assert added.entry("nodelist.node.2.name").lineno == 16  # type: ignore[union-attr]
    assert "nodelist.node.2.name" in added and "nodelist.node.3.name" not in added


def test_a_quorum_device_and_link_options_read_back_typed() -> None:
    config = corosync.config.parse(
        "totem {\n    interface {\n        linknumber: 1\n        knet_link_priority: 5\n"
        "        knet_transport: sctp\n    }\n}\nquorum {\n    provider: corosync_votequorum\n"
        "    device {\n        model: net\n        votes: 1\n        net {\n"
        "            host: qnetd\n        }\n    }\n}\n"
    )
    assert config.totem.interfaces == {
        1: Interface(1, 2, knet_link_priority=5, knet_transport="sctp")
    }
    assert config.quorum.device == QuorumDevice(
        11, "net", 1, None, None, None, {"model": "net", "votes": "1", "net.host": "qnetd"}
    )


def test_a_value_corosync_refuses_raises_naming_its_line_when_read_typed() -> None:
    config = corosync.config.parse("totem {\n    version: 2\n    token: soon\n}\n")
    assert config.get("totem.token") == "soon"  # the text is there to read
    with pytest.raises(ConfigError, match=r"line 3: totem\.token must be an integer"):
        _ = config.totem
    config = corosync.config.parse("logging {\n    to_syslog: maybe\n}\nquorum {\ntwo_node: x\n}\n")
    with pytest.raises(ConfigError, match=r"line 2: logging\.to_syslog must be yes, no, on or"):
        _ = config.logging
    with pytest.raises(ConfigError, match=r"line 5: quorum\.two_node must be an integer in 0"):
        _ = config.quorum


QUIRKS = """\
totem {
    version: 2
    cluster_name: test
    token: 5000
    interface {
        linknumber: 0
        knet_link_priority: 3
        knet_link_priority: 4
        knet_ping_interval: 500
    }
}
totem {
    token: 4000
}
nodelist {
    some_key: x
    node {
        nodeid: 1
        name: n1
        ring0_addr: 127.0.0.1
        an_extra: y
    }
}
logging {
    to_stderr: no
    logger_subsys {
        subsys: CPG
        debug: on
        debug: off
    }
    logging_daemon {
        name: corosync
        subsys: QUORUM
        debug: on
    }
}
quorum {
    provider: corosync_votequorum
    device {
        model: python
        votes: 1
    }
}
my_tool {
    deep {
        setting: 1
    }
}
"""


def test_cmap_names_and_values_are_what_a_running_daemon_shows() -> None:
    """Duplicate keys (the last counts, but in logger_subsys the first: corosync prepends
    its items to a list), merged sections, link options filed under their link number, a
    logging_daemon of corosync filed as a logger_subsys, unknown sections kept."""
    config = corosync.config.parse(QUIRKS)
    ours = {key: config.get(key) for key in config.keys()}
    assert ours["logging.logger_subsys.CPG.debug"] == "on"
    assert ours["totem.interface.0.knet_link_priority"] == "4"
    assert ours["totem.token"] == "4000"
    assert ours["logging.logger_subsys.QUORUM.debug"] == "on"
    daemon = start_daemon(QUIRKS)
    assert daemon.cmap is not None, daemon.output
    assert {key: daemon.cmap.get(key) for key in ours} == ours
    # What corosync adds of its own is not in the file.
    assert "nodelist.local_node_pos" in daemon.cmap and "nodelist.local_node_pos" not in ours
