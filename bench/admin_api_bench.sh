#!/usr/bin/env bash
# The API calls of the admin page (README "Admin page") at 1M connections in one
# shop: builds a data directory with `attrib-restore import` of 1M generated rows
# (1000 affiliates), starts attribd on it, puts the 1000 affiliates into the
# directory, then times each call the page makes (Node's fetch over one keep-alive
# loopback connection; wall time per response, body read) and prints p50 / p99 / max.
#   bench/admin_api_bench.sh [BUILD_DIR] [CONNECTIONS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-1000000}
ROUNDS=${3:-200}
WORK=$(mktemp -d /tmp/attrib_admin_bench_XXXXXX)
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
PID=
python3 - "$N" > "$WORK/rows.csv" <<'PY'
import random, sys
random.seed(42)
first = ['anna', 'ben', 'carla', 'dan', 'eva', 'finn', 'gina', 'hugo', 'ida', 'jon']
print('email,affiliate_id,name,connected_at')
for i in range(int(sys.argv[1])):
    n = first[i % 10]
    print(f'{n}.{i}@mail{i % 97}.example,{1 + random.randrange(1000)},{n.title()} {i},2025-06-01T00:00:00Z')
PY
"$BUILD/tools/attrib-restore" import "$WORK/rows.csv" --to="$WORK/data" --shop=1 >/dev/null
"$BUILD/tools/attribd" --listen=127.0.0.1:0 --http_listen=127.0.0.1:0 --data_dir="$WORK/data" \
  > "$WORK/out" 2> "$WORK/err" &
PID=$!
for _ in $(seq 1 600); do grep -q "http on http://" "$WORK/out" && break; sleep 0.1; done
ADDR=$(sed -n 's/.*http on http:\/\/\([^ ,)]*\).*/\1/p' "$WORK/out")
node - "$ADDR" "$ROUNDS" <<'JS'
const [addr, rounds] = [process.argv[2], Number(process.argv[3])];
const base = `http://${addr}/v1/shops/1`;
const get = async (path) => { const r = await fetch(base + path); const t = await r.text(); if (!r.ok) throw new Error(`${path}: ${r.status} ${t}`); return JSON.parse(t); };
const names = ['Anna', 'Ben', 'Carla', 'Dan', 'Eva'];
for (let id = 1; id <= 1000; id++) {
  const r = await fetch(`${base}/affiliates/${id}`, {method: 'PUT', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({name: `${names[id % 5]} Affiliate ${id}`, emails: [`aff${id}@aff.example`]})});
  if (r.status !== 201) throw new Error(`put affiliate ${id}: ${r.status}`);
}
// Cursors spread over the shop: walk the pages once.
const cursors = [''];
for (let c = ''; cursors.length < rounds;) { const p = await get(`/connections?limit=100${c ? `&cursor=${encodeURIComponent(c)}` : ''}`); c = p.next_cursor; if (!c) break; cursors.push(c); }
const cases = {
  'connections, page of 100 (cursor paging)': (i) => `/connections?limit=100${cursors[i % cursors.length] ? `&cursor=${encodeURIComponent(cursors[i % cursors.length])}` : ''}`,
  'connections, affiliate filter (~1000 of 1M)': (i) => `/connections?limit=100&affiliate=${1 + (i * 7) % 1000}`,
  'connections, customer email prefix': (i) => `/connections?limit=100&email_prefix=${['anna.1', 'ben.23', 'eva.4', 'dan'][i % 4]}`,
  'affiliate name by id (per row\'s affiliate)': (i) => `/affiliates?id=${1 + (i * 13) % 1000}`,
  'affiliate picker (name prefix, 8)': (i) => `/affiliates?limit=8&name_prefix=${['a', 'ben', 'carla af', 'd'][i % 4]}`,
  'affiliates directory page of 50 with counts': () => '/affiliates?limit=50',
  'settings': () => '/settings',
  'counts (export\'s total)': () => '/counts',
};
const pct = (a, q) => a[Math.min(a.length - 1, Math.floor(q * a.length))];
console.log(`| call (shop of ${process.env.N || '1M'}) | p50 | p99 | max |`);
console.log('|---|---|---|---|');
for (const [name, path] of Object.entries(cases)) {
  for (let i = 0; i < 20; i++) await get(path(i));  // Warm.
  const ms = [];
  for (let i = 0; i < rounds; i++) { const t = performance.now(); await get(path(i)); ms.push(performance.now() - t); }
  ms.sort((a, b) => a - b);
  console.log(`| ${name} | ${pct(ms, 0.5).toFixed(2)} ms | ${pct(ms, 0.99).toFixed(2)} ms | ${ms[ms.length - 1].toFixed(2)} ms |`);
}
JS
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
