"""``exporter``: the local corosync's metrics for Prometheus, served over HTTP until SIGINT
or SIGTERM (:mod:`corosync.exporter`; needs the ``exporter`` extra, prometheus_client)."""

from __future__ import annotations

import argparse
import logging

from corosync.cli.command import Subcommands
from corosync.cli.errors import EXIT_OK, CliError
from corosync.cli.output import Output
from corosync.cli.stream import positive_seconds
from corosync.exporter import READ_TIMEOUT  # (it imports nothing: no prometheus_client)

__all__ = ["DEFAULT_ADDRESS", "add_commands"]

#: Every IPv4 address of the host, as ha_cluster_exporter listens: Prometheus scrapes from
#: elsewhere.
DEFAULT_ADDRESS = "0.0.0.0"


def add_commands(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    """Add ``exporter`` (its options are its own: no ``--json``)."""
    parser = commands.add_parser(
        "exporter",
        help="serve corosync's metrics to Prometheus",
        description="Serve the local corosync's metrics on http://ADDRESS:N/metrics for "
        "Prometheus, under ha_cluster_exporter's names (ha_cluster_corosync_quorate, "
        "_quorum_votes, _member_votes, _rings, _ring_errors) and more: ha_cluster_corosync_up, "
        "knet link state, MTU and counters, CPG groups. Quorum and votes follow corosync's "
        "notifications; links and groups are read at each scrape. A lost corosync shows as "
        "ha_cluster_corosync_up 0 until it is back. Runs until Ctrl-C or SIGTERM (exit 0). "
        "Needs prometheus_client: pip install 'corosync[exporter]'.",
    )
    parser.add_argument(
        "--port", type=_port, required=True, metavar="N", help="the TCP port to listen on"
    )
    parser.add_argument(
        "--address",
        default=DEFAULT_ADDRESS,
        help=f"the address to listen on (default {DEFAULT_ADDRESS}: every IPv4 address; "
        ":: for every address)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=READ_TIMEOUT,
        metavar="S",
        help=f"seconds a scrape waits for corosync to answer, else it reports "
        f"ha_cluster_corosync_up 0 (default {READ_TIMEOUT:g}; keep it below Prometheus's "
        "scrape_timeout)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log every connection attempt, with tracebacks",
    )
    parser.set_defaults(run=run_exporter)


def run_exporter(args: argparse.Namespace, out: Output) -> int:
    """Serve until SIGINT or SIGTERM (exit 0); without prometheus_client, say what to
    install (exit 1)."""
    try:
        from corosync.exporter.server import serve
    except ImportError as error:
        if not (error.name or "").startswith("prometheus_client"):
            raise
        raise CliError(
            "the exporter needs prometheus_client: pip install 'corosync[exporter]'"
        ) from error
    debug = getattr(args, "debug", False)
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    serve(args.address, args.port, read_timeout=args.timeout)
    return EXIT_OK


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"expected a TCP port number (1-65535), got {text!r}")
    return port
