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
# --quick: 1M keys, 3 s runs, 3 pairs (~8 minutes). Default: 10M keys, 8 s runs,
# 3 pairs (~30 minutes). The last lines are markdown tables for the README.
#
# Scenarios: lookups from 50 connections at pipeline 1, 16 and 128 (Redis GET);
# batch lookups of 128 keys (Redis MGET); 1 connection at pipeline 1 (latency);
# durable writes from 50 connections at pipeline 1 and 16 (attribd --fsync=always vs
# Redis appendonly yes + appendfsync always; attrib connects with mode reassign,
# Redis SET: both overwrite existing keys); memory per key after loading 1M and N
# keys (RSS of each server); restart time with N keys (attribd after SIGKILL from a
# snapshot plus N/10 logged changes, Redis from its RDB file). Lookups run with all
# N keys stored, uniformly chosen. Every scenario also gives each server's CPU
# microseconds per request (its CPU seconds over the measured window, from
# /proc/PID/stat in 10 ms ticks, divided by the requests answered: kernel time for
# its sockets included; a batch counts as one request).
#
# The ceiling (SPEC §9: "where the ceiling is below a target, the figure must come
# within 5% of the ceiling"): the lookup scenarios at pipeline 1, 16, 128 and the
# batch of 128 also run, in the same alternation (attrib, Redis, ceiling, attribd
# ping, Redis PING, zero-work RESP, then again), against
#   - zero-work (attrib): bench/zero-work-server --protocol=attrib, one thread, one
#     epoll loop, a fixed reply per frame (lookup: found = false; batch: 128 items
#     not found): the same load, the same client, no work. No server can beat it on
#     this machine with this client, so it is the ceiling for attrib's figure;
#   - attribd ping: the same connections and pipeline, Request.ping (no engine):
#     attribd's protocol and I/O cost alone;
#   - Redis PING: the same for Redis;
#   - zero-work (RESP): the zero-work server speaking RESP (GET: nil; MGET: nils),
#     Redis's ceiling.
# (ping has no batch form: the batch row has no ping figures.) How to read a row of
# the ceiling table: "ceiling/Redis" is the best ratio any server could show here.
# If it is at or above the SPEC target, the target stands. If it is below, the
# target is out of reach on this machine and the figure to judge is "attrib/ceiling",
# which must be >= 0.95 (within 5% of the ceiling). attrib vs attribd ping is what
# the lookups themselves cost; attribd ping vs the ceiling is attribd's per-request
# overhead (threads, framing, Cap'n Proto); Redis PING vs zero-work (RESP) is the
# same for Redis. The zero-work server is single-threaded: if its CPU per request
# times its throughput is near 1 (one core busy), that row is bound by its thread,
# not by the machine, and a two-thread server could pass it.
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
    -h|--help) sed -n '2,49p' "$0"; exit 0 ;;
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
if [ ! -x "$build/bench/attrib-bench" ] || [ ! -x "$build/tools/attribd" ] ||
   [ ! -x "$build/bench/zero-work-server" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j "${JOBS:-2}" --target attribd attribctl attrib-bench zero-work-server
fi
bench="$build/bench/attrib-bench"
attribctl="$build/tools/attribctl"

work=$(mktemp -d /tmp/compare_redis.XXXXXX)
attrib_pid=""
redis_pid=""
zw_attrib_pid=""
zw_resp_pid=""
stop_servers() {
  local pid
  for pid in "$attrib_pid" "$redis_pid" "$zw_attrib_pid" "$zw_resp_pid"; do
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  attrib_pid=""; redis_pid=""; zw_attrib_pid=""; zw_resp_pid=""
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

# start_zero_work PROTOCOL: bench/zero-work-server on a free port; sets zw_addr and
# zw_pid once it prints its listening line.
start_zero_work() {
  rm -f "$work/zw.fifo"; mkfifo "$work/zw.fifo"
  "$build/bench/zero-work-server" --protocol="$1" --listen=127.0.0.1:0 \
    >"$work/zw.fifo" 2>>"$work/zw.err" &
  zw_pid=$!
  local banner
  read -r -t 60 banner <"$work/zw.fifo" || { cat "$work/zw.err" >&2; exit 1; }
  zw_addr=$(grep -oE '127\.0\.0\.1:[0-9]+' <<<"$banner" | head -1)
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
# bench_keys (default: keys) sets --keys, for runs whose requests carry no key.
run_bench() {
  local target=$1 addr=$2 pid=$3; shift 3
  "$bench" --target="$target" --server="$addr" --server_pid="$pid" --keys="${bench_keys:-$keys}" \
    --duration="$secs" --warmup=1 --json "$@" 2>>"$work/bench.err"
}

results="$work/results.tsv"   # scenario, attrib, Redis, ratio, CPU us/request of each
printf 'scenario\tattrib\tredis\tratio\tattrib CPU/req\tRedis CPU/req\n' >"$results"
ceiling="$work/ceiling.tsv"   # the ceiling rows (see the header)
printf 'scenario\tattrib\tzero-work (attrib)\tattribd ping\tRedis\tRedis PING\tzero-work (RESP)\tattrib/Redis\tceiling/Redis\tattrib/ceiling\n' >"$ceiling"
ceiling_cpu="$work/ceiling_cpu.tsv"
printf 'scenario (server CPU us/request)\tattribd\tzero-work (attrib)\tattribd ping\tRedis\tRedis PING\tzero-work (RESP)\n' >"$ceiling_cpu"

# One run's figures, per row of the current scenario: measured value, p99, server
# CPU us/request, each a space-separated list over the pairs.
declare -A m_val m_p99 m_cpu

# measure ROW NAME KEY FLAGS...: one run of scenario NAME against ROW's server:
# attrib, redis (the scenario's load), zw_attrib, zw_resp (the same load against the
# zero-work server), ping_attrib, ping_redis (the same connections and pipeline,
# --mix=ping=100).
measure() {
  local row=$1 name=$2 key=$3; shift 3
  local target addr pid flags=() f out
  case "$row" in
    attrib|ping_attrib) target=attrib addr=$attrib_addr pid=$attrib_pid ;;
    redis|ping_redis) target=redis addr=$redis_addr pid=$redis_pid ;;
    zw_attrib) target=attrib addr=$zw_attrib_addr pid=$zw_attrib_pid ;;
    zw_resp) target=redis addr=$zw_resp_addr pid=$zw_resp_pid ;;
  esac
  if [[ "$row" == ping_* ]]; then
    for f in "$@"; do [[ "$f" == --mix=* || "$f" == --batch=* ]] || flags+=("$f"); done
    out=$(bench_keys=1000 run_bench "$target" "$addr" "$pid" "${flags[@]}" --mix=ping=100)
    key=throughput
  else
    out=$(run_bench "$target" "$addr" "$pid" "$@")
  fi
  echo "$name $row $out" >>"$work/runs.log"
  m_val[$row]+=" $(jget "$key" <<<"$out")"
  m_p99[$row]+=" $(jget p99_us <<<"$out")"
  m_cpu[$row]+=" $(awk -v c="$(jget server_cpu_s <<<"$out")" -v n="$(jget requests <<<"$out")" \
    'BEGIN {printf "%.3f", (n > 0) ? c * 1e6 / n : 0}')"
}
med() { tr ' ' '\n' <<<"${m_val[$1]}" | grep -v '^$' | median; }
med_p99() { tr ' ' '\n' <<<"${m_p99[$1]}" | grep -v '^$' | median; }
med_cpu() { tr ' ' '\n' <<<"${m_cpu[$1]}" | grep -v '^$' | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; }
# A figure with thousands separators and its unit.
figure() { printf "%'.0f %s" "$1" "$2"; }

