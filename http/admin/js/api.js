// api.js: every call the page makes, through the public HTTP API (the same calls a
// script could make). The key lives in this tab's sessionStorage, never a cookie; it
// is sent as `Authorization: Bearer`. Errors become ApiError with the problem
// document's code, field and detail (status 0: the server could not be reached).
const KEY = 'attrib.key';
const SHOP = 'attrib.shop';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || '';
    this.field = problem.field || '';
    this.problem = problem;
  }
}

export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  set key(v) { if (v === null) sessionStorage.removeItem(KEY); else sessionStorage.setItem(KEY, v); },
  get shop() { return sessionStorage.getItem(SHOP); },
  set shop(v) { if (v === null) sessionStorage.removeItem(SHOP); else sessionStorage.setItem(SHOP, v); },
  whoami: null,  // {admin, shop, read_only} of the signed-in key.
};

const listeners = new Set();
// fn(error) on every 401 (the key was refused) and every unreachable server.
export function onTrouble(fn) { listeners.add(fn); }

export async function api(method, path, body, {key = session.key, quiet = false} = {}) {
  const headers = {Accept: 'application/json'};
  if (key) headers.Authorization = `Bearer ${key}`;
  const init = {method, headers, cache: 'no-store'};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    const err = new ApiError(0, {detail: 'The server cannot be reached. Check that attribd is running and this address is right.', code: 'unreachable'});
    if (!quiet) listeners.forEach((fn) => fn(err));
    throw err;
  }
  const text = await res.text();
  let doc = {};
  try { doc = text ? JSON.parse(text) : {}; } catch { doc = {detail: text}; }
  if (!res.ok) {
    const err = new ApiError(res.status, doc);
    if (res.status === 401 && !quiet) listeners.forEach((fn) => fn(err));
    throw err;
  }
  return doc;
}

export function shopPath(rest = '') { return `/v1/shops/${encodeURIComponent(session.shop)}${rest}`; }

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// What this server's API offers, read from its own OpenAPI document, so screens of
// resources a server does not have say so instead of failing.
let doc = null;
export async function capabilities() {
  if (!doc) doc = await api('GET', '/v1/openapi.json', undefined, {key: null, quiet: true}).catch(() => ({paths: {}, components: {schemas: {}}}));
  const paths = doc.paths || {};
  const schemas = (doc.components && doc.components.schemas) || {};
  const has = (p, m) => !!(paths[p] && paths[p][m]);
  const connectProps = (schemas.ConnectRequest && schemas.ConnectRequest.properties) || {};
  return {
    externalId: 'external_id' in connectProps,
    customerSearch: has('/v1/shops/{shop}/customers', 'get'),
    customer: has('/v1/shops/{shop}/customers/{customer}', 'get'),
    customerName: has('/v1/shops/{shop}/customers/{customer}', 'patch'),
    identifiers: has('/v1/shops/{shop}/customers/{customer}/identifiers', 'post'),
    merge: has('/v1/shops/{shop}/customers/{customer}/merge', 'post'),
    history: has('/v1/shops/{shop}/customers/{customer}/history', 'get'),
    customerOrders: has('/v1/shops/{shop}/customers/{customer}/orders', 'get'),
    webhooks: has('/v1/shops/{shop}/webhooks', 'get'),
    importCsv: has('/v1/shops/{shop}/imports', 'post'),
  };
}
