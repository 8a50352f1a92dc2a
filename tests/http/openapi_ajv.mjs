// tests/http/openapi_ajv.mjs: the OpenAPI document's response schemas as ajv
// validators (JSON Schema 2020-12 with formats), and the lookup of the operation a
// concrete request path and method belong to.
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

// Returns { ajv, count, validatorFor(method, path, status, contentType) }.
export function compileDocument(doc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: "openapi", components: doc.components });
  const compiled = new Map();  // "template METHOD status type" -> validate
  let count = 0;
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === "parameters") continue;
      for (const [status, response] of Object.entries(op.responses)) {
        for (const [type, media] of Object.entries(response.content ?? {})) {
          const schema = JSON.parse(
            JSON.stringify(media.schema).replaceAll('"#/components/', '"openapi#/components/'));
          compiled.set(`${template} ${method} ${status} ${type}`, ajv.compile(schema));
          ++count;
        }
      }
    }
  }
  const templates = Object.keys(doc.paths).map((t) => ({
    template: t,
    re: new RegExp("^" + t.replace(/\{[^}]+\}/g, "[^/]+") + "$"),
  }));
  // A path or method the document does not have must be answered 404 or 405 with
  // a problem document (OpenAPI cannot describe responses of undocumented routes).
  const problem = ajv.compile({ $ref: "openapi#/components/schemas/Problem" });
  function undocumented(what, status, contentType) {
    if (status !== 404 && status !== 405) return { error: `${what}, yet answered ${status}` };
    if (!(contentType ?? "").startsWith("application/problem+json")) {
      return { error: `${what}: a ${status} must be application/problem+json` };
    }
    return { validate: problem, key: `undocumented ${status}` };
  }
  // { error } or { validate, key }.
  function validatorFor(method, path, status, contentType) {
    const m = method.toLowerCase() === "head" ? "get" : method.toLowerCase();
    const found = templates.find(({ re }) => re.test(path.split("?")[0]));
    if (!found) return undocumented(`no path of the document matches ${path}`, status, contentType);
    const op = doc.paths[found.template][m];
    if (!op) return undocumented(`${found.template} has no ${m}`, status, contentType);
    const type = (contentType ?? "").split(";")[0].trim();
    const code = String(status) in op.responses ? String(status) : "default";
    if (!(code in op.responses)) {
      return { error: `${m.toUpperCase()} ${found.template}: status ${status} not documented` };
    }
    const key = `${found.template} ${m} ${code} ${type}`;
    const validate = compiled.get(key);
    if (!validate) {
      return { error: `${m.toUpperCase()} ${found.template} ${code}: no ${type} content documented` };
    }
    return { validate, key };
  }
  return { ajv, count, validatorFor };
}
