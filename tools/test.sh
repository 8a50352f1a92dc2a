#!/usr/bin/env bash
# Installs what the build needs (Debian packages, skipped when present), builds, and
# runs the whole test suite with ctest. Exits non-zero on any failure.
#   tools/test.sh                 Release build in ./build, all tests
#   BUILD_DIR=... tools/test.sh   another build directory
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/install_deps.sh

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-2}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
cd "$BUILD_DIR"
ctest --output-on-failure -j "$JOBS" --timeout 600
