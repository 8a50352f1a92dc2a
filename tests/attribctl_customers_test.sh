#!/usr/bin/env bash
# tests/attribctl_customers_test.sh
#
# End-to-end test of customer identifiers (issue 12) against a real attribd:
# connect/lookup/disconnect --external-id, an order with both identifiers linking
# them, attribctl `customer show/link/unlink/merge` (human and --json), the limits'
# messages; then a restart (the identifiers come back from the log, then from a
# snapshot) and attrib-restore `history` showing the link and the merge, and
# `verify` checking the identifier index; attribctl import with the external_id and
# emails columns, and attrib-restore export writing them; the customer directory
# (attribute --name, customer show/name/search, the setting) and its survival of a
# snapshot.
# Usage: attribctl_customers_test.sh ATTRIBCTL ATTRIBD ATTRIB_RESTORE
# Starts its own attribd on 127.0.0.1:0 in a temporary directory.
set -uo pipefail
ATTRIBCTL=${1:?usage: $0 attribctl attribd attrib-restore}
ATTRIBD=${2:?usage: $0 attribctl attribd attrib-restore}
RESTORE=${3:?usage: $0 attribctl attribd attrib-restore}
source "$(dirname "$0")/attribctl_e2e_lib.sh"

start
expect connect_ext 0 'affiliate 7' -- connect --shop 1 --external-id cus_1 7
expect lookup_ext 0 'affiliate 7' -- lookup --shop 1 --external-id cus_1
expect order_both 0 'affiliate 7' -- attribute --shop 1 o1 --email Jane@Example.com --external-id cus_1
expect linked_show 0 '^customer jane@example.com: emails jane@example.com; external_id cus_1; connected to affiliate 7' \
  -- customer show --shop 1 external_id:cus_1
expect lookup_email 0 'affiliate 7' -- lookup --shop 1 jane@example.com
expect link 0 'emails jane@example.com jane2@example.org;' -- customer link --shop 1 jane@example.com jane2@example.org
expect carol 0 'affiliate 5' -- connect --shop 1 carol@example.com 5
expect link_in_use 1 '^$' -- customer link --shop 1 jane@example.com carol@example.com
grep -q 'identifier_in_use' "$dir/stderr" || { echo "FAIL link_in_use message: $(cat "$dir/stderr")"; failures=$((failures + 1)); }
expect link_same 0 'external_id cus_1' -- customer link --shop 1 jane@example.com external_id:cus_1
expect unlink_primary 1 '^$' -- customer unlink --shop 1 external_id:cus_1
grep -q 'unlink_primary' "$dir/stderr" || { echo "FAIL unlink_primary message: $(cat "$dir/stderr")"; failures=$((failures + 1)); }
expect bob 0 'affiliate 9' -- connect --shop 1 bob@example.com 9
expect merge 0 '^merged customer bob@example.com into external_id:cus_1 \(moved bob@example.com; both connected, merge_conflict decided; lost connection to affiliate 9\)$' \
  -- customer merge --shop 1 external_id:cus_1 bob@example.com --keep into
expect merged_lookup 0 'affiliate 7' -- lookup --shop 1 bob@example.com
expect show_json 0 '^\{"customer":\{"shop":1,"emails":\["jane@example.com","jane2@example.org","bob@example.com"\],"external_id":"cus_1","connection":\{' \
  -- --json customer show --shop 1 jane2@example.org
expect settings 0 '^merge_conflict=keep_external_id$' -- settings set --shop 2 merge_conflict=keep_external_id auto_link_identifiers=false
expect settings_bad 2 '^$' -- settings set --shop 2 merge_conflict=maybe
expect bad_ext 1 '^$' -- connect --shop 1 --external-id "$(printf 'a\tb')" 7
grep -q 'external_id: control character U+0009' "$dir/stderr" || { echo "FAIL bad_ext message: $(cat "$dir/stderr")"; failures=$((failures + 1)); }
# attribctl import with the identifier columns (tools/import_rows.h): the last row's
# link is refused (jane's email is another customer's), its connect stands.
printf 'email,affiliate_id,external_id,emails\nimp@example.com,4,cus_imp,imp2@example.com;imp3@example.com\n,4,cus_guest,guest@example.com\nlate@example.com,4,,jane@example.com\n' >"$dir/ids.csv"
expect import_ids 1 '^identifiers linked:  4$' -- import --shop 1 "$dir/ids.csv"
expect import_ids_reason 1 'line 4 \(late@example.com\): emails: jane@example.com: not linked: identifier_in_use' \
  -- import --shop 1 "$dir/ids.csv"
# The customer-directory columns are checked but not carried over the protocol: a
# counted skip (tools/attribctl_import.h); a bad value is a rejection naming the column.
printf 'email,affiliate_id,directory_name,directory_orders_seen\ndirimp@example.com,,Dir Imp,0\nconimp@example.com,4,Con Imp,\n' >"$dir/dir.csv"
expect import_dir_skipped 0 '^directory entries skipped: 2 \(attribctl import does not carry the customer directory' \
  -- import --shop 1 "$dir/dir.csv"
