// tests/http/openapi_lint.mjs: lints http/openapi.json with a real OpenAPI 3.1
// validator (@seriousme/openapi-schema-validator), then compiles every schema of it
// with ajv (JSON Schema 2020-12, what OpenAPI 3.1 uses), so a schema ajv cannot use
// in check_responses.mjs fails here first. Usage: node openapi_lint.mjs DOC.json
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import { compileDocument } from "./openapi_ajv.mjs";

const path = process.argv[2];
const validator = new Validator();
const res = await validator.validate(path);
if (!res.valid) {
  console.error(`${path}: not a valid OpenAPI document:`);
  console.error(JSON.stringify(res.errors, null, 2));
  process.exit(1);
}
if (validator.version !== "3.1") {
  console.error(`${path}: OpenAPI ${validator.version}, expected 3.1`);
  process.exit(1);
}
const doc = JSON.parse(readFileSync(path, "utf8"));
const { count } = compileDocument(doc);
console.log(`${path}: valid OpenAPI ${validator.version}; ${count} response schemas compile`);
