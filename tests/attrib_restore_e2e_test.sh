#!/usr/bin/env bash
# tests/attrib_restore_e2e_test.sh
#
# End-to-end test of attrib-restore on a data directory written by a real attribd:
# customers are connected with attribctl (with a snapshot and archived segments in
# between), attribd is stopped with SIGTERM, then verify, inspect, export, history,
# restore (at a sequence number, then served by attribd again), rekey (served under
# the new policy), import (new directory; refused while attribd holds the lock) and
# the usage errors are checked, with their exit codes (0 ok, 1 problem, 2 usage).
# Usage: attrib_restore_e2e_test.sh ATTRIB_RESTORE ATTRIBD ATTRIBCTL
# Runs in its own temporary directory on 127.0.0.1:0; no sleeps: the server's banner
# is read from a FIFO.
set -uo pipefail
RESTORE=${1:?usage: $0 attrib-restore attribd attribctl}
ATTRIBD=${2:?usage: $0 attrib-restore attribd attribctl}
ATTRIBCTL=${3:?usage: $0 attrib-restore attribd attribctl}
failures=0
dir=$(mktemp -d)
server_pid=
server=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

fail() { echo "FAIL $*"; failures=$((failures + 1)); }

# start_server NAME ARGS...: attribd on 127.0.0.1:0; sets $server and $server_pid.
start_server() {
  local name=$1
  shift
  rm -f "$dir/$name.fifo"
  mkfifo "$dir/$name.fifo"
  "$ATTRIBD" --listen 127.0.0.1:0 "$@" >"$dir/$name.fifo" 2>"$dir/$name.err" &
  server_pid=$!
  exec 3<"$dir/$name.fifo"
  local banner=
  read -r -t 60 banner <&3 || true
  server=$(grep -oE '127\.0\.0\.1:[0-9]+' <<<"$banner" | head -1)
  if [[ -z $server ]]; then
    echo "FAIL $name: attribd did not print its address"; cat "$dir/$name.err"; exit 1
  fi
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid"
  local status=$?
  server_pid=
  exec 3<&-
  [[ $status == 0 ]] || fail "attribd exited with $status after SIGTERM"
}

ctl() { "$ATTRIBCTL" --server "$server" "$@" >/dev/null || fail "attribctl $*"; }

# expect NAME WANT_STATUS WANT_STDOUT_REGEX -- ARGS...   (attrib-restore's stdout must
# match the regex, as a whole or on some line)
expect() {
  local name=$1 want_status=$2 want=$3
  shift 4
  local got got_status
  got=$("$RESTORE" "$@" 2>"$dir/stderr")
  got_status=$?
  if [[ $got_status != "$want_status" ]] || ! grep -qE -- "$want" <<<"$got"; then
    fail "$name: status $got_status (want $want_status)"
    echo "  stdout: $got"
    echo "  stderr: $(cat "$dir/stderr")"
    echo "  want:   /$want/"
  else
    echo "ok   $name"
  fi
}
# expect_err NAME WANT_STATUS WANT_STDERR_REGEX -- ARGS...
expect_err() {
  local name=$1 want_status=$2 want=$3
  shift 4
  "$RESTORE" "$@" >"$dir/stdout" 2>"$dir/stderr"
  local got_status=$?
  if [[ $got_status != "$want_status" ]] || ! grep -qE -- "$want" "$dir/stderr"; then
    fail "$name: status $got_status (want $want_status)"
    echo "  stderr: $(cat "$dir/stderr")"
    echo "  want:   /$want/"
  else
    echo "ok   $name"
  fi
}

data=$dir/data
archive=$dir/archive
start_server first --data_dir "$data" --wal_archive "$archive" --wal_segment_bytes 4096
ctl connect --shop 1 'Jane.Doe+x@GoogleMail.com' 42 --name 'Doe, "Jane"'   # seq 1
ctl connect --shop 1 bob@example.com 7                                      # seq 2
for i in $(seq 1 60); do ctl connect --shop 2 "user$i@example.com" $((i % 4 + 1)); done
ctl snapshot
for i in $(seq 61 120); do ctl connect --shop 2 "user$i@example.com" $((i % 4 + 1)); done
ctl snapshot                                    # The second: segments go to the archive.
ctl connect --shop 1 janedoe@gmail.com 43 --mode reassign
ctl attribute --shop 1 A-1 --email JaneDoe@gmail.com
ctl disconnect --shop 1 bob@example.com
ctl connect --shop 3 'user@bücher.de' 5

# While attribd holds the lock, an offline import is refused; reading is fine.
printf 'email,affiliate_id\nlate@x.com,1\n' >"$dir/late.csv"
expect_err import_locked 1 'held by another process.*attribctl import' \
  -- import "$dir/late.csv" --to "$data" --shop 1
expect verify_live 0 '^verify: ok' -- verify "$data" --archive "$archive"
stop_server

expect verify 0 '^verify: ok$' -- verify "$data" --archive "$archive"
# 126 changes, plus the customer directory's entries of the ordering and the
# disconnected customer (PutCustomerEntry).
expect verify_counts 0 'state at seq 128: 122 connections, 1 remembered orders' -- verify "$data"
first_segment=$(ls "$archive" | head -1)
expect inspect_segment 0 '^seq 1 @32 .* connect shop 1 janedoe@gmail.com -> affiliate 42 \(manual' \
  -- inspect "$archive/$first_segment"
snapshot=$(ls "$data/snapshots" | tail -1)
expect inspect_snapshot 0 '^connection shop 1 janedoe@gmail.com \(Jane.Doe\+x@GoogleMail.com\)|^connection shop 1 janedoe@gmail.com: affiliate 43' \
  -- inspect --records "$data/snapshots/$snapshot"
