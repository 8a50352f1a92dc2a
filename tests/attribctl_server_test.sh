#!/usr/bin/env bash
# tests/attribctl_server_test.sh
#
# End-to-end test of attribctl against a real attribd: every subcommand's output
# (human and --json), the exit codes (0 ok, 1 server error, 2 usage, 3 unreachable)
# and `import` with a CSV that has rejected rows.
# Usage: attribctl_server_test.sh ATTRIBCTL ATTRIBD
# Starts its own attribd on 127.0.0.1:0 in a temporary directory; safe to run in
# parallel with other tests.
set -uo pipefail
ATTRIBCTL=${1:?usage: $0 path/to/attribctl path/to/attribd}
ATTRIBD=${2:?usage: $0 path/to/attribctl path/to/attribd}
failures=0
dir=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

# The banner line is read from a FIFO: the script waits for the event itself.
mkfifo "$dir/out"
"$ATTRIBD" --listen 127.0.0.1:0 --data_dir "$dir/data" >"$dir/out" 2>"$dir/err" &
server_pid=$!
exec 3<"$dir/out"
banner=
read -r -t 60 banner <&3 || true
server=$(grep -oE '127\.0\.0\.1:[0-9]+' <<<"$banner" | head -1)
if [[ -z $server ]]; then
  echo "FAIL: attribd did not print its address"; cat "$dir/err"; exit 1
fi

# expect NAME WANT_STATUS WANT_STDOUT_REGEX -- ARGS...   (stdout must match the regex)
expect() {
  local name=$1 want_status=$2 want=$3
  shift 4
  local got got_status
  got=$("$ATTRIBCTL" --server "$server" "$@" 2>"$dir/stderr")
  got_status=$?
  if [[ $got_status != "$want_status" ]] || ! grep -qE -- "$want" <<<"$got"; then
    echo "FAIL $name: status $got_status (want $want_status)"
    echo "  stdout: $got"
    echo "  stderr: $(cat "$dir/stderr")"
    echo "  want:   /$want/"
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

expect ping 0 '^pong from ' -- ping
expect connect 0 '^connected janedoe@gmail.com \(Jane.Doe\+x@GoogleMail.com\) to affiliate 42 \[created\]$' \
  -- connect --shop 1 'Jane.Doe+x@GoogleMail.com' 42 --name 'Jane D'
expect connect_again 0 '\[unchanged\]$' -- connect --shop 1 janedoe@gmail.com 42
expect already_connected 1 '^$' -- connect --shop 1 janedoe@gmail.com 7
expect already_connected_json 1 '^\{"error":\{"code":"already_exists","message":"already_connected: .*","current_affiliate":42\}\}$' \
  -- --json connect --shop 1 janedoe@gmail.com 7
expect reassign 0 '\[replaced affiliate 42\]$' -- connect --shop 1 janedoe@gmail.com 7 --mode reassign
expect lookup 0 '^janedoe@gmail.com \(janedoe@gmail.com\): affiliate 7, active; source manual, .*name "Jane D"$' \
  -- lookup --shop 1 janedoe@gmail.com
expect lookup_missing 0 '^nobody@x.com: not connected$' -- lookup --shop 1 nobody@x.com
expect lookup_batch_json 1 '^\{"email":"bad@@x","error":\{"code":"invalid_argument"' \
  -- --json lookup --shop 1 janedoe@gmail.com nobody@x.com 'bad@@x'
expect attribute 0 '^order A-1: affiliate 7 \(connected\) \[counted; order 1 of the connection; customer janedoe@gmail.com' \
  -- attribute --shop 1 A-1 --email janedoe@gmail.com
expect attribute_duplicate 0 'duplicate' -- attribute --shop 1 A-1 --email janedoe@gmail.com
expect explain_json 0 '^\{"decision":\{"order_id":"A-1",.*"affiliate":7,"reason":"connected"' \
  -- --json explain --shop 1 A-1
expect reverse 0 '^order A-1: reversed, un-counted from affiliate 7$' -- reverse --shop 1 A-1
expect reverse_again 0 'already reversed' -- reverse --shop 1 A-1
expect reverse_unknown 1 '^$' -- reverse --shop 1 nope
expect settings_set 0 '^validity_days=30$' -- settings set --shop 1 validity_days=30 precedence=referral_first
expect settings_get_json 0 '"precedence":"referral_first"' -- --json settings get --shop 1
expect settings_invalid 1 '^$' -- settings set --shop 1 validity_days=99999
expect settings_unknown_key 2 '^$' -- settings set --shop 1 bogus=1
expect count 0 '^shop 1: 1 connections$' -- count --shop 1
expect stats_json 0 '^\{"connections":[0-9]+,' -- --json stats
expect disconnect 0 '^disconnected janedoe@gmail.com \(janedoe@gmail.com\) from affiliate 7$' \
  -- disconnect --shop 1 janedoe@gmail.com
expect disconnect_missing 1 '^$' -- disconnect --shop 1 janedoe@gmail.com

printf 'email,affiliate_id\n' >"$dir/list.csv"
for i in $(seq 1 25); do printf 'user%02d@example.com,%d\n' "$i" $((i % 3 + 1)) >>"$dir/list.csv"; done
expect import_clean 0 'rejected: +0$' -- import --shop 2 "$dir/list.csv"
expect list_page 0 '^user03@example.com ' -- list --shop 2 --limit 3
expect list_all 0 '^user25@example.com ' -- list --shop 2 --limit 4 --all
got=$("$ATTRIBCTL" --server "$server" --json list --shop 2 --limit 4 --all | wc -l)
[[ $got == 25 ]] || { echo "FAIL list_all_lines: $got lines"; failures=$((failures + 1)); }

printf '\xEF\xBB\xBFEmail,Affiliate_ID,name,connected_at\r\n' >"$dir/rows.csv"
printf 'a1@x.com,1,"Doe, Jane",2024-01-31T12:00:00Z\r\n' >>"$dir/rows.csv"
printf 'bad@@x.com,3,,\r\na4@x.com,abc,,\r\nuser01@example.com,9,,\r\n' >>"$dir/rows.csv"
expect import_rejects 1 'line 5 \(user01@example.com\): already_connected' -- import --shop 2 "$dir/rows.csv"
expect import_json 1 '^\{"rows":4,"created":0,"replaced":0,"unchanged":1,"rejected":3\}$' \
  -- --json import --shop 2 "$dir/rows.csv"
printf 'email,affiliate\n' >"$dir/badheader.csv"
expect import_bad_header 2 '^$' -- import --shop 2 "$dir/badheader.csv"

expect usage_no_shop 2 '^$' -- lookup x@y.com
expect usage_bad_time 2 '^$' -- connect --shop 1 x@y.com 1 --connected-at yesterday
unreachable=$("$ATTRIBCTL" --server 127.0.0.1:1 ping 2>&1)
status=$?
if [[ $status != 3 || $unreachable != *"connect to 127.0.0.1:1: Connection refused"* ]]; then
  echo "FAIL unreachable: status $status, $unreachable"; failures=$((failures + 1))
else
  echo "ok   unreachable"
fi

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"
