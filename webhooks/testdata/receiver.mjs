// webhooks/testdata/receiver.mjs: a webhook receiver for tests. Verifies each
// delivery's Standard Webhooks signature with node:crypto and appends one JSON line
// per request to LOG: {"id","seq","type","valid","status"}.
// Usage: node receiver.mjs PORT_FILE LOG SECRET MODE [PORT]
//   SECRET: whsec_..., or @FILE: the secrets (one per line) are read from FILE at
//         each request (attrib generates the secret when the endpoint is created,
//         after the receiver's URL is known); a signature by any of them is valid.
//   MODE: ok | fail:N (answer 500 to the first N requests, then 200) | gone (410)
//         | hang (never answer)
// Listens on 127.0.0.1:PORT (default 0: a free one) and writes its port to PORT_FILE
// once listening.
import { createHmac, timingSafeEqual } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";

const [portFile, logFile, secret, mode, listenPort] = process.argv.slice(2);
let requests = 0;

function secrets() {
  if (!secret.startsWith("@")) return [secret];
  const file = secret.slice(1);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter((l) => l.length > 0);
}

function valid(headers, body) {
  return secrets().some((s) => validFor(s, headers, body));
}

function validFor(secret, headers, body) {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key)
    .update(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.`).update(body).digest();
  return (headers["webhook-signature"] ?? "").split(" ").some((s) => {
    const [version, sig] = s.split(",");
    const given = Buffer.from(sig ?? "", "base64");
    return version === "v1" && given.length === expected.length &&
           timingSafeEqual(given, expected);
  });
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    requests += 1;
    let status = 200;
    if (mode === "gone") status = 410;
    if (mode.startsWith("fail:") && requests <= Number(mode.slice(5))) status = 500;
    if (mode === "hang") return;  // Never answers.
    let event = {};
    try { event = JSON.parse(body.toString()); } catch { /* logged as invalid */ }
    appendFileSync(logFile, JSON.stringify({
      id: req.headers["webhook-id"], seq: event.seq, type: event.type,
      valid: valid(req.headers, body), status,
    }) + "\n");
    res.writeHead(status).end();
  });
});
server.listen(Number(listenPort ?? 0), "127.0.0.1", () => writeFileSync(portFile, String(server.address().port)));
process.on("SIGTERM", () => process.exit(0));