expect import_dir_connects 0 '^unchanged: +1$' -- import --shop 1 "$dir/dir.csv"  # The first run's connect.
printf 'email,affiliate_id,directory_orders_seen\nbadimp@example.com,4,-1\n' >"$dir/dir_bad.csv"
expect import_dir_bad 1 "^  line 2 \(badimp@example.com\): directory_orders_seen: '-1' is not a count" \
  -- import --shop 1 "$dir/dir_bad.csv"
expect import_show 0 '^customer imp@example.com: emails imp@example.com imp2@example.com imp3@example.com; external_id cus_imp; connected to affiliate 4' \
  -- customer show --shop 1 imp3@example.com
expect import_guest 0 'emails guest@example.com; external_id cus_guest; connected to affiliate 4' \
  -- customer show --shop 1 guest@example.com
# The customer directory: customers seen without a connection, names, search.
expect dir_order 0 'order 1 for the customer' -- attribute --shop 3 d1 --email Dana@Example.com --name 'Dana Scully'
expect dir_show 0 '^customer dana@example.com: .*; not connected; directory: name "Dana Scully", 1 orders seen \(first ' \
  -- customer show --shop 3 dana@example.com
expect dir_name 0 'directory: name "Dana S."' -- customer name --shop 3 dana@example.com 'Dana S.'
expect dir_order2 0 'order 2 for the customer' -- attribute --shop 3 d2 --email dana@example.com
expect dir_fox 0 '' -- attribute --shop 3 d3 --email fox@example.com --name 'Fox Mulder'
expect dir_ext 0 '' -- attribute --shop 3 d4 --external-id cus_x --name 'Walter'
expect dir_search_email 0 '^customer dana@example.com: .*2 orders seen' -- customer search --shop 3 --email=DAN
expect dir_search_name 0 '^customer fox@example.com: ' -- customer search --shop 3 --prefix=fox
expect dir_search_ext 0 '^customer external_id:cus_x: .*name "Walter"' -- customer search --shop 3 --external-id=cus_x
expect dir_search_page 0 '^next cursor ' -- customer search --shop 3 --limit=1
expect dir_search_json 0 '^\{"customers":\[\{"shop":3,"emails":\["dana@example.com"\],"external_id":"","directory":\{"name":"Dana S.","orders_seen":2,' \
  -- --json customer search --shop 3 --email=dana
expect dir_search_bad 1 '^$' -- customer search --shop 3 --email=a --prefix=b
grep -q 'at most one of' "$dir/stderr" || { echo "FAIL dir_search_bad message: $(cat "$dir/stderr")"; failures=$((failures + 1)); }
expect dir_off 0 'customer_directory=false' -- settings set --shop 4 customer_directory=false
stop
restore history_link 0 'link shop 1 jane@example.com -> customer external_id:cus_1 \(order "o1"; directory entry now: no name, no order seen\)  \[connection unchanged\]' \
  -- history "$dir/data" --shop 1 --email jane@example.com
restore history_directory 0 'customer directory shop 3 dana@example.com: name "Dana S.", 2 orders seen' \
  -- history "$dir/data" --shop 3 --email dana@example.com
restore export_ids 0 '^imp@example.com,4,,[0-9]+,imp@example.com,1,import,0,0,cus_imp,imp2@example.com;imp3@example.com,,0,0,0$' \
  -- export "$dir/data" --shop 1 --format csv
restore export_guest 0 '^,4,,[0-9]+,,1,import,0,0,cus_guest,guest@example.com,,0,0,0$' \
  -- export "$dir/data" --shop 1 --format csv
restore history_ext 0 'link shop 1 jane@example.com -> customer external_id:cus_1 \(order "o1";' \
  -- history "$dir/data" --shop 1 --external-id cus_1
restore history_ext_header 0 '^history of shop 1 external_id:cus_1 ' \
  -- history "$dir/data" --shop 1 --external-id cus_1
restore history_both 2 '^$' -- history "$dir/data" --shop 1 --external-id cus_1 --email jane@example.com
restore history_merge 0 'merge shop 1 customer bob@example.com into customer external_id:cus_1 .*\[affiliate 9 -> none\]' \
  -- history "$dir/data" --shop 1 --email bob@example.com
start
expect after_restart 0 'emails jane@example.com jane2@example.org bob@example.com; external_id cus_1' \
  -- customer show --shop 1 bob@example.com
expect snapshot 0 '' -- snapshot
stop
start
expect after_snapshot 0 'external_id cus_1; connected to affiliate 7' -- customer show --shop 1 jane2@example.org
expect disconnect_ext 0 '' -- disconnect --shop 1 --external-id cus_1
expect dir_after_snapshot 0 'directory: name "Dana S.", 2 orders seen' -- customer show --shop 3 dana@example.com
stop

restore verify 0 'attribd would continue' -- verify "$dir/data"
# 6: shop 3's dana, fox and cus_x; shop 1's cus_1 (its link) and the imported imp and cus_guest (linked identifiers).
restore verify_directory 0 'customer directory: 6 customers, each at a live' -- verify "$dir/data"

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"
