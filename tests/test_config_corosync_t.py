"""corosync.config agrees with corosync 3.1.7: ``corosync -t`` (/usr/sbin/corosync, run for
real in namespaces of its own: tests/corosync_t.py) refuses a file exactly when validate()
finds an error of the parser, logging or totem, and prints that error's corosync message,
for every file of corosync's own corpus and every hand-written case.

Where they differ, it is on purpose, and each difference is tested here:

* votequorum's errors: corosync -t does not load services, so it accepts a file that the
  daemon then refuses to start with; validate() reports them as errors (component
  ``votequorum``), and the daemon, started on such a file, exits saying the same.
* corosync words three errors differently when they concern the node it runs on.
* what depends on the machine (the log file's directory, the authkey, uidgid users, host
  names, which crypto models knet was built with) is the machine's business: validate()
  does not look, corosync -t does.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from config_cases import BASE, CASES, Case
from corosync_t import COROSYNC, corosync_t, start_daemon

import corosync.config
from corosync.config import ConfigError, Problem

CORPUS = Path(__file__).parent / "data" / "corosync_conf"
FILES = sorted(p.name for p in CORPUS.iterdir() if p.name != "README.md")

#: corosync's words for a problem of the node it runs on -> its words for any other node.
LOCAL_WORDING = {
    "Knet requires an explicit nodeid for the local node": "Knet requires an explicit nodeid"
    " to be specified for address '{address}'.",
    "An IPV6 network requires that a node ID be specified": "An IPV6 network requires that a"
    " node ID be specified for address '{address}'.",
}


def ours(text: str) -> tuple[list[tuple[int, str]], list[Problem]]:
    """(line, corosync message) of each error corosync -t would report, and all problems."""
    try:
        problems = corosync.config.parse(text).validate()
    except ConfigError as e:
        return [(e.line, e.reason)], []
    refused = [(p.line, p.corosync_message or "") for p in problems if p.refused_by_corosync_t]
    return refused, problems


def assert_agree(text: str, hostname: str | None = None) -> None:
    refused, _ = ours(text)
    run = corosync_t(text, hostname)
    assert run.returncode in (0, 7, 8, 134), run.output  # 134: the assertion it aborts on
    assert run.accepted == (not refused), (refused, run.output)
    if run.accepted:
        return
    assert run.error is not None, run.output
    messages = [message for _, message in refused]
    error = run.error.replace("failed to parse bindnet address", "failed to parse node address")
    if error in LOCAL_WORDING:
        local = corosync.config.parse(text).nodelist[0]
        error = LOCAL_WORDING[error].format(address=local.addresses[0])
    assert error in messages, (run.output, refused)
    if run.line is not None:
        assert (run.line, error) in refused


@pytest.mark.parametrize("name", FILES)
def test_corosync_t_agrees_on_every_file_of_corosyncs_corpus(name: str) -> None:
    assert_agree((CORPUS / name).read_text())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_corosync_t_agrees_on_broken_and_odd_files(case: Case) -> None:
    run = corosync_t(case.text)
    assert run.error == case.error, run.output
    if run.line is not None:
        assert run.line == case.line
    assert_agree(case.text)


def test_the_harness_files_pass_corosync_t() -> None:
    from corosync.testing import config as harness

    nodes = [harness.NodeEntry(i, f"10.213.9.{i}", f"node{i}", (f"10.214.9.{i}",)) for i in (1, 2)]
    text = harness.render(
        cluster_name="c9", nodes=nodes, log_path="/tmp/x/corosync.log", state_dir="/tmp/x/state"
    )
    assert corosync_t(harness.with_generation(text, 3)).accepted
    assert_agree(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            BASE + "quorum {\n    provider: corosync_votequorum\n    two_node: 1\n    device {\n"
            "        model: net\n    }\n}\n",
            "configuration error: two_node and quorum device cannot be configured at the same"
            " time!",
        ),
        (BASE + "quorum {\n    provider: majority\n}\n", "Invalid quorum provider"),
    ],
)
def test_votequorum_errors_pass_corosync_t_and_stop_the_daemon(text: str, message: str) -> None:
    [error] = [p for p in corosync.config.parse(text).validate() if p.severity == "error"]
    assert (error.component, error.corosync_message) == ("votequorum", message)
    assert corosync_t(text).accepted
    daemon = start_daemon(text.replace("10.0.0.1", "127.0.0.1"))
    assert daemon.returncode == 20, daemon.output  # COROSYNC_DONE_INIT_SERVICES
    assert f"failed to load for reason '{message}'" in daemon.output


def test_the_same_file_without_the_votequorum_error_starts() -> None:
    daemon = start_daemon(BASE.replace("10.0.0.1", "127.0.0.1"))
    assert daemon.cmap is not None and daemon.cmap["totem.cluster_name"] == "test"


def test_corosync_words_the_local_nodes_problems_its_own_way() -> None:
    # The same file, played by each node in turn: the node without nodeid is the local one
    # (n2), or another (as n1).
    text = BASE.replace("        nodeid: 2\n", "")
    assert corosync_t(text, "n1").error == (
        "Knet requires an explicit nodeid to be specified for address '10.0.0.2'."
    )
    assert corosync_t(text, "n2").error == "Knet requires an explicit nodeid for the local node"
    bad = BASE.replace("10.0.0.2", "10.0.0.300")
    assert corosync_t(bad, "n2").error == "failed to parse bindnet address '10.0.0.300'"
    assert ours(bad)[0] == [(15, "failed to parse node address '10.0.0.300'")]
    ipv6 = BASE.replace("10.0.0.1", "fd00::1").replace("10.0.0.2", "fd00::2")
    udpu = ipv6.replace("cluster_name: test", "cluster_name: test\n    transport: udpu")
    text = udpu.replace("        nodeid: 1\n", "")
    assert corosync_t(text, "n1").error == "An IPV6 network requires that a node ID be specified"
    assert corosync_t(text, "n2").error == (
        "An IPV6 network requires that a node ID be specified for address 'fd00::1'."
    )
    assert_agree(text, "n1")


def test_a_machine_without_the_files_a_config_names_fails_corosync_t_only() -> None:
    logged = BASE + "logging {\n    to_logfile: yes\n    logfile: /var/log/cluster/c.log\n}\n"
    crypto = BASE.replace(
        "cluster_name: test",
        "cluster_name: test\n    crypto_cipher: aes256\n    crypto_hash: sha256",
    )
    for text, error in [
        (
            logged,
            "parse error in config: Can't open logfile '/var/log/cluster/c.log' for reason:"
            " No such file or directory (2).",
        ),
        (crypto, "Could not open /etc/corosync/authkey: No such file or directory"),
    ]:
        assert ours(text)[0] == []
        assert corosync_t(text).accepted
        assert corosync_t(text, prepare=False).error == error
    for text, error in [
        (
            BASE + "uidgid {\n    uid: no_such_user\n}\n",
            "The 'no_such_user' user is not found in /etc/passwd, please read the documentation.",
        ),
        (
            BASE.replace("10.0.0.2", "no-such-host.invalid"),
            "failed to parse node address 'no-such-host.invalid'",
        ),
    ]:
        assert ours(text)[0] == []
        assert corosync_t(text).error == error


def test_crypto_models_are_what_the_installed_knet_has() -> None:
    version = subprocess.run([COROSYNC, "-v"], capture_output=True, text=True, check=True)
    [line] = [x for x in version.stdout.splitlines() if x.startswith("Available crypto models:")]
    available = line.split(":", 1)[1].split()
    assert {"nss", "openssl"} <= set(available)
    for model in ("nss", "openssl", "gcrypt"):
        text = BASE.replace("cluster_name: test", f"cluster_name: test\n    crypto_model: {model}")
        assert ours(text)[0] == []
        run = corosync_t(text)
        assert run.accepted == (model in available), run.output
        if not run.accepted:
            assert run.error == "Invalid crypto model. Should be nss or openssl"
