#!/usr/bin/env bash
# attrib vs Redis, side by side in one run (SPEC §9, issue 5). Builds what is missing,
# installs redis-server if missing (Debian package), starts attribd and redis-server
# on free loopback ports with their data in a temporary directory, loads the same
# keys into both with bench/attrib-bench, then runs every scenario against each
# server alternately (A B A B ..., --pairs pairs) and prints, per scenario, the
# median of each server and the ratio attrib/Redis. Both servers are stopped at the
# end, also on failure or Ctrl-C.
#
#   bench/compare_redis.sh [--quick] [--keys=N] [--pairs=P] [--seconds=S] [--build=DIR]
#
# --quick: 1M keys, 3 s runs, 3 pairs (~3 minutes). Default: 10M keys, 8 s runs,
# 3 pairs (~15 minutes). The last lines are a markdown table for the README.
#
# Scenarios: lookups from 50 connections at pipeline 1, 16 and 128 (Redis GET);
# batch lookups of 128 keys (Redis MGET); 1 connection at pipeline 1 (latency);
# durable writes from 50 connections at pipeline 1 and 16 (attribd --fsync=always vs
# Redis appendonly yes + appendfsync always; attrib connects with mode reassign,
# Redis SET: both overwrite existing keys); memory per key after loading 1M and N
# keys (RSS of each server); restart time with N keys (attribd after SIGKILL from a
# snapshot plus N/10 logged changes, Redis from its RDB file). Lookups run with all
# N keys stored, uniformly chosen.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
keys=""
pairs=3
secs=""
build=build
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --keys=*) keys=${arg#*=} ;;
    --pairs=*) pairs=${arg#*=} ;;
    --seconds=*) secs=${arg#*=} ;;
    --build=*) build=${arg#*=} ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "compare_redis.sh: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then
  keys=${keys:-1000000}; secs=${secs:-3}
else
  keys=${keys:-10000000}; secs=${secs:-8}
fi
small=$(( keys < 1000000 ? keys : 1000000 ))

# ---- Prerequisites: packages, build, redis-server.
source tools/install_deps.sh
if ! command -v redis-server >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing redis-server (Debian package)" >&2
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
fi
if [ ! -x "$build/bench/attrib-bench" ] || [ ! -x "$build/tools/attribd" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j "${JOBS:-2}" --target attribd attribctl attrib-bench
fi
bench="$build/bench/attrib-bench"
attribctl="$build/tools/attribctl"

work=$(mktemp -d /tmp/compare_redis.XXXXXX)
attrib_pid=""
redis_pid=""
stop_servers() {
  [ -n "$attrib_pid" ] && kill -9 "$attrib_pid" 2>/dev/null || true
  [ -n "$redis_pid" ] && kill -9 "$redis_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  attrib_pid=""; redis_pid=""
}
cleanup() { stop_servers; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[$(date +%T)] $*" >&2; }

# start_attribd: starts attribd on a free port with data in $work/attrib; sets
# attrib_addr and attrib_pid once it prints its listening line (after recovery);
# start_seconds = exec to listening.
start_attribd() {
  rm -f "$work/attrib.fifo"; mkfifo "$work/attrib.fifo"
  local t0; t0=$(date +%s.%N)
  "$build/tools/attribd" --listen=127.0.0.1:0 --data_dir="$work/attrib" --fsync=always \
    >"$work/attrib.fifo" 2>>"$work/attrib.err" &
  attrib_pid=$!
  local banner
  read -r -t 600 banner <"$work/attrib.fifo" || { cat "$work/attrib.err" >&2; exit 1; }
  start_seconds=$(echo "$(date +%s.%N) - $t0" | bc)
  attrib_addr=$(grep -oE '127\.0\.0\.1:[0-9]+' <<<"$banner" | head -1)
}

free_port() {
  local p
  while :; do
    p=$(( 20000 + RANDOM % 30000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

# start_redis [FLAGS...]: redis-server on a free port, data in $work/redis; waits
# until it answers PING (it answers LOADING while it reads its RDB file).
start_redis() {
  mkdir -p "$work/redis"
  redis_port=$(free_port)
  local t0; t0=$(date +%s.%N)
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" \
    --save '' --appendonly no --daemonize no --logfile "$work/redis.log" "$@" &
  redis_pid=$!
  local i
  for i in $(seq 1 60000); do
    [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && break
    kill -0 "$redis_pid" 2>/dev/null || { cat "$work/redis.log" >&2; exit 1; }
    sleep 0.01
  done
  start_seconds=$(echo "$(date +%s.%N) - $t0" | bc)
  redis_addr="127.0.0.1:$redis_port"
}

rss_bytes() { awk '/^VmRSS/ {print $2 * 1024}' "/proc/$1/status"; }
jget() { grep -oE "\"$1\":[^,}]*" | head -1 | cut -d: -f2 | tr -d '"'; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# run_bench TARGET ADDR PID FLAGS...: one measured run, its JSON line on stdout.
run_bench() {
  local target=$1 addr=$2 pid=$3; shift 3
  "$bench" --target="$target" --server="$addr" --server_pid="$pid" --keys="$keys" \
    --duration="$secs" --warmup=1 --json "$@" 2>>"$work/bench.err"
}

results="$work/results.tsv"   # scenario, attrib median, redis median, unit, ratio
printf 'scenario\tattrib\tredis\tratio\n' >"$results"

# scenario NAME UNIT FLAGS...: pairs of runs (attrib then Redis), medians, ratio.
# UNIT: "req/s" (throughput), "keys/s" (key_throughput) or "us p50" (latency).
scenario() {
  local name=$1 unit=$2; shift 2
  local key=throughput
  [ "$unit" = "keys/s" ] && key=key_throughput
  [ "$unit" = "us p50" ] && key=p50_us
  local a=() r=() ap99=() rp99=() i out
  for i in $(seq 1 "$pairs"); do
    out=$(run_bench attrib "$attrib_addr" "$attrib_pid" "$@")
    a+=("$(jget "$key" <<<"$out")"); ap99+=("$(jget p99_us <<<"$out")")
    echo "$name attrib $out" >>"$work/runs.log"
    out=$(run_bench redis "$redis_addr" "$redis_pid" "$@")
    r+=("$(jget "$key" <<<"$out")"); rp99+=("$(jget p99_us <<<"$out")")
    echo "$name redis $out" >>"$work/runs.log"
  done
  local am rm ratio
  am=$(printf '%s\n' "${a[@]}" | median)
  rm=$(printf '%s\n' "${r[@]}" | median)
  if [ "$unit" = "us p50" ]; then
    ratio=$(echo "scale=2; $rm / $am" | bc)   # Lower latency is better.
  else
    ratio=$(echo "scale=2; $am / $rm" | bc)
  fi
  local ap rp
  ap=$(printf '%s\n' "${ap99[@]}" | median)
  rp=$(printf '%s\n' "${rp99[@]}" | median)
  printf '%s\t%.0f %s (p99 %.0f us)\t%.0f %s (p99 %.0f us)\t%sx\n' "$name" "$am" "$unit" \
    "$ap" "$rm" "$unit" "$rp" "$ratio" >>"$results"
  log "$name: attrib $am, redis $rm $unit, ratio ${ratio}x (runs: ${a[*]} | ${r[*]})"
}

log "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(redis-server --version | cut -d' ' -f1-3)"
log "keys: $keys, runs of ${secs} s, $pairs pairs; work dir $work"

# ---- Load and memory.
start_attribd
start_redis
rss_attrib0=$(rss_bytes "$attrib_pid"); rss_redis0=$(rss_bytes "$redis_pid")
log "loading $small keys into both"
la=$("$bench" --target=attrib --server="$attrib_addr" --keys="$small" --load --load_only --json 2>>"$work/bench.err")
lr=$("$bench" --target=redis --server="$redis_addr" --keys="$small" --load --load_only --json 2>>"$work/bench.err")
mem_line() {  # mem_line N RSS_ATTRIB RSS_REDIS
  printf 'RSS per key, %s keys\t%.1f B\t%.1f B\t%sx (Redis/attrib)\n' "$1" \
    "$(echo "$2 / $1" | bc -l)" "$(echo "$3 / $1" | bc -l)" \
    "$(echo "scale=2; $3 / $2" | bc)" >>"$results"
}
mem_line "$small" "$(rss_bytes "$attrib_pid")" "$(rss_bytes "$redis_pid")"
printf 'load %s keys (pipelined)\t%.2f s\t%.2f s\t\n' "$small" "$(jget load_seconds <<<"$la")" \
  "$(jget load_seconds <<<"$lr")" >>"$results"
if [ "$keys" -gt "$small" ]; then
  log "loading keys $small..$keys into both"
  la=$("$bench" --target=attrib --server="$attrib_addr" --keys="$keys" --load_start="$small" \
    --load --load_only --json 2>>"$work/bench.err")
  lr=$("$bench" --target=redis --server="$redis_addr" --keys="$keys" --load_start="$small" \
    --load --load_only --json 2>>"$work/bench.err")
  mem_line "$keys" "$(rss_bytes "$attrib_pid")" "$(rss_bytes "$redis_pid")"
fi
log "RSS empty: attribd $rss_attrib0 B, redis $rss_redis0 B"

# ---- Lookups (reads).
scenario "lookup, 50 conns, pipeline 1" "req/s" --mix=lookup=100 --connections=50 --pipeline=1
scenario "lookup, 50 conns, pipeline 16" "req/s" --mix=lookup=100 --connections=50 --pipeline=16
scenario "lookup, 50 conns, pipeline 128" "req/s" --mix=lookup=100 --connections=50 --pipeline=128
scenario "batch lookup of 128 (MGET), 50 conns" "keys/s" --mix=batch=100 --batch=128 \
  --connections=50 --pipeline=1
scenario "lookup latency, 1 conn, pipeline 1" "us p50" --mix=lookup=100 --connections=1 --pipeline=1

# ---- Durable writes: Redis switches to appendonly + appendfsync always (its AOF
# rewrite must finish first); attribd has run with --fsync=always all along.
redis-cli -p "$redis_port" config set appendfsync always >/dev/null
redis-cli -p "$redis_port" config set appendonly yes >/dev/null
while redis-cli -p "$redis_port" info persistence | grep -qE 'aof_rewrite_in_progress:1|aof_rewrite_scheduled:1'; do
  sleep 0.2
done
scenario "durable writes, 50 conns, pipeline 1" "req/s" --mix=connect=100 --connect_mode=reassign \
  --connections=50 --pipeline=1
scenario "durable writes, 50 conns, pipeline 16" "req/s" --mix=connect=100 --connect_mode=reassign \
  --connections=50 --pipeline=16

# ---- Restart with all keys: attribd after SIGKILL from a snapshot plus a log tail
# of keys/10 changes written after it; Redis from an RDB file written by SAVE.
snap_t0=$(date +%s.%N)
"$attribctl" --server="$attrib_addr" snapshot >/dev/null
snap_s=$(echo "$(date +%s.%N) - $snap_t0" | bc)
tail_changes=$(( keys / 10 ))
run_bench attrib "$attrib_addr" "$attrib_pid" --mix=connect=100 --connect_mode=reassign \
  --connections=50 --pipeline=16 --requests="$tail_changes" --duration=0 --warmup=0 >/dev/null
kill -9 "$attrib_pid"; wait "$attrib_pid" 2>/dev/null || true
start_attribd
attrib_restart=$start_seconds
redis-cli -p "$redis_port" config set appendonly no >/dev/null
redis-cli -p "$redis_port" save >/dev/null
redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
wait "$redis_pid" 2>/dev/null || true
start_redis --dbfilename dump.rdb
redis_restart=$start_seconds
printf 'restart with %s keys (attrib: snapshot + %s logged changes)\t%.2f s\t%.2f s\t%sx\n' \
  "$keys" "$tail_changes" "$attrib_restart" \
  "$redis_restart" "$(echo "scale=2; $redis_restart / $attrib_restart" | bc)" >>"$results"
printf 'attribd snapshot of %s keys while idle\t%.2f s\t\t\n' "$keys" "$snap_s" >>"$results"
grep -h "recovered" "$work/attrib.err" | tail -1 >&2 || true

echo
echo "attrib vs Redis, $(date +%F), $keys keys, ${secs} s runs, median of $pairs (A B alternating)"
column -t -s $'\t' "$results"
echo
echo "| scenario | attrib | Redis | ratio |"
echo "|---|---|---|---|"
tail -n +2 "$results" | awk -F'\t' '{printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4}'
