#!/usr/bin/env bash
# Refreshes the admin page's screenshots in docs/admin/ (the README shows them): runs
# the browser test (tests/admin_page_test.cc -> tests/http/admin_browser_test.mjs)
# with ATTRIB_SCREENSHOTS set, against a fresh attribd it starts itself.
#   tools/admin_screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/install_deps.sh
npm ci --prefix tests/http --no-audit --no-fund --loglevel=error >/dev/null
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "${JOBS:-2}" --target attribd admin_page_test
ATTRIB_SCREENSHOTS="$PWD/docs/admin" "$BUILD_DIR/tests/admin_page_test" \
  --gtest_filter='AdminPageTest.ThePageInHeadlessChromium'
ls docs/admin/*.png
