#!/usr/bin/env bash
# Installs what the build needs (Debian packages, skipped when present), builds, and
# runs the whole test suite with ctest. Exits non-zero on any failure.
#   tools/test.sh                 Release build in ./build, all tests
#   tools/test.sh --sanitize      ASan + UBSan build in ./build-sanitize, all tests
#                                 but the benchmarks' (bench/ is not built)
#   tools/test.sh --fuzz          libFuzzer targets in ./build-fuzz (clang), short runs
#   tools/test.sh --tsan          ThreadSanitizer build in ./build-tsan, the tests
#                                 labelled `concurrency` (threads, servers, attribd)
#   BUILD_DIR=... tools/test.sh   another build directory
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=0
fuzz=0
tsan=0
for arg in "$@"; do
  case "$arg" in
    --sanitize) sanitize=1 ;;
    --fuzz) fuzz=1 ;;
    --tsan) tsan=1 ;;
    *) echo "test.sh: unknown argument '$arg' (expected --sanitize, --fuzz or --tsan)" >&2; exit 2 ;;
  esac
done

source tools/install_deps.sh
# The Node packages of the HTTP API tests (tests/http/package-lock.json), once.
if [ ! -d tests/http/node_modules ] ||
    [ tests/http/package-lock.json -nt tests/http/node_modules ]; then
  npm ci --prefix tests/http --no-audit --no-fund --loglevel=error >/dev/null
  touch tests/http/node_modules
fi

JOBS=${JOBS:-2}

# The libFuzzer targets (fuzz/): a short run of each over its seed corpus (ctest in
# build-fuzz). Needs clang; skipped with a message without it.
run_fuzz() {
  if ! command -v clang++ >/dev/null 2>&1; then
    echo "test.sh: clang++ not found: skipping the fuzz targets (fuzz/, tools/fuzz.sh)" >&2
    return 0
  fi
  local dir=${FUZZ_BUILD_DIR:-build-fuzz}
  CC=clang CXX=clang++ cmake -S . -B "$dir" -DATTRIB_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DATTRIB_LINE_TABLES_ONLY=ON -DATTRIB_BUILD_TESTS=OFF -DATTRIB_BUILD_BENCH=OFF >/dev/null
  cmake --build "$dir" -j "$JOBS" --target fuzz_targets
  ctest --test-dir "$dir" --output-on-failure -j "$JOBS" --timeout 900
}
# ThreadSanitizer: only the tests that run threads or servers (ctest label
# `concurrency`, set with attrib_test(... CONCURRENT ...) and set_tests_properties;
# the `concurrency_tests` target builds just them, attribd and the tools they start).
# absl::Mutex is annotated for TSan by tests/tsan_absl_mutex_annotations.cc; the
# tsan_probe tests check that first. Any report fails: the test process exits 66,
# and a report in an attribd child fails the test that started it
# (tests/attribd_process.cc). No suppressions.
run_tsan() {
  local dir=${TSAN_BUILD_DIR:-build-tsan}
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATTRIB_LINE_TABLES_ONLY=ON \
    -DATTRIB_TSAN=ON >/dev/null
  cmake --build "$dir" -j "$JOBS" --target concurrency_tests
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:exitcode=66:second_deadlock_stack=1}
  ctest --test-dir "$dir" -L concurrency --output-on-failure -j "$JOBS" --timeout 900
}
if [ "$fuzz" = 1 ]; then run_fuzz; exit 0; fi
if [ "$tsan" = 1 ]; then run_tsan; exit 0; fi
if [ "$sanitize" = 1 ]; then
  BUILD_DIR=${BUILD_DIR:-build-sanitize}
  # The benchmarks are left out (their unit tests run in the normal build and, the
  # ones that start servers, under --tsan): they only lengthened this build.
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATTRIB_LINE_TABLES_ONLY=ON \
    -DATTRIB_BUILD_BENCH=OFF -DATTRIB_SANITIZE=ON >/dev/null
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
