"""The order audit's long run: many cycles of faults on a three-node cluster, optionally on a
degraded network, then the audit's figures. Not part of the test suite (pytest collects only
test_*.py); the suite runs the same audit for two cycles (tests/test_order_audit.py).

    .venv/bin/python tests/soak/run_order_audit.py --cycles 20
    .venv/bin/python tests/soak/run_order_audit.py --cycles 10 --loss 0.05 --delay 0.02 --twins

Exits 1 if the audit found a mismatch (each is printed), 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: order_audit

from order_audit import run_audit

from corosync.testing import Cluster


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=10, help="fault cycles (default 10)")
    parser.add_argument("--rate", type=float, default=100.0, help="messages/s per member")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds after each fault")
    parser.add_argument("--loss", type=float, default=0.0, help="loss on every node's link")
    parser.add_argument("--delay", type=float, default=0.0, help="delay (s) on every link")
    parser.add_argument(
        "--twins", action="store_true", help="a libcpg member beside each binding member"
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the members' logs")
    args = parser.parse_args()
    start = time.monotonic()
    with Cluster(3, token_ms=1000) as cluster, tempfile.TemporaryDirectory() as tmp:
        log_dir = Path(tempfile.mkdtemp(prefix="order-audit-")) if args.keep_logs else Path(tmp)
        if args.loss or args.delay:
            for nodeid in (1, 2, 3):
                cluster.degrade(nodeid, loss=args.loss, delay=args.delay)
        report = run_audit(
            cluster,
            log_dir,
            cycles=args.cycles,
            rate=args.rate,
            settle=args.settle,
            twins=args.twins,
        )
        if args.keep_logs:
            print(f"logs in {log_dir}")
    for mismatch in report.mismatches:
        print(f"MISMATCH {mismatch}")
    network = (
        f"loss {args.loss:.0%}, delay {args.delay * 1000:.0f} ms"
        if args.loss or args.delay
        else "clean network"
    )
    print(f"{report.summary()}; {network}; {time.monotonic() - start:.0f} s")
    return 1 if report.mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
