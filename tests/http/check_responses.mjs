// tests/http/check_responses.mjs: checks recorded HTTP exchanges against the OpenAPI
// document: the status code must be documented for the operation (or covered by its
// `default`), and the body must match the documented schema of its content type.
// Usage: node check_responses.mjs DOC.json EXCHANGES.jsonl, one exchange per line:
// {"method":"GET","path":"/v1/...","status":200,"content_type":"...","body":"..."}.
// Exits 1 listing every mismatch; prints how many exchanges were checked.
import { readFileSync } from "node:fs";
import { compileDocument } from "./openapi_ajv.mjs";

const [docPath, exchangesPath] = process.argv.slice(2);
const doc = JSON.parse(readFileSync(docPath, "utf8"));
const { validatorFor } = compileDocument(doc);
const lines = readFileSync(exchangesPath, "utf8").split("\n").filter((l) => l.length > 0);
const failures = [];
const seen = new Set();
for (const line of lines) {
  const x = JSON.parse(line);
  const where = `${x.method} ${x.path} -> ${x.status}`;
  const v = validatorFor(x.method, x.path, x.status, x.content_type);
  if (v.error) {
    failures.push(`${where}: ${v.error}`);
    continue;
  }
  seen.add(v.key);
  if (x.method === "HEAD") continue;
  if ((x.content_type ?? "").startsWith("application/x-ndjson")) {
    // JSON lines: each line is one instance of the schema.
    for (const l of x.body.split("\n").filter((t) => t.length > 0)) {
      let item;
      try {
        item = JSON.parse(l);
      } catch (e) {
        failures.push(`${where}: a line is not JSON: ${e.message}`);
        continue;
      }
      if (!v.validate(item)) {
        failures.push(`${where}: ${JSON.stringify(v.validate.errors)}\n  line: ${l}`);
      }
    }
    continue;
  }
  let body;
  try {
    body = JSON.parse(x.body);
  } catch (e) {
    failures.push(`${where}: body is not JSON: ${e.message}`);
    continue;
  }
  if (!v.validate(body)) {
    failures.push(`${where}: ${JSON.stringify(v.validate.errors)}\n  body: ${x.body}`);
  }
}
if (failures.length > 0) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log(`${lines.length} exchanges match the document (${seen.size} distinct responses)`);
