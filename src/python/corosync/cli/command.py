"""What every command module shares: the type of a command and of the subcommand table."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, Protocol, TypeAlias

from corosync.cli.output import Output

__all__ = ["Command", "Subcommands"]

#: A command: runs with the parsed arguments, prints to ``Output``, returns the exit status.
Command: TypeAlias = Callable[[argparse.Namespace, Output], int]


class Subcommands(Protocol):
    """What ``add_subparsers()`` returns, where each command module adds its commands."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...
