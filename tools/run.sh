#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds Release, and starts attribd on
# 127.0.0.1:7411 with its data directory ./data (and the HTTP API at
# http://127.0.0.1:7412 and the admin page at http://127.0.0.1:7412/admin/: its startup
# line names these URLs). Extra arguments go to attribd:
#   tools/run.sh --threads=2 --listen=127.0.0.1:7500
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/install_deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "${JOBS:-2}" --target attribd attribctl
mkdir -p data
exec "$BUILD_DIR/tools/attribd" --listen=127.0.0.1:7411 --data_dir=./data "$@"
