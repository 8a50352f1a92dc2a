#!/usr/bin/env bash
# Installs what the build needs (Debian packages, skipped when present), builds, and
# runs the whole test suite with ctest. Exits non-zero on any failure.
#   tools/test.sh                 Release build in ./build, all tests
#   tools/test.sh --sanitize      ASan + UBSan build in ./build-sanitize, all tests
#   BUILD_DIR=... tools/test.sh   another build directory
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=0
for arg in "$@"; do
  case "$arg" in
    --sanitize) sanitize=1 ;;
    *) echo "test.sh: unknown argument '$arg' (expected --sanitize)" >&2; exit 2 ;;
  esac
done

source tools/install_deps.sh

JOBS=${JOBS:-2}
if [ "$sanitize" = 1 ]; then
  BUILD_DIR=${BUILD_DIR:-build-sanitize}
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATTRIB_SANITIZE=ON >/dev/null
  # Any report fails the test that caused it; leaks are reported too.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
else
  BUILD_DIR=${BUILD_DIR:-build}
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$BUILD_DIR" -j "$JOBS"
cd "$BUILD_DIR"
ctest --output-on-failure -j "$JOBS" --timeout 900
