#!/usr/bin/env bash
# The binding's tests against an AddressSanitizer + UndefinedBehaviorSanitizer build of the
# C++ core and the extension (.ci/run runs it after the README's test command; it needs what
# that command installed: .venv, the compilers, corosync).
#
#   tools/sanitize.sh            # build build/sanitize, run the sanitized tests
#   tools/sanitize.sh -k cpg     # extra arguments go to pytest
#
# Any report ends the run with an error: ASan aborts the process, UBSan halts on the first
# finding. Leak detection is off: CPython keeps much of its memory until exit, and LSan
# would report that; growth over many messages is tested by tests/test_leaks.py instead.
#
# Which tests: those that drive the compiled module (the services, dispatch, errors, asyncio,
# daemon loss, bad input and its property test, threads). Left out, to keep CI's whole run
# under 30 minutes: the tests of pure Python code (the harness, the command line, the
# exporter, corosync.conf, the release, the docs); the examples' tests and the votequorum
# options and CFG reload tests, whose binding calls the service tests make too (they
# mostly wait for clusters to re-form); the tests that compile C++ against the installed,
# unsanitized package (test_cpp_*.py), whose core the sanitized run covers from Python;
# and the RSS test (ASan's quarantine grows memory by design).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-$PWD/.venv/bin/python}
build=build/sanitize
# -g1: line tables are enough for the reports' stack traces and compile much faster than -g.
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O1 -g1"

echo "==> sanitized build in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" -DCOROSYNC_BUILD_PYTHON=ON \
  -DPython_EXECUTABLE="$python" -Dpybind11_DIR="$("$python" -m pybind11 --cmakedir)" >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null

# The package from the source tree, with the sanitized extension (which finds the sanitized
# libcorosync_cxx through its build-tree RPATH); first on PYTHONPATH, so that the tests and
# every program they start (corosync.testing.python_env) import it.
package=$build/package
rm -rf "$package"
mkdir -p "$package"
cp -r src/python/corosync "$package/"
rm -f "$package"/corosync/_corosync*.so
cp "$build"/src/cpp/python/_corosync*.so "$package/corosync/"

tests=(
  tests/test_cpg*.py tests/test_cmap*.py tests/test_quorum.py tests/test_quorum_cluster.py
  tests/test_votequorum*.py tests/test_sam.py tests/test_sam_calls.py tests/test_sam_quorum.py
  tests/test_cfg.py tests/test_cfg_links.py tests/test_cfg_shutdown.py tests/test_aio*.py
  tests/test_dispatch.py tests/test_fast_calls.py tests/test_fileno.py tests/test_retry.py
  tests/test_shutdown.py tests/test_argument_errors.py tests/test_api_coverage.py
  tests/test_package_surface.py tests/test_daemon_loss.py
  tests/test_bad_input.py tests/test_bad_input_property.py tests/test_thread_soak.py
)

echo "==> pytest under ASan + UBSan"
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
PYTHONPATH="$PWD/$package" "$python" -m pytest -p no:cacheprovider \
  --junitxml="$build/junit.xml" "${tests[@]}" "$@"
unset LD_PRELOAD
# As in the main run: a skipped test is a failure.
"$python" tools/check_junit.py "$build/junit.xml"
