#!/usr/bin/env bash
# The engine demo tells the seeds' story end to end: connect a customer by email,
# see the connection, attribute orders (connected wins over another affiliate's
# coupon; a duplicate is recognised), expiry by settings, explain, reverse,
# disconnect, and a bad input's error. Usage: attrib_demo_test.sh PATH_TO_attrib_demo
set -euo pipefail
demo=$1
out=$(printf '%s\n' \
  'connect 1 Jane.Doe+promo@GoogleMail.com 42 name=Jane' \
  'lookup 1 janedoe@gmail.com' \
  'attribute 1 o-1 email=jane.doe@gmail.com referral=7' \
  'attribute 1 o-1 email=jane.doe@gmail.com referral=7' \
  'list 1 affiliate=42' \
  'settings 1 validity_days=30' \
  'advance 31' \
  'lookup 1 janedoe@gmail.com' \
  'attribute 1 o-2 email=janedoe@gmail.com referral=7' \
  'explain 1 o-2' \
  'reverse 1 o-1' \
  'reverse 1 o-1' \
  'disconnect 1 janedoe@gmail.com' \
  'connect 0 a@b 1' \
  'quit' | "$demo")

fail=0
expect() {
  if ! grep -qF -- "$1" <<<"$out"; then
    echo "missing from the demo's output: $1" >&2
    fail=1
  fi
}
expect 'created: Jane.Doe+promo@GoogleMail.com (janedoe@gmail.com) -> affiliate 42, source manual'
expect 'orders 0, name Jane, active'
expect 'order o-1: affiliate 42, reason connected, counted'
expect 'duplicate: order o-1: affiliate 42, reason connected'
expect '1 connection(s)'
expect 'orders 1, name Jane, expired'
expect 'order o-2: affiliate 7, reason referral (connection expired)'
expect 'reversed: order o-1: affiliate 42, reason connected, counted, reversed'
expect 'already reversed: order o-1'
expect 'disconnected from affiliate 42'
expect 'error: shop: must be > 0'
if [ "$fail" -ne 0 ]; then
  echo "--- demo output ---" >&2
  echo "$out" >&2
  exit 1
fi
echo "demo story: ok"
