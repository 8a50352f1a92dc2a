// webhooks/testdata/verify.mjs: the README's receiver check, with node:crypto only.
// Usage: node verify.mjs SECRET ID TIMESTAMP SIGNATURE_HEADER BODY_FILE
// Exits 0 when a v1 signature matches, 1 otherwise.
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";

const [secret, id, timestamp, header, bodyFile] = process.argv.slice(2);
const body = readFileSync(bodyFile);
const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
const expected = createHmac("sha256", key)
  .update(`${id}.${timestamp}.`).update(body).digest();
const ok = header.split(" ").some((s) => {
  const [version, sig] = s.split(",");
  const given = Buffer.from(sig ?? "", "base64");
  return version === "v1" && given.length === expected.length &&
         timingSafeEqual(given, expected);
});
process.exit(ok ? 0 : 1);
