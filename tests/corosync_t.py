"""Running ``corosync -t`` (test the configuration and exit) on a text, as one of its nodes,
and starting a daemon on a text to see what it makes of it (:func:`start_daemon`).

corosync -t parses the file, sets up logging and reads the totem configuration, which
needs the machine to be one of the nodes, the log file's directory, the state directory and,
with crypto, an authkey. So each run gets namespaces of its own (``unshare -m -n -u``): the
host name of the node it plays (corosync finds its own node by name first), tmpfs over
/tmp, /var/log, /var/lib/corosync and /etc/corosync (with a fresh authkey), and the
directories the file names. Nothing of it outlives the run, and nothing touches the daemons
of running test clusters: ``-t`` exits before taking corosync's pid file lock. The file goes
in on stdin (``-c /dev/stdin``), so that /tmp can be hidden.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

from corosync.config import Config, ConfigError

__all__ = ["COROSYNC", "DaemonRun", "TestRun", "corosync_t", "local_name", "start_daemon"]

COROSYNC = "/usr/sbin/corosync"
#: Where the files a tested config names may be: all hidden under tmpfs during the run.
PRIVATE = ("/tmp", "/var/log", "/var/lib/corosync")

_PREPARE = """
set -e
for d in /var/log /var/lib/corosync /etc/corosync /tmp /run /dev/shm; do
    mount -t tmpfs tmpfs "$d"
done
if [ -n "$AUTHKEY" ]; then
    head -c 256 /dev/urandom > /etc/corosync/authkey
    chmod 400 /etc/corosync/authkey
fi
host=$1; shift
for d in "$@"; do mkdir -p "$d"; done
hostname "$host"
set +e
"""
_SCRIPT = (
    _PREPARE
    + """
"$COROSYNC" -t -c /dev/stdin
rc=$?
for f in $LOGFILES; do [ -f "$f" ] && cat "$f"; done
exit $rc
"""
)
# The daemon on lo: it runs until its CMAP answers (then the map is printed) or it exits.
_DAEMON = (
    _PREPARE
    + """
ip link set lo up
cat > /tmp/corosync.conf
"$COROSYNC" -f -c /tmp/corosync.conf &
pid=$!
for i in $(seq 100); do
    if ! kill -0 $pid 2>/dev/null; then
        wait $pid
        echo "exited $?"
        exit 0
    fi
    if corosync-cmapctl > /tmp/cmap 2>/dev/null; then
        echo running
        cat /tmp/cmap
        kill $pid
        wait $pid
        exit 0
    fi
    sleep 0.1
