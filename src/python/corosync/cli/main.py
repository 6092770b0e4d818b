"""The command line's entry point: the argument parser, and the rule that a failure is one
line on stderr and an exit status, never a traceback (unless ``--debug``)."""

from __future__ import annotations

import argparse
import io
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from corosync.cli import cmap, cpg, exporter, links, quorum, status
from corosync.cli.errors import EXIT_ERROR, EXIT_OK, describe
from corosync.cli.output import Output

__all__ = ["main"]

_INTERRUPTED = 130  # the shell's status for a command ended by SIGINT


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line and exit status 1 (argparse's 2 is "not quorate" here)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _program_name() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python -m corosync" if name in ("", "__main__.py", "-c") else name


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command (each command module adds its own)."""
    # The options every command takes, before or after its name (SUPPRESS: a subcommand's
    # default must not overwrite what was given before it).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print JSON (the schema in corosync/cli/schema/v1.json; one object per line)",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show a traceback on failure",
    )
    parser = _Parser(
        prog=prog or _program_name(),
        parents=[common],
        description="corosync's state through its C API: quorum, votes, members, links, "
        "CMAP keys and CPG groups, as text laid out like corosync's own tools or as JSON.",
        epilog="Exit status: 0 ok; 1 error (one line on stderr); status and quorum status: "
        "2 when this node is not quorate. Streaming commands (cmap track, cpg listen, quorum "
        "watch) run until Ctrl-C or SIGTERM, --count N or --timeout S, and exit 0.",
    )
    commands = parser.add_subparsers(metavar="COMMAND", required=True)
    for module in (status, quorum, links, cmap, cpg, exporter):
        module.add_commands(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: sys.argv[1:]); return the exit status."""
    try:
        return _run(argv)
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as a stream does on Ctrl-C; what
        # is still buffered goes nowhere, so that the interpreter's last flush cannot fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    finally:
        sys.stdout.flush()  # --help's text: a closed stdout shows here, not at exit
    debug = getattr(args, "debug", False)
    out = Output(json=getattr(args, "json", False))
    # Names or values that are not UTF-8 must not end the command: shown escaped.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        status: int = args.run(args, out)
        return status
    except BrokenPipeError:
        raise
    except KeyboardInterrupt:
        return _INTERRUPTED
    except Exception as error:
        if debug:
            traceback.print_exc()
        print(f"{_program_name()}: error: {describe(error)}", file=sys.stderr)
        return EXIT_ERROR
