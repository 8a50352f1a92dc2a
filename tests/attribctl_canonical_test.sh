#!/usr/bin/env bash
# tests/attribctl_canonical_test.sh
#
# End-to-end test of `attribctl canonical`: output lines and exit codes (0 all
# valid, 1 any invalid, 2 usage error). Usage: attribctl_canonical_test.sh ATTRIBCTL
# Runs the binary only; safe to run in parallel with other tests.
set -uo pipefail
ATTRIBCTL=${1:?usage: $0 path/to/attribctl}
failures=0
TAB=$'\t'

# expect NAME WANT_STATUS WANT_STDOUT -- ARGS...  (stdin from $STDIN when set)
expect() {
  local name=$1 want_status=$2 want_stdout=$3
  shift 4
  local got_stdout got_status
  got_stdout=$(printf '%s' "${STDIN:-}" | "$ATTRIBCTL" "$@" 2>/dev/null)
  got_status=$?
  if [[ $got_status != "$want_status" || $got_stdout != "$want_stdout" ]]; then
    echo "FAIL $name: status $got_status (want $want_status)"
    echo "  stdout: $(printf '%q' "$got_stdout")"
    echo "  want:   $(printf '%q' "$want_stdout")"
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

expect spec_example 0 " Jane.Doe+promo@GoogleMail.com ${TAB}janedoe@gmail.com" \
  -- canonical " Jane.Doe+promo@GoogleMail.com "
expect several_valid 0 "a@b${TAB}a@b
Jane.Doe+promo@example.com${TAB}jane.doe+promo@example.com" \
  -- canonical a@b Jane.Doe+promo@example.com
expect one_invalid 1 "jane@@x.com${TAB}error: email: more than one '@'
a@b${TAB}a@b" \
  -- canonical 'jane@@x.com' a@b
expect standard_policy 0 "Jane.Doe+promo@GoogleMail.com${TAB}jane.doe+promo@gmail.com" \
  -- canonical --email-policy=standard Jane.Doe+promo@GoogleMail.com
expect standard_policy_snake_case 0 "j.d+x@gmail.com${TAB}j.d+x@gmail.com" \
  -- canonical --email_policy=standard j.d+x@gmail.com
expect idn 0 "user@bücher.de${TAB}user@xn--bcher-kva.de" -- canonical 'user@bücher.de'
expect dash_dash 0 "-x@y.com${TAB}-x@y.com" -- canonical -- -x@y.com

STDIN=$'a@b\r\nJ.D+x@gmail.com\nx y@z\n' expect stdin 1 "a@b${TAB}a@b
J.D+x@gmail.com${TAB}jd@gmail.com
x y@z${TAB}error: email: whitespace or control character at byte 1 (U+0020)" \
  -- canonical -
STDIN='' expect stdin_empty 0 "" -- canonical -

expect no_subcommand 2 "" --
expect unknown_subcommand 2 "" -- frobnicate a@b
expect no_emails 2 "" -- canonical
expect unknown_flag 2 "" -- canonical --no-such-flag a@b
expect bad_policy 2 "" -- canonical --email-policy=lenient a@b
usage_stderr=$("$ATTRIBCTL" frobnicate 2>&1 >/dev/null)
if [[ $usage_stderr != *"unknown subcommand 'frobnicate'"*"Usage: attribctl"* ]]; then
  echo "FAIL usage_text: no usage text on stderr"
  failures=$((failures + 1))
fi

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"
