#!/usr/bin/env bash
# Regenerates the seed corpora in fuzz/corpus/ (small, checked in): emails from SPEC §2,
# CSV rows, requests encoded by the first schema (net/testdata), and, with the
# make_fuzz_corpus program of any build (`cmake --build build --target
# make_fuzz_corpus`), real frames (every Request member), a WAL segment (every log
# tag) and a snapshot (every block type). fuzz/corpus_coverage_test checks the result.
#   fuzz/make_corpus.sh [BUILD_DIR]    default build-fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
corpus=fuzz/corpus
for t in frame_fuzz log_reader_fuzz mutation_codec_fuzz snapshot_reader_fuzz canonical_email_fuzz csv_reader_fuzz; do
  rm -rf "${corpus:?}/$t"
  mkdir -p "$corpus/$t"
done

i=0
while IFS= read -r email; do
  printf '%s' "$email" > "$corpus/canonical_email_fuzz/email$((i++))"
done <<'LIST'
 Jane.Doe+promo@GoogleMail.com 
Jane.Doe+promo@example.com
a@b
jane@@x.com
@x.com
jane@
"j d"@x.com
jane@-x.com
user@bücher.de
user@xn--bcher-kva.de
first.last+tag@outlook.com
x@proton.me.
a..b@example.com
user@a..b
LIST
printf '%s' "$(printf 'a%.0s' {1..65})@example.com" > "$corpus/canonical_email_fuzz/long_local"

# The first byte picks max_record_bytes (16 + 16 * byte): '@' = 1040.
printf '@email,affiliate_id,name,connected_at\r\njane@example.com,7,Jane,2024-01-31T12:00:00Z\r\n"bob,""b""@x.com",8,,1700000000000\n' \
  > "$corpus/csv_reader_fuzz/import"
printf '@email,affiliate_id,name,connected_at,canonical_email,shop,source,order_count,last_order_at\n x@y.z ,9,"multi\nline",,x@y.z,42,api,0,0\n' \
  > "$corpus/csv_reader_fuzz/export"
printf '\x01\xef\xbb\xbfemail,affiliate_id\n"unterminated,1\n' > "$corpus/csv_reader_fuzz/bom_unterminated"

# Old clients: requests as the first schema encoded them (net/testdata, golden files).
for f in net/testdata/schema_v1_*.bin; do
  cp "$f" "$corpus/frame_fuzz/$(basename "$f" .bin)"
done

"$build/fuzz/make_fuzz_corpus" "$corpus"
du -sh "$corpus"