done
kill -9 $pid
echo "no answer"
"""
)
_LOGSYS = re.compile(r"\b(error|crit|warning|notice|info|debug|trace) +\[[A-Z]+ *\] (.*)$")
_PARSER = re.compile(r"^parser error: /dev/stdin:(\d+): (.*)$")


@dataclass(frozen=True)
class TestRun:
    """What one ``corosync -t`` run said: its exit status, the error it printed (the first
    one: corosync stops there; None when it printed none) and, for the parser's errors, the
    line it named."""

    returncode: int
    error: str | None
    line: int | None
    output: str

    @property
    def accepted(self) -> bool:
        """Whether corosync -t accepted the file."""
        return self.returncode == 0


def local_name(config: Config) -> str:
    """The host name that makes corosync take the file's first node for itself: its name,
    else its ring0_addr (corosync's fallback). "none" for a file without nodes."""
    for key in ("nodelist.node.0.name", "nodelist.node.0.ring0_addr"):
        value = config.get(key)
        if value:
            return value
    return "none"


def _directories(config: Config) -> list[str]:
    paths = [config.get(k) for k in config.keys() if k.endswith((".logfile", ".state_dir"))]
    wanted = []
    for path in filter(None, paths):
        directory = path if path == config.get("system.state_dir") else os.path.dirname(path)
        if not directory.startswith(tuple(p + "/" for p in PRIVATE)) and directory not in PRIVATE:
            raise AssertionError(f"a tested config may only name files under {PRIVATE}: {path}")
        wanted.append(directory)
    return wanted


def corosync_t(text: str, hostname: str | None = None, *, prepare: bool = True) -> TestRun:
    """Run ``corosync -t`` on ``text`` as the node called ``hostname`` (by default the
    file's first node, :func:`local_name`). With ``prepare``, the directories the file
    names and an authkey exist; without, none do."""
    try:
        config: Config | None = Config(text)
    except ConfigError:
        config = None  # corosync's parser stops before it needs anything
    name = hostname or (local_name(config) if config else "none")
    logfiles = ""
    if config is not None:
        logfiles = " ".join(config.get(k) or "" for k in config.keys() if k.endswith(".logfile"))
    directories = _directories(config) if config is not None and prepare else []
    argv = [
        "unshare",
        "-m",
        "-n",
        "-u",
        "--propagation",
        "private",
        "sh",
        "-c",
        _SCRIPT,
        "sh",
        name,
        *directories,
    ]
    env = {**os.environ, "COROSYNC": COROSYNC, "LOGFILES": logfiles}
    env["AUTHKEY"] = "yes" if prepare else ""
    proc = subprocess.run(
        argv,
        input=text.encode("utf-8", "surrogateescape"),
        capture_output=True,
        env=env,
        timeout=60,
    )
    output = (proc.stderr + proc.stdout).decode("utf-8", "replace")
    error, line = None, None
    named = config is not None and config.get("logging.function_name") == "on"
    for raw in output.splitlines():
        parser = _PARSER.match(raw)
        logged = _LOGSYS.search(raw)
        if parser:
            error, line = parser[2], int(parser[1])
        elif logged and logged[1] in ("error", "crit"):
            # function_name: on puts the C function's name first
            message = logged[2].split(" ", 1)[-1] if named else logged[2]
            if not message.startswith("Corosync Cluster Engine exiting"):
                error = message
        elif raw.strip() and not logged and raw.strip() != "Aborted":
            error = raw.strip().removeprefix("corosync: coroparse.c:1477: main_config_parser_cb: ")
        if error is not None:
            break
    return TestRun(proc.returncode, error, line, output)


@dataclass(frozen=True)
class DaemonRun:
    """What a daemon started on a text did: ``cmap`` is its CMAP (key -> value as
    corosync-cmapctl prints it) when it ran, None when it exited at once (``returncode``,
    its ``output`` saying why)."""

    returncode: int | None
    cmap: dict[str, str] | None
    output: str


def start_daemon(text: str) -> DaemonRun:
    """Start ``corosync -f`` on ``text`` (a one-node cluster on 127.0.0.1, host name
    ``n1``) in namespaces of its own, read its CMAP once it answers, and stop it."""
    config = Config(text)
    argv = [
        "unshare",
        "-m",
        "-n",
        "-u",
        "--propagation",
        "private",
        "sh",
        "-c",
        _DAEMON,
        "sh",
        local_name(config),
        *_directories(config),
    ]
    env = {**os.environ, "COROSYNC": COROSYNC, "AUTHKEY": "yes"}
    proc = subprocess.run(argv, input=text.encode(), capture_output=True, env=env, timeout=60)
    out = proc.stdout.decode("utf-8", "replace").splitlines()
    assert out, proc.stderr.decode("utf-8", "replace")
    if out[0].startswith("exited "):
        return DaemonRun(int(out[0].split()[1]), None, proc.stderr.decode("utf-8", "replace"))
    assert out[0] == "running", proc.stdout.decode() + proc.stderr.decode()
    cmap = {}
    for line in out[1:]:
        key, _, value = line.partition(" = ")
        cmap[key.rsplit(" (", 1)[0]] = value
    return DaemonRun(None, cmap, proc.stderr.decode("utf-8", "replace"))
