#!/usr/bin/env bash
# bench/webhook_delivery.sh: webhook delivery throughput to a local receiver.
# Starts attribd (fresh data dir) and webhooks/testdata/receiver.mjs (Node; it
# verifies every signature and appends a line per delivery), creates a disabled
# endpoint, commits N changes (connects over HTTP keep-alive), then enables the
# endpoint and times until the receiver has recorded all N: events/s delivered from
# the log (one endpoint, one event at a time, keep-alive; the receiver's own cost
# included). Usage: bench/webhook_delivery.sh [N] (default 20000). Needs a build in
# ./build (or BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
BUILD_DIR=${BUILD_DIR:-build}
T=$(mktemp -d /tmp/attrib-webhook-bench-XXXXXX)
cleanup() { kill "$APID" "$RPID" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$T"; }
node webhooks/testdata/receiver.mjs "$T/port" "$T/log" "@$T/secret" ok & RPID=$!
"$BUILD_DIR/tools/attribd" --data_dir="$T/data" --listen=127.0.0.1:0 --http_listen=127.0.0.1:0 \
  --fsync=never >"$T/out" 2>"$T/err" & APID=$!
trap cleanup EXIT
for _ in $(seq 500); do [ -s "$T/out" ] && [ -s "$T/port" ] && break; sleep 0.01; done
HTTP=$(sed -n 's/.*http on http:\/\/\([0-9.:]*\).*/\1/p' "$T/out")
python3 - "$HTTP" "$(cat "$T/port")" "$N" "$T" <<'PY'
import http.client, json, sys, time, os
addr, port, n, tmp = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
host, p = addr.split(":")
c = http.client.HTTPConnection(host, int(p))
def call(method, path, body=None):
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"Content-Type": "application/json"})
    r = c.getresponse(); data = r.read()
    assert r.status < 300, (r.status, data)
    return json.loads(data)
ep = call("POST", "/v1/shops/1/webhooks", {"url": f"http://127.0.0.1:{port}/h", "enabled": False})
open(os.path.join(tmp, "secret"), "w").write(ep["secret"] + "\n")
t0 = time.time()
for i in range(n):
    call("POST", "/v1/shops/1/connections", {"email": f"c{i}@x.com", "affiliate": "7"})
t1 = time.time()
call("PATCH", f"/v1/shops/1/webhooks/{ep['id']}", {"enabled": True})
start = time.time()
log = os.path.join(tmp, "log")
def lines():
    try:
        with open(log, "rb") as f: return f.read().count(b"\n")
    except FileNotFoundError: return 0
deadline = start + 600
while lines() < n and time.time() < deadline: time.sleep(0.01)
end = time.time()
got = lines()
valid = sum(1 for l in open(log) if json.loads(l)["valid"])
print(f"{n} changes committed in {t1 - t0:.2f} s over HTTP; delivered {got} "
      f"({valid} with valid signatures) in {end - start:.2f} s: "
      f"{got / (end - start):,.0f} events/s")
PY
