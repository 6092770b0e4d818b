"""The exporter as a program: :func:`serve` answers Prometheus on ``/metrics`` until SIGINT
or SIGTERM."""

from __future__ import annotations

import ipaddress
import logging

from prometheus_client import CollectorRegistry, ProcessCollector, start_http_server

from corosync.cli.errors import CliError
from corosync.cli.stream import Stream
from corosync.exporter import READ_TIMEOUT
from corosync.exporter.collector import CorosyncCollector
from corosync.exporter.watcher import Watcher

__all__ = ["serve"]

_log = logging.getLogger("corosync.exporter")


def serve(address: str, port: int, *, read_timeout: float = READ_TIMEOUT) -> None:
    """Serve the metrics of the local corosync on ``http://address:port/metrics`` (and the
    exporter's own ``process_*`` metrics) until SIGINT or SIGTERM. :class:`CliError` when
    the address cannot be listened on."""
    watcher = Watcher(read_timeout=read_timeout)
    registry = CollectorRegistry()
    registry.register(CorosyncCollector(watcher))
    ProcessCollector(registry=registry)
    try:
        start_http_server(port, address, registry)
    except OSError as error:  # taken, not an address of this host, not an address at all
        raise CliError(
            f"cannot listen on {_url(address, port)}: {error.strerror or error}"
        ) from error
    watcher.start()
    _log.info("serving metrics on %s/metrics", _url(address, port))
    try:
        Stream().run([])
    finally:
        watcher.stop()
    _log.info("stopped")


def _url(address: str, port: int) -> str:
    try:
        bracketed = ipaddress.ip_address(address).version == 6
    except ValueError:
        bracketed = False  # a host name
    return f"http://[{address}]:{port}" if bracketed else f"http://{address}:{port}"
