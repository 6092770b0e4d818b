#!/bin/sh
# Builds the documentation site (Sphinx, docs/) into build/docs/html, warnings as errors.
#
#   tools/build_docs.sh            (from anywhere; it works from the repository root)
#
# The API reference is read from the compiled module itself, so `corosync._corosync` must be
# importable by $PYTHON (default python3), as for tools/check_types.sh: built in place (its
# .so in src/python/corosync; docs/conf.py then puts src/python first) or installed. Needs
# the `docs` extra (in `dev` too). Every page is read again on each run (-E): a warning
# must not hide in a page that an incremental build would skip. tests/test_docs.py runs the
# pages' code blocks.
set -eu
cd "$(dirname "$0")/.." || exit 2
PYTHON=${PYTHON:-python3}
OUT=build/docs

rm -rf "$OUT/html"
exec "$PYTHON" -m sphinx -E -W --keep-going -q -b html -d "$OUT/doctrees" docs "$OUT/html"
