"""``python -m bench``: the same CPG work through libcpg and through the binding, on a
three-node test cluster, printed as a table of ratios binding ÷ C. See bench/README.md."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from corosync.testing import ClusterError

from .counts import DEFAULT, SMOKE
from .runner import Report, Settings, run
from .table import render
from .workers import BenchError


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run the same CPG work through the C library and through the binding, "
        "alternating, on a three-node test cluster (needs root), and print the ratios.",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="rounds of C and binding, C first in odd rounds (default 3; 1 with --smoke)",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny counts and one round: checks that it all runs"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results to PATH as JSON")
    parser.add_argument(
        "--only",
        metavar="KEY",
        action="append",
        default=[],
        help="run only the rows whose key contains KEY (repeatable; keys are shown in the "
        "progress lines, e.g. send-64, dispatch)",
    )
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 1 if args.smoke else 3
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def to_json(report: Report, settings: Settings, smoke: bool) -> dict[str, Any]:
    return {
        "rounds": settings.rounds,
        "smoke": smoke,
        "counts": dataclasses.asdict(settings.counts),
        "seconds": report.seconds,
        "rows": [dataclasses.asdict(row) for row in report.rows],
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    settings = Settings(
        rounds=args.rounds, counts=SMOKE if args.smoke else DEFAULT, only=tuple(args.only)
    )

    def progress(line: str) -> None:
        print(f"bench: {line}", file=sys.stderr, flush=True)

    try:
        report = run(settings, progress)
    except (BenchError, ClusterError) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    print(render(report.rows, settings.rounds))
    progress(f"done in {report.seconds:.0f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(to_json(report, settings, args.smoke), f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
