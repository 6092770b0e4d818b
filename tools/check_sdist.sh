#!/usr/bin/env bash
# Installs the package from its sdist the way a new user would, and tries it:
#
#   tools/check_sdist.sh          # as root, on a fresh Debian 12 machine (a container or a
#                                 # debootstrap root will do), from a clone of this repository
#
# 1. installs only the apt packages the README lists (read from the README itself, so that
#    what it tells users is what gets tested);
# 2. builds the sdist with `python -m build --sdist`;
# 3. installs it with pip into a fresh virtualenv, which builds the wheel from the sdist
#    alone (nothing of the clone is used);
# 4. imports it away from the clone, checks its version and license metadata, runs the
#    command line, and asks a real one-node corosync cluster (corosync.testing) for its
#    status through the command line.
# Needs root (apt-get; the test cluster lives in a network namespace). Exits non-zero on the
# first failure. tests/test_release.py checks the sdist's contents on every test run; this
# is the slow end-to-end check (it compiles the extension) to run before a release.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "$0: run as root (apt-get, and the test cluster's network namespace)" >&2
  exit 1
fi

# The README's `apt-get install` command, its continuation lines joined.
packages=$(awk '
  /^apt-get install / { on = 1 }
  on {
    line = $0; more = (line ~ /\\$/)
    sub(/\\$/, "", line); sub(/^apt-get install /, "", line); gsub(/^ +| +$/, "", line)
    printf "%s ", line
    if (!more) exit
  }' README.md)
[ -n "$packages" ] || { echo "$0: no apt-get install line in README.md" >&2; exit 1; }
echo "==> apt-get install (the README's packages) $packages"
apt-get update -qq
# shellcheck disable=SC2086  # one word per package
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "==> python -m build --sdist"
/usr/bin/python3 -m venv "$work/build-env"
"$work/build-env/bin/pip" install --quiet build
"$work/build-env/bin/python" -m build --sdist --outdir "$work/dist" . >"$work/build.log" ||
  { cat "$work/build.log"; exit 1; }
sdist=$(echo "$work"/dist/corosync-*.tar.gz)
echo "    $(basename "$sdist"): $(tar -tzf "$sdist" | wc -l) files"

echo "==> pip install $(basename "$sdist") (builds the extension)"
/usr/bin/python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "$sdist"

# From here on, nothing may come from the clone: run from elsewhere.
cd "$work"
python="$work/venv/bin/python"
echo "==> import corosync; version and license metadata"
"$python" - "$sdist" <<'EOF'
import importlib.metadata
import sys
from pathlib import Path

import corosync

dist = importlib.metadata.distribution("corosync")
assert Path(corosync.__file__).is_relative_to(Path(sys.prefix)), corosync.__file__
assert corosync.__version__ == dist.version, (corosync.__version__, dist.version)
assert Path(sys.argv[1]).name == f"corosync-{dist.version}.tar.gz", sys.argv[1]
licenses = sorted(str(f) for f in dist.files or () if "/licenses/" in str(f))
assert dist.metadata["License-Expression"], "no License-Expression"
assert any(f.endswith("/LICENSE") for f in licenses), licenses
print(f"    corosync {corosync.__version__} from {Path(corosync.__file__).parent}")
print(f"    License-Expression: {dist.metadata['License-Expression']}; files: {licenses}")
EOF
echo "==> corosync-py --help, python -m corosync --help"
"$work/venv/bin/corosync-py" --help >/dev/null
"$python" -m corosync --help >/dev/null

echo "==> a one-node corosync cluster, asked through the command line"
"$python" - <<'EOF'
import json
import sys

from corosync.testing import Cluster

with Cluster(nodes=1) as cluster:
    run = cluster.node(1).run([sys.executable, "-m", "corosync", "status", "--json"], check=True)
    status = json.loads(run.stdout)
    assert status["quorate"] is True and status["node_id"] == 1, status
    print(f"    node {status['node_id']}: quorate, ring {status['ring_id']['text']}")
EOF
echo "the sdist installs and works"
