#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds Release, and starts attrib.
# Until the network server (attribd, next issue) exists, this starts the interactive
# in-memory engine demo; the command stays the same.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/install_deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "${JOBS:-2}" --target attrib_demo
exec "$BUILD_DIR/tools/attrib_demo"