# scenario ROWS NAME UNIT FLAGS...: pairs of runs of every row in ROWS ("attrib
# redis", plus the ceiling rows for the ceiling table), alternated, medians, ratios.
# UNIT: "req/s" (throughput), "keys/s" (key_throughput) or "us p50" (latency).
scenario() {
  local rows=$1 name=$2 unit=$3; shift 3
  local key=throughput
  [ "$unit" = "keys/s" ] && key=key_throughput
  [ "$unit" = "us p50" ] && key=p50_us
  m_val=(); m_p99=(); m_cpu=()
  local i row
  for i in $(seq 1 "$pairs"); do
    for row in $rows; do measure "$row" "$name" "$key" "$@"; done
  done
  local am rm r
  am=$(med attrib); rm=$(med redis)
  if [ "$unit" = "us p50" ]; then
    r=$(ratio "$rm" "$am")   # Lower latency is better.
  else
    r=$(ratio "$am" "$rm")
  fi
  printf '%s\t%.0f %s (p99 %.0f us)\t%.0f %s (p99 %.0f us)\t%sx\t%.2f us\t%.2f us\n' "$name" \
    "$am" "$unit" "$(med_p99 attrib)" "$rm" "$unit" "$(med_p99 redis)" "$r" \
    "$(med_cpu attrib)" "$(med_cpu redis)" >>"$results"
  log "$name: attrib $am, redis $rm $unit, ratio ${r}x (runs:${m_val[attrib]} |${m_val[redis]})"
  [[ "$rows" == *zw_attrib* ]] || return 0
  local zm pa pr zr cells=() cpus=()
  zm=$(med zw_attrib); zr=$(med zw_resp)
  for row in attrib zw_attrib ping_attrib redis ping_redis zw_resp; do
    if [ -n "${m_val[$row]:-}" ]; then
      cells+=("$(figure "$(med "$row")" "$([[ $row == ping_* ]] && echo req/s || echo "$unit")")")
      cpus+=("$(printf '%.2f us' "$(med_cpu "$row")")")
    else
      cells+=("-"); cpus+=("-")
    fi
  done
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%sx\t%sx\t%s\n' "$name" "${cells[@]}" "$r" \
    "$(ratio "$zm" "$rm")" "$(ratio "$am" "$zm")" >>"$ceiling"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "${cpus[@]}" >>"$ceiling_cpu"
  log "$name: ceiling $zm (zero-work RESP $zr) $unit, ceiling/Redis $(ratio "$zm" "$rm")x," \
    "attrib/ceiling $(ratio "$am" "$zm") (runs:${m_val[zw_attrib]} |${m_val[zw_resp]})"
}
plain="attrib redis"
with_ceiling="attrib redis zw_attrib ping_attrib ping_redis zw_resp"
with_ceiling_no_ping="attrib redis zw_attrib zw_resp"

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

