#!/bin/sh
# Static checks of the corosync package: stub freshness, stubtest, mypy --strict, ruff.
#
#   tools/check_types.sh            (from anywhere; it works from the repository root)
#
# `corosync._corosync` must be importable by $PYTHON (default python3), either
#   - built in place, its .so in src/python/corosync (this script then puts src/python on
#     PYTHONPATH itself), or
#   - installed (pip install .), or reachable through a PYTHONPATH you set.
# Needs the `dev` extra: pybind11-stubgen, mypy, ruff. Exits non-zero if any check fails;
# every check runs, so one run shows every problem.
set -u
cd "$(dirname "$0")/.." || exit 2
PYTHON=${PYTHON:-python3}

# The in-place build: put it first (but not a .so-less source tree, which would hide an
# installed package).
if ls src/python/corosync/_corosync*.so >/dev/null 2>&1; then
    PYTHONPATH="src/python${PYTHONPATH:+:$PYTHONPATH}"
    export PYTHONPATH
fi
# mypy and stubtest read the repository's stubs and sources, whichever runtime is imported.
MYPYPATH=src/python
export MYPYPATH

if ! "$PYTHON" -c 'import corosync._corosync' 2>/dev/null; then
    echo "check_types.sh: cannot import corosync._corosync; build it in place or install it" >&2
    "$PYTHON" -c 'import corosync._corosync'
    exit 2
fi

# Only the listed directories that hold Python files (mypy rejects an empty directory).
existing() {
    for d in "$@"; do
        if [ -n "$(find "$d" \( -name '*.py' -o -name '*.pyi' \) 2>/dev/null | head -n 1)" ]; then
            printf '%s\n' "$d"
        fi
    done
}
MYPY_PATHS=$(existing src/python/corosync tests examples bench)
RUFF_PATHS=$(existing src/python tests examples bench tools docs)

failed=""
run() {
    echo "==> $*"
    if ! "$@"; then
        failed="$failed
  $*"
    fi
}

run "$PYTHON" tools/gen_stubs.py --check
# The whole package: corosync._corosync against its generated stub, and the pure-Python
# modules' inline annotations against what they do at runtime.
run "$PYTHON" -m mypy.stubtest corosync --allowlist tools/stubtest-allowlist.txt
# shellcheck disable=SC2086  # word splitting of the path lists is intended
run "$PYTHON" -m mypy --strict $MYPY_PATHS
# shellcheck disable=SC2086
run "$PYTHON" -m ruff check $RUFF_PATHS
# shellcheck disable=SC2086
run "$PYTHON" -m ruff format --check $RUFF_PATHS

if [ -n "$failed" ]; then
    echo "FAILED:$failed" >&2
    exit 1
fi
echo "all checks passed"
