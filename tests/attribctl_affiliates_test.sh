#!/usr/bin/env bash
# tests/attribctl_affiliates_test.sh
#
# End-to-end test of the affiliate directory against a real attribd: attribctl
# `affiliate put/get/disable/enable/list/search` (human and --json), the new settings,
# self-referral and disabled-affiliate refusals on connect and on orders, the order's
# number within its connection, on_customer_becomes_affiliate=disconnect; then a
# restart (the directory comes back from the log, then from a snapshot) and
# attrib-restore `history` and `inspect --records` showing the affiliate changes.
# Usage: attribctl_affiliates_test.sh ATTRIBCTL ATTRIBD ATTRIB_RESTORE
# Starts its own attribd on 127.0.0.1:0 in a temporary directory.
set -uo pipefail
ATTRIBCTL=${1:?usage: $0 attribctl attribd attrib-restore}
ATTRIBD=${2:?usage: $0 attribctl attribd attrib-restore}
RESTORE=${3:?usage: $0 attribctl attribd attrib-restore}
source "$(dirname "$0")/attribctl_e2e_lib.sh"

start
expect put 0 '^created affiliate 7 "Ann Lee": active; emails annlee@gmail.com ann@example.com; created .*; 0 connected customers$' \
  -- affiliate put --shop 1 7 Ann.Lee+x@GoogleMail.com ann@example.com --name 'Ann Lee'
expect put_json 0 '^\{"affiliate":\{"shop":1,"id":9,"name":"Bob","emails":\["bob@example.com"\],"status":"active","created_at":[0-9]+,"connections":0\},"created":true,"removed_connections":\[\]\}$' \
  -- --json affiliate put --shop 1 9 bob@example.com --name Bob
expect put_bad_email 1 '^$' -- affiliate put --shop 1 10 'x@@y' --name X
expect put_taken_email 1 '^$' -- affiliate put --shop 1 10 ANN@example.com --name X
expect self_connect 1 '^$' -- connect --shop 1 ann@example.com 7
grep -q 'self_referral: ann@example.com is an email of affiliate 7' "$dir/stderr" ||
  { echo "FAIL self_connect message: $(cat "$dir/stderr")"; failures=$((failures + 1)); }
expect connect 0 '\[created\]$' -- connect --shop 1 carol@example.com 7
expect order1 0 '^order o1: affiliate 7 \(connected\) \[counted; order 1 of the connection; ' \
  -- attribute --shop 1 o1 --email carol@example.com
expect order2_json 0 '"order_number_in_connection":2' -- --json attribute --shop 1 o2 --email carol@example.com
expect self_order 0 '^order o3: no affiliate \[self-referral of affiliate 7: not credited; ' \
  -- attribute --shop 1 o3 --email ann@example.com --referral 7
expect disable 0 '^affiliate 7 "Ann Lee": disabled; .*; 1 connected customer$' -- affiliate disable --shop 1 7
expect disabled_connect 1 '^$' -- connect --shop 1 dave@example.com 7
expect disabled_order 0 '^order o4: affiliate 9 \(referral\) \[connection affiliate_disabled; refused affiliate 7; ' \
  -- attribute --shop 1 o4 --email carol@example.com --referral 9
expect enable 0 '^affiliate 7 "Ann Lee": active; ' -- affiliate enable --shop 1 7
expect settings 0 '^on_customer_becomes_affiliate=disconnect$' \
  -- settings set --shop 1 on_customer_becomes_affiliate=disconnect block_self_referrals=true
expect settings_bad 2 '^$' -- settings set --shop 1 on_customer_becomes_affiliate=maybe
expect disconnects 0 'removed connection carol@example.com \(was affiliate 7\): the customer became affiliate 11$' \
  -- affiliate put --shop 1 11 carol@example.com --name Carol
expect get 0 '^affiliate 11 "Carol": active; emails carol@example.com; ' -- affiliate get --shop 1 11
expect get_missing 1 '^$' -- affiliate get --shop 1 12
expect list_page 0 '^affiliate 7 .*$' -- affiliate list --shop 1 --limit 1
grep -q 'next page: --cursor=' "$dir/stderr" ||
  { echo "FAIL list_page cursor: $(cat "$dir/stderr")"; failures=$((failures + 1)); }
expect list_all_json 0 '^\{"affiliate":\{"shop":1,"id":11,' -- --json affiliate list --shop 1 --limit 1 --all
expect search_name 0 '^affiliate 7 "Ann Lee"' -- affiliate search --shop 1 --prefix aN
expect search_email 0 '^affiliate 9 "Bob"' -- affiliate search --shop 1 --email BOB@example.com
expect search_status 0 '^$' -- affiliate search --shop 1 --status disabled
expect usage 2 '^$' -- affiliate frobnicate --shop 1

# The directory survives a restart (log replay), then a snapshot.
stop
start
expect after_restart 0 '^affiliate 11 "Carol": active' -- affiliate get --shop 1 11
expect explain_number 0 'order 2 of the connection' -- explain --shop 1 o2
expect snapshot 0 '' -- snapshot
stop
start
expect after_snapshot 0 '^affiliate 7 "Ann Lee": active' -- affiliate get --shop 1 7
expect settings_kept 0 '^on_customer_becomes_affiliate=disconnect$' -- settings get --shop 1
stop

restore history 0 'affiliate created shop 1 affiliate 11 "Carol".*\[connection unchanged\]' \
  -- history "$dir/data" --shop 1 --email Carol@example.com
restore history_disconnect 0 'the customer became affiliate 11, on_customer_becomes_affiliate=disconnect\)  \[affiliate 7 -> none\]' \
  -- history "$dir/data" --shop 1 --email carol@example.com
snap=$(ls "$dir/data/snapshots/"*.snap | tail -1)
restore inspect 0 '^affiliate shop 1 affiliate 9 "Bob": active, created .*, emails bob@example.com$' \
  -- inspect --records "$snap"
restore verify 0 '3 affiliates; attribd would continue' -- verify "$dir/data"

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"
