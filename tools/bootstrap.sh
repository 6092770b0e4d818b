#!/usr/bin/env bash
# Sets up a Debian 12 machine for corosync-python, then runs the demo or the whole test suite.
#
#   tools/bootstrap.sh demo   # apt packages, build and install into .venv, run examples/demo.py
#   tools/bootstrap.sh test   # the same, then the type checks (stubs, stubtest, mypy --strict,
#                             # ruff), the documentation build and the tests against real
#                             # corosync daemons
#
# Needs root: apt-get, and the test clusters live in network namespaces. Idempotent: a second
# run installs nothing new and rebuilds the package.
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-}
case "$what" in
  demo | test) ;;
  *) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac
if [ "$(id -u)" != 0 ]; then
  echo "$0: run as root (apt-get, and corosync.testing creates network namespaces)" >&2
  exit 1
fi

# Debian's packages: corosync's daemon and client libraries, and what builds the extension.
packages=(
  corosync libcorosync-common-dev libcpg-dev libcmap-dev libquorum-dev libvotequorum-dev
  libsam-dev libcfg-dev iproute2 util-linux pkg-config cmake make g++ python3 python3-dev
  python3-venv
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Debian's Python is externally managed (PEP 668): the package goes into a virtualenv.
# /usr/bin/python3 by name, so that a python3 earlier on PATH (pyenv) is not picked up.
if [ ! -x .venv/bin/python ]; then
  echo "==> python3 -m venv .venv"
  /usr/bin/python3 -m venv .venv
fi
export PATH="$PWD/.venv/bin:$PATH"
echo "==> pip install .[dev] (builds the extension)"
python -m pip install --quiet --upgrade pip
python -m pip install --quiet ".[dev]"

case "$what" in
  demo)
    exec python examples/demo.py
    ;;
  test)
    echo "==> type checks"
    bash tools/check_types.sh
    echo "==> documentation (warnings are errors)"
    bash tools/build_docs.sh
    echo "==> pytest against real corosync daemons"
    mkdir -p build
    # pytest's "prepend" import mode puts tests/ (not the repo) on sys.path, so the tests
    # import the installed package, as a user would.
    python -m pytest --junitxml=build/junit.xml "${@:2}"
    # A skipped test is a failure here: every test must run against real corosync.
    python tools/check_junit.py build/junit.xml
    ;;
esac
