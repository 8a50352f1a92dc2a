# tests/attribctl_e2e_lib.sh: the harness the attribctl end-to-end scripts source
# (attribctl_affiliates_test.sh, attribctl_customers_test.sh): a temporary directory,
# start/stop of attribd (its address read from its banner through a FIFO), and
# expect/restore checks of attribctl's and attrib-restore's status and stdout.
# The sourcing script sets ATTRIBCTL, ATTRIBD and RESTORE first.
failures=0
dir=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

# Starts attribd on the data directory and sets $server from its banner (read from a
# FIFO: the script waits for the event itself).
start() {
  rm -f "$dir/out"
  mkfifo "$dir/out"
  "$ATTRIBD" --listen 127.0.0.1:0 --data_dir "$dir/data" >"$dir/out" 2>"$dir/err" &
  server_pid=$!
  exec 3<"$dir/out"
  local banner=
  read -r -t 60 banner <&3 || true
  server=$(grep -oE '127\.0\.0\.1:[0-9]+' <<<"$banner" | head -1)
  if [[ -z $server ]]; then
    echo "FAIL: attribd did not print its address"; cat "$dir/err"; exit 1
  fi
}
stop() {
  kill -TERM "$server_pid" && wait "$server_pid"
  server_pid=
}

# check NAME WANT_STATUS WANT_STDOUT_REGEX GOT_STATUS GOT_STDOUT
check() {
  if [[ $4 != "$2" ]] || ! grep -qE -- "$3" <<<"$5"; then
    echo "FAIL $1: status $4 (want $2)"
    echo "  stdout: $5"
    echo "  stderr: $(cat "$dir/stderr")"
    echo "  want:   /$3/"
    failures=$((failures + 1))
  else
    echo "ok   $1"
  fi
}
# expect NAME WANT_STATUS WANT_STDOUT_REGEX -- ATTRIBCTL_ARGS...
expect() {
  local name=$1 want_status=$2 want=$3 got
  shift 4
  got=$("$ATTRIBCTL" --server "$server" "$@" 2>"$dir/stderr")
  check "$name" "$want_status" "$want" $? "$got"
}
# restore NAME WANT_STATUS WANT_STDOUT_REGEX -- ATTRIB_RESTORE_ARGS...
restore() {
  local name=$1 want_status=$2 want=$3 got
  shift 4
  got=$("$RESTORE" "$@" 2>"$dir/stderr")
  check "$name" "$want_status" "$want" $? "$got"
}
