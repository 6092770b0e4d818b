"""``python -m corosync``: the command line (see :mod:`corosync.cli`)."""

from __future__ import annotations

from corosync.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