expect inspect_bad 1 '' -- inspect "$data/META"

# Its order gave it a directory entry (the last four columns: 1 order seen).
expect export_csv 0 '^janedoe@gmail.com,43,"Doe, ""Jane""",[0-9]+,janedoe@gmail.com,1,manual,1,[0-9]+,,,[^,]*,1,[0-9]+,[0-9]+$' \
  -- export "$data" --shop 1 --format csv
expect export_header 0 '^email,affiliate_id,name,connected_at,canonical_email,shop,source,order_count,last_order_at,external_id,emails,directory_name,directory_orders_seen,directory_first_order_at,directory_last_order_at$' \
  -- export "$data" --format csv
expect export_jsonl 0 '^\{"shop":3,"canonical_email":"user@xn--bcher-kva.de","entered_email":"user@bücher.de","affiliate":5,' \
  -- export "$data" --format jsonl
# 122 connections and the disconnected bob, in the customer directory only.
lines=$("$RESTORE" export "$data" --format jsonl 2>/dev/null | wc -l)
[[ $lines == 123 ]] && echo "ok   export_lines" || fail "export_lines: $lines"

expect history 0 '^seq 1  .*connect shop 1 janedoe@gmail.com -> affiliate 42 .*\[affiliate none -> 42\]$' \
  -- history "$data" --archive "$archive" --shop 1 --email 'JANEDOE@googlemail.com'
expect history_reassign 0 '^seq 123  .*reassign shop 1 janedoe@gmail.com -> affiliate 43 .*\[affiliate 42 -> 43\]$' \
  -- history "$data" --archive "$archive" --shop 1 --email 'JANEDOE@googlemail.com'
expect history_compacted 0 'older changes were compacted into snapshots' \
  -- history "$data" --shop 1 --email bob@example.com
expect history_bad_email 2 '' -- history "$data" --shop 1 --email 'jane@@x'

# Restore to seq 2 (before both snapshots: needs the archive), then serve it.
expect restore_no_archive 1 '' -- restore "$data" --to "$dir/at2" --until-seq 2
expect restore 0 '^restored .* up to seq 2 into' \
  -- restore "$data" --to "$dir/at2" --until-seq 2 --archive "$archive"
expect restore_contents 0 '^bob@example.com,7,' -- export "$dir/at2" --format csv
rows=$("$RESTORE" export "$dir/at2" --format csv 2>/dev/null | wc -l)
[[ $rows == 3 ]] && echo "ok   restore_rows" || fail "restore_rows: $rows lines"
expect restore_not_empty 1 '' -- restore "$data" --to "$dir/at2"
start_server restored --data_dir "$dir/at2"
got=$("$ATTRIBCTL" --server "$server" lookup --shop 1 janedoe@gmail.com)
[[ $got == *"affiliate 42, active"* ]] && echo "ok   restore_served" || fail "restore_served: $got"
ctl connect --shop 1 carol@x.com 3
stop_server
expect restore_continues 0 'state at seq 3: 3 connections' -- verify "$dir/at2"

# Rekey to the standard policy; attribd serves it only under that policy.
expect rekey 0 '0 merges' -- rekey "$data" --to "$dir/standard" --email-policy standard
start_server standard --data_dir "$dir/standard" --email_policy standard
got=$("$ATTRIBCTL" --server "$server" lookup --shop 3 'USER@bücher.de')
[[ $got == *"affiliate 5, active"* ]] && echo "ok   rekey_served" || fail "rekey_served: $got"
stop_server
if "$ATTRIBD" --listen 127.0.0.1:0 --data_dir "$dir/standard" >/dev/null 2>"$dir/refused.err"; then
  fail "attribd started a standard directory under provider"
else
  grep -q 'rekey' "$dir/refused.err" && echo "ok   rekey_policy_pinned" || fail "rekey_policy_pinned: $(cat "$dir/refused.err")"
fi
expect rekey_usage 2 '' -- rekey "$data" --to "$dir/nope"

# Import: the export of shop 2 into a new directory; a dry run; the conflict report.
"$RESTORE" export "$data" --shop 2 --format csv --out "$dir/shop2.csv" 2>/dev/null
expect import_new 0 '^connected \(created\): 120$' -- import "$dir/shop2.csv" --to "$dir/imported" --shop 2
expect import_again 0 '^unchanged: +120$' -- import "$dir/shop2.csv" --to "$dir/imported" --shop 2
printf 'email,affiliate_id\nuser1@example.com,99\nfresh@x.com,1\n' >"$dir/conflict.csv"
expect import_conflict 1 '^  line 2 \(user1@example.com\): already_connected: ' \
  -- import "$dir/conflict.csv" --to "$dir/imported" --shop 2 --dry-run
expect import_json 1 '^\{"rows":2,"created":1,"replaced":0,"unchanged":0,"rejected":1,"dry_run":true' \
  -- import "$dir/conflict.csv" --to "$dir/imported" --shop 2 --dry-run --json
expect import_dry_run_wrote_nothing 0 'state at seq 120: 120 connections' -- verify "$dir/imported"
expect import_wrong_shop 1 'the row is of shop 2' -- import "$dir/shop2.csv" --to "$dir/other" --shop 1

expect_err usage_unknown 2 "unknown subcommand 'frobnicate'" -- frobnicate
expect_err usage_flag 2 "unknown flag '--bogus'" -- verify "$data" --bogus
expect_err usage_restore 2 '--to=NEW is required' -- restore "$data"
expect_err usage_format 2 "'xml' is not one of csv, jsonl" -- export "$data" --format xml

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"
