#!/usr/bin/env bash
# Durability figures for the README (SPEC §9, issue 4): durable connects per second
# with 50 clients for each --fsync mode; lookup latency idle vs while snapshots run;
# restart time (snapshot + log) at N connections. Each attribd runs on a free port
# with a temporary data directory, and is stopped at the end (also on failure).
#
#   bench/durability_bench.sh [BUILD_DIR] [N]     (defaults: build, 1000000)
set -euo pipefail
build=${1:-build}
n=${2:-1000000}
secs=${SECS:-10}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# start_server NAME FLAGS...: starts attribd, sets $addr and $pid (banner via a FIFO).
start_server() {
  local name=$1; shift
  mkfifo "$work/$name.out"
  "$build/tools/attribd" --listen=127.0.0.1:0 "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pid=$!
  pids+=("$pid")
  exec 3<"$work/$name.out"
  local banner
  read -r -t 600 banner <&3
  exec 3<&-
  addr=$(grep -oE '127\.0\.0\.1:[0-9]+' <<<"$banner" | head -1)
}

echo "== durable connects, 50 connections, ${secs} s each"
for mode in always interval never; do
  start_server "w-$mode" --data_dir="$work/w-$mode" --fsync="$mode"
  "$build/bench/load_client" --server="$addr" --op=connect --connections=50 --seconds="$secs" \
    | sed "s/^/fsync=$mode  /"
  kill -TERM "$pid"; wait "$pid" || true
done

echo "== lookups, 50 connections, $n connections stored"
start_server snap --data_dir="$work/snap" --fsync=always --snapshot_every_bytes=0
"$build/bench/load_client" --server="$addr" --op=lookup --connections=1 --seconds=0.1 \
  --preload="$n" --keys="$n" >/dev/null
"$build/bench/load_client" --server="$addr" --op=lookup --connections=50 --seconds="$secs" \
  --keys="$n" | sed 's/^/idle            /'
( TIMEFORMAT=%R
  end=$((SECONDS + secs))
  while [ $SECONDS -lt $end ]; do
    { time "$build/tools/attribctl" --server="$addr" snapshot >/dev/null; } 2>>"$work/snaptimes"
  done ) &
snapper=$!
"$build/bench/load_client" --server="$addr" --op=lookup --connections=50 --seconds="$secs" \
  --keys="$n" | sed 's/^/during snapshot /'
wait "$snapper"
echo "snapshots taken during the run: $(wc -l <"$work/snaptimes"), seconds each: $(tr '\n' ' ' <"$work/snaptimes")"
ls -l "$work/snap/snapshots" | awk '/snap-/{print "snapshot size: " $5 " bytes"}' | tail -1

echo "== restart with $n connections (snapshot + log)"
"$build/tools/attribctl" --server="$addr" ping >/dev/null
kill -TERM "$pid"; wait "$pid" || true   # Final snapshot at shutdown.
start=$(date +%s.%N)
start_server restart --data_dir="$work/snap"
end=$(date +%s.%N)
echo "restart to listening: $(echo "$end - $start" | bc) s"
grep -E "recovered" "$work/restart.err" || true
kill -TERM "$pid"; wait "$pid" || true
