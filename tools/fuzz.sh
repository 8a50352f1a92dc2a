#!/usr/bin/env bash
# Runs one libFuzzer target (fuzz/) for a while, on a copy of its checked-in seed
# corpus (the inputs it finds go to a temp dir, never into fuzz/corpus/).
#   tools/fuzz.sh TARGET SECONDS    e.g. tools/fuzz.sh frame_fuzz 60
#   tools/fuzz.sh --list            the targets
# Configures and builds ./build-fuzz with clang (-DATTRIB_FUZZ=ON: ASan + UBSan +
# libFuzzer). Prints the number of executions; exits non-zero, naming the crash
# file, when the target finds a crash. BUILD_DIR and JOBS override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(frame_fuzz log_reader_fuzz mutation_codec_fuzz snapshot_reader_fuzz canonical_email_fuzz csv_reader_fuzz)
if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${targets[@]}"
  exit 0
fi
if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: tools/fuzz.sh TARGET SECONDS | tools/fuzz.sh --list" >&2
  exit 2
fi
target=$1
seconds=$2
if ! printf '%s\n' "${targets[@]}" | grep -qx "$target"; then
  echo "fuzz.sh: unknown target '$target' (tools/fuzz.sh --list)" >&2
  exit 2
fi
if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (libFuzzer needs clang)" >&2
  exit 2
fi

BUILD_DIR=${BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-2}
CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -DATTRIB_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATTRIB_BUILD_TESTS=OFF -DATTRIB_BUILD_BENCH=OFF \
  >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" --target "$target" >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/attrib-fuzz-$target.XXXXXX")
mkdir -p "$work/corpus" "$work/crashes"
cp fuzz/corpus/"$target"/* "$work/corpus/"
log="$work/fuzz.log"
echo "fuzz.sh: $target for ${seconds}s in $work"
status=0
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  "$BUILD_DIR/fuzz/$target" -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 \
  -artifact_prefix="$work/crashes/" "$work/corpus" >"$log" 2>&1 || status=$?

execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
if [ -z "$execs" ]; then
  execs=$(grep -Eo '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
fi
echo "fuzz.sh: $target: ${execs:-?} executions, corpus $(ls "$work/corpus" | wc -l) inputs"
crash=$(ls "$work"/crashes/* 2>/dev/null | head -1 || true)
if [ "$status" -ne 0 ] || [ -n "$crash" ]; then
  tail -40 "$log" >&2
  echo "fuzz.sh: $target FAILED (exit $status); crash file: ${crash:-none}; log: $log" >&2
  exit 1
fi
rm -rf "$work"