# ---- Lookups (reads), with the ceiling rows: the zero-work servers run beside
# attribd and Redis (idle, in epoll_wait, while the others are measured).
start_zero_work attrib; zw_attrib_addr=$zw_addr; zw_attrib_pid=$zw_pid
start_zero_work resp; zw_resp_addr=$zw_addr; zw_resp_pid=$zw_pid
scenario "$with_ceiling" "lookup, 50 conns, pipeline 1" "req/s" --mix=lookup=100 --connections=50 --pipeline=1
scenario "$with_ceiling" "lookup, 50 conns, pipeline 16" "req/s" --mix=lookup=100 --connections=50 --pipeline=16
scenario "$with_ceiling" "lookup, 50 conns, pipeline 128" "req/s" --mix=lookup=100 --connections=50 --pipeline=128
scenario "$with_ceiling_no_ping" "batch lookup of 128 (MGET), 50 conns" "keys/s" --mix=batch=100 \
  --batch=128 --connections=50 --pipeline=1
kill -9 "$zw_attrib_pid" "$zw_resp_pid" 2>/dev/null || true
wait "$zw_attrib_pid" "$zw_resp_pid" 2>/dev/null || true
zw_attrib_pid=""; zw_resp_pid=""
scenario "$plain" "lookup latency, 1 conn, pipeline 1" "us p50" --mix=lookup=100 --connections=1 --pipeline=1

# ---- Durable writes: Redis switches to appendonly + appendfsync always (its AOF
# rewrite must finish first); attribd has run with --fsync=always all along.
redis-cli -p "$redis_port" config set appendfsync always >/dev/null
redis-cli -p "$redis_port" config set appendonly yes >/dev/null
while redis-cli -p "$redis_port" info persistence | grep -qE 'aof_rewrite_in_progress:1|aof_rewrite_scheduled:1'; do
  sleep 0.2
done
scenario "$plain" "durable writes, 50 conns, pipeline 1" "req/s" --mix=connect=100 --connect_mode=reassign \
  --connections=50 --pipeline=1
scenario "$plain" "durable writes, 50 conns, pipeline 16" "req/s" --mix=connect=100 --connect_mode=reassign \
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

# markdown TSV: the file as a markdown table (header row first).
markdown() {
  awk -F'\t' 'NR == 1 { n = NF }
    { line = "|"; for (i = 1; i <= n; i++) line = line " " $i " |"; print line
      if (NR == 1) { line = "|"; for (i = 1; i <= n; i++) line = line "---|"; print line } }' "$1"
}

echo
echo "attrib vs Redis, $(date +%F), $keys keys, ${secs} s runs, median of $pairs (alternating)"
column -t -s $'\t' "$results"
echo
echo "Ceiling: the same loads against zero-work-server, and ping (see the header of $0)"
column -t -s $'\t' "$ceiling"
echo
column -t -s $'\t' "$ceiling_cpu"
echo
markdown "$results"
echo
markdown "$ceiling"
echo
markdown "$ceiling_cpu"
