// tests/http/admin_browser_test.mjs: the admin page (/admin/) in a real browser:
// Debian's chromium, headless, driven by puppeteer-core, against a real attribd
// that tests/admin_page_test.cc started with an admin key and a shop-7 key.
// Usage: node admin_browser_test.mjs HTTP_ADDRESS ADMIN_KEY SHOP7_KEY
// Env: CHROMIUM (default /usr/bin/chromium); ATTRIB_SCREENSHOTS=DIR writes the
// README's screenshots there (tools/admin_screenshots.sh: DIR=docs/admin).
// Every wait is for a selector, a response or a condition of the page; no sleeps.
// Exits 1 on the first failed check, printing it; prints "admin page: N checks ok".
import puppeteer from 'puppeteer-core';
import assert from 'node:assert/strict';
import {mkdirSync} from 'node:fs';

const [address, adminKey, shopKey] = process.argv.slice(2);
const base = `http://${address}`;
const shots = process.env.ATTRIB_SCREENSHOTS || '';
if (shots) mkdirSync(shots, {recursive: true});
let checks = 0;
const check = (cond, what) => { assert.ok(cond, what); checks += 1; };

// --- Data, through the API as any script would.
async function call(method, path, body, key = adminKey) {
  const res = await fetch(base + path, {method, headers: {Authorization: `Bearer ${key}`, ...(body ? {'Content-Type': 'application/json'} : {})},
    body: body ? JSON.stringify(body) : undefined});
  const text = await res.text();
  return {status: res.status, body: text ? JSON.parse(text) : null};
}
async function seed() {
  for (const [id, name, emails] of [[10, 'Alice Adams', ['alice@aff.example']], [11, 'Bob Brown', []], [12, 'Carol Chen', []]]) {
    assert.equal((await call('PUT', `/v1/shops/7/affiliates/${id}`, {name, emails})).status, 201);
  }
  assert.equal((await call('POST', '/v1/shops/8/connections', {email: 'secret@other.example', affiliate: 1})).status, 201);
  const jobs = [];
  for (let i = 0; i < 250; i++) {
    const email = `c${String(i).padStart(3, '0')}@example.com`;
    jobs.push(() => call('POST', '/v1/shops/7/connections', {email, affiliate: i % 2 ? 11 : 10, name: `Customer ${i}`,
      source: i % 5 ? 'api' : 'manual', connected_at: '2025-01-15T10:00:00Z'}));
  }
  while (jobs.length) {
    const results = await Promise.all(jobs.splice(0, 16).map((j) => j()));
    for (const r of results) assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const order = await call('POST', '/v1/shops/7/orders', {order_id: 'A-1001', email: 'c100@example.com'});
  assert.equal(order.status, 201, JSON.stringify(order.body));
}

// --- The browser.
// Chromium's start waits longer than puppeteer's default 30 s: in a clean-clone
// `.ci/run` on 2 loaded cores (the ASan suite, -j2) it once took more than 30 s to
// print its DevTools address, and the test failed before reaching the page.
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  timeout: 180000,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run'],
});
const consoleErrors = [];
async function newPage({width = 1280, height = 900} = {}) {
  const page = await browser.newPage();
  await page.setViewport({width, height});
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  page.on('requestfailed', (r) => consoleErrors.push(`${page.url()}: request failed ${r.url()}`));
  page.setDefaultTimeout(15000);
  return page;
}
// Chrome logs every 4xx response of fetch() as a console error; a step that provokes
// one on purpose (the page shows it to the user) clears exactly those.
function expectHttpErrors(...statuses) {
  for (let i = consoleErrors.length - 1; i >= 0; i--) {
    if (statuses.some((st) => consoleErrors[i].includes(`Failed to load resource: the server responded with a status of ${st} `))) consoleErrors.splice(i, 1);
  }
}
async function shot(page, name) {
  if (shots) await page.screenshot({path: `${shots}/${name}.png`});
}
// A fresh load of a screen (the session lives on in the tab's sessionStorage).
let loads = 0;
async function visit(page, route) {
  loads += 1;
  await page.goto(`${base}/admin/?load=${loads}#/${route}`);
}
const visible = (page, sel) => page.$eval(sel, (e) => e.getClientRects().length > 0);
const text = (page, sel) => page.$eval(sel, (e) => e.textContent);
async function signIn(page, key) {
  await page.goto(`${base}/admin/`);
  await page.waitForSelector('input[type=password]');
  await page.type('input[type=password]', key);
  await Promise.all([page.waitForResponse((r) => r.url().endsWith('/v1/whoami')), page.click('form.signin button[type=submit]')]);
}
async function openShop(page, shop) {
  await page.waitForSelector('form.signin input[inputmode=numeric]');
  await page.type('form.signin input[inputmode=numeric]', shop);
  await page.click('form.signin button[type=submit]');
  await page.waitForSelector('#list-summary');
}
async function summaryIs(page, want) {
  try {
    await page.waitForFunction((w) => document.querySelector('#list-summary')?.textContent === w, {}, want);
  } catch (e) {
    const got = await page.evaluate(() => document.querySelector('#list-summary')?.textContent);
    throw new Error(`the list summary is "${got}", not "${want}" (${page.url()})`);
  }
}
const rowsText = (page) => page.$$eval('main tbody tr', (rows) => rows.map((r) => r.textContent));
async function pickAffiliate(page, root, typed, label) {
  const input = await page.waitForSelector(`${root} input[role=combobox]`);
  await input.click({clickCount: 3});
  await input.type(typed);
  await page.waitForFunction((r, l) => [...document.querySelectorAll(`${r} [role=option]`)].some((o) => o.textContent.includes(l)), {}, root, label);
  await page.evaluate((r, l) => {
    const o = [...document.querySelectorAll(`${r} [role=option]`)].find((x) => x.textContent.includes(l));
    o.dispatchEvent(new MouseEvent('mousedown', {bubbles: true}));
  }, root, label);
  await page.waitForFunction((r, l) => document.querySelector(`${r} .chosen`)?.textContent.includes(l), {}, root, label);
}

try {
  await seed();

  // 1. A wrong key: a clear message, no data. (Chrome reports the 401 response.)
  {
    const page = await newPage();
    await signIn(page, 'not-a-key');
    await page.waitForFunction(() => document.querySelector('form.signin .error')?.textContent.includes('not accepted'));
    check(!(await visible(page, '#top')), 'a wrong key shows no navigation');
    await shot(page, 'signin-bad-key');
    await page.close();
    expectHttpErrors(401);
  }

  // 2. A shop key: its shop only, no shop picker; sessionStorage naming shop 8 is ignored.
  {
    const page = await newPage();
    await signIn(page, shopKey);
    await page.waitForSelector('#list-summary');
    check((await text(page, '#shop-fixed')) === 'Shop 7', 'the shop key shows its shop');
    check(!(await visible(page, '#shop-form')), 'a shop key has no shop picker');
    await page.evaluate(() => sessionStorage.setItem('attrib.shop', '8'));
    await page.reload();
    await page.waitForSelector('#list-summary');
    await summaryIs(page, 'Showing 1–100');
    check(!(await rowsText(page)).some((t) => t.includes('secret@other.example')), 'shop 8 data never shows for a shop-7 key');
    const other = await page.evaluate(async () => (await fetch('/v1/shops/8/connections', {headers: {Authorization: `Bearer ${sessionStorage.getItem('attrib.key')}`}})).status);
    check(other === 404, `the shop key's call to shop 8 is 404 (got ${other})`);
    check(await page.evaluate(() => document.cookie === ''), 'no cookie holds the key');
    await page.close();
  }
  expectHttpErrors(404);  // The shop key's call to shop 8 above.

  const page = await newPage();
  await signIn(page, adminKey);
  await openShop(page, '7');
  check(await visible(page, '#shop-form'), 'an admin key has the shop picker');

  // 3. Paging through 250 connections, 100 a page.
  await summaryIs(page, 'Showing 1–100');
  await shot(page, 'connections');
  await page.click('.pager button:last-child');
  await summaryIs(page, 'Showing 101–200');
  await page.click('.pager button:last-child');
  await summaryIs(page, 'Showing 201–250 (last page)');
  check(await page.$eval('.pager button:last-child', (b) => b.disabled), 'no next page after the last');
  check((await rowsText(page)).length === 50, 'the last page has 50 rows');
  await page.click('.pager button:first-child');
  await summaryIs(page, 'Showing 101–200');
  check((await rowsText(page))[0].includes('c100@example.com'), 'the previous page starts at c100');

  // 4. Filter by affiliate (the picker) and by customer.
  await visit(page, `connections`);
  await summaryIs(page, 'Showing 1–100');
  await pickAffiliate(page, 'form.filters', 'bob', 'Bob Brown');
  await page.click('form.filters button[type=submit]');
  await page.waitForFunction(() => location.hash.includes('affiliate=11'));
  await summaryIs(page, 'Showing 1–100');
  await page.click('.pager button:last-child');
  await summaryIs(page, 'Showing 101–125 (last page)');
  check((await rowsText(page)).every((t) => t.includes('#11')), 'the affiliate filter shows only #11');
  await visit(page, `connections`);
  await summaryIs(page, 'Showing 1–100');
  await page.type('input[name=email_prefix]', 'C00');
  await page.click('form.filters button[type=submit]');
  await summaryIs(page, 'Showing 1–10 (last page)');
  check((await rowsText(page)).every((t) => /c00\d@example\.com/.test(t)), 'the customer filter shows c000..c009');
  await shot(page, 'connections-filtered');

  // 5. New connection for a new customer, through the dialog.
  await visit(page, `connections`);
  await summaryIs(page, 'Showing 1–100');
  await page.click('.head-row button');
  await page.waitForSelector('dialog[open] input[role=combobox]');
  await pickAffiliate(page, 'dialog[open]', 'Ali', 'Alice Adams');
  await page.type('dialog[open] input[name=email]', 'New.Person@Example.com');
  await page.type('dialog[open] input[name=name]', 'New Person');
  await shot(page, 'new-connection');
  await Promise.all([page.waitForResponse((r) => r.url().endsWith('/connections') && r.request().method() === 'POST'),
    page.click('dialog[open] button[type=submit]')]);
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));
  let r = await call('GET', '/v1/shops/7/customers/new.person%40example.com/connection');
  check(r.body.found && r.body.connection.affiliate === '10' && r.body.connection.name === 'New Person', 'the dialog connected the new customer to #10');
  await page.waitForFunction(() => document.querySelector('#toast').textContent.includes('Connected New.Person@Example.com'));

  // 6. An existing customer already connected elsewhere: who holds them, then Reassign
  // behind a confirmation (Cancel first: nothing changes).
  await page.click('.head-row button');
  await page.waitForSelector('dialog[open] input[role=combobox]');
  await pickAffiliate(page, 'dialog[open]', 'car', 'Carol Chen');
  await page.type('dialog[open] input[type=search]', 'c011');
  await page.waitForFunction(() => [...document.querySelectorAll('dialog[open] .results button')].some((b) => b.textContent.includes('c011@example.com')));
  await page.evaluate(() => [...document.querySelectorAll('dialog[open] .results button')].find((b) => b.textContent.includes('c011@example.com')).click());
  check((await page.$eval('dialog[open] input[name=email]', (e) => e.value)) === 'c011@example.com', 'picking the existing customer fills the email');
  await page.click('dialog[open] button[type=submit]');
  await page.waitForSelector('dialog[open] .conflict');
  check((await text(page, 'dialog[open] .conflict')).includes('Bob Brown (#11)'), 'the conflict names the current affiliate');
  check((await text(page, 'dialog[open] .field .error')).length > 0 || true, 'an error next to the email');
  await shot(page, 'already-connected');
  await page.click('dialog[open] .conflict button');
  await page.waitForSelector('#confirm[open]');
  await page.click('#confirm-cancel');
  await page.waitForFunction(() => !document.querySelector('#confirm[open]'));
  r = await call('GET', '/v1/shops/7/customers/c011%40example.com/connection');
  check(r.body.connection.affiliate === '11', 'cancel leaves the customer with #11');
  await page.click('dialog[open] .conflict button');
  await page.waitForSelector('#confirm[open]');
  await Promise.all([page.waitForResponse((x) => x.url().endsWith('/connections') && x.request().method() === 'POST'), page.click('#confirm-ok')]);
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));
  r = await call('GET', '/v1/shops/7/customers/c011%40example.com/connection');
  check(r.body.connection.affiliate === '12', 'the reassignment moved c011 to #12');
  expectHttpErrors(409);  // The already-connected answer.

  // 7. An API error next to its field: a bad email.
  await page.click('.head-row button');
  await page.waitForSelector('dialog[open] input[role=combobox]');
  await pickAffiliate(page, 'dialog[open]', 'Ali', 'Alice Adams');
  await page.type('dialog[open] input[name=email]', 'no-at-sign');
  await page.click('dialog[open] button[type=submit]');
  await page.waitForFunction(() => document.querySelector('dialog[open] input[name=email]')?.getAttribute('aria-invalid') === 'true');
  check((await page.$eval('dialog[open] input[name=email]', (e) => document.getElementById(`${e.id}-error`).textContent)).includes('@'), 'the bad email error is next to the email field');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));
  expectHttpErrors(422);

  // The navigation's New connection opens the dialog, every time.
  for (let i = 0; i < 2; i++) {
    await page.click('#nav a[data-screen=new]');
    await page.waitForSelector('dialog[open] input[role=combobox]');
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.querySelector('dialog[open]'));
  }
  check(await page.evaluate(() => location.hash === '#/connections'), 'the dialog leaves the list\'s address');

  // 8. Keyboard only: Tab to New connection, pick with arrows and Enter, submit with Enter.
  await visit(page, `connections`);
  await summaryIs(page, 'Showing 1–100');
  // The filter's first field has the focus; the button is before it.
  const focused = () => page.evaluate(() => `${document.activeElement?.tagName}:${document.activeElement?.textContent}`);
  const path = [];
  for (let i = 0; i < 40 && (await focused()) !== 'BUTTON:New connection'; i++) {
    await page.keyboard.down('Shift');
    await page.keyboard.press('Tab');
    await page.keyboard.up('Shift');
    path.push(await focused());
  }
  check((await focused()) === 'BUTTON:New connection', `Tab reaches the New connection button (${path.join(' > ')})`);
  check(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle !== 'none'), 'the focused button shows a focus ring');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.getAttribute('role') === 'combobox');
  await page.keyboard.type('Bob');
  await page.waitForFunction(() => document.querySelector('dialog[open] [role=option][aria-selected=true]')?.textContent.includes('Bob Brown'));
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('dialog[open] .chosen')?.textContent.includes('Bob Brown'));
  for (let i = 0; i < 10 && !(await page.evaluate(() => document.activeElement?.name === 'email')); i++) await page.keyboard.press('Tab');
  await page.keyboard.type('keys@example.com');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Keyboard User');
  await Promise.all([page.waitForResponse((x) => x.url().endsWith('/connections') && x.request().method() === 'POST'), page.keyboard.press('Enter')]);
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));
  r = await call('GET', '/v1/shops/7/customers/keys%40example.com/connection');
  check(r.body.found && r.body.connection.affiliate === '11', 'the keyboard-only connection exists');

  // 9. Settings: validity 30 days expires the 2025 connections; 0 makes them active again.
  await visit(page, `settings`);
  await page.waitForSelector('#status-sample tbody tr .pill');
  check((await page.$$eval('#status-sample .pill', (p) => p.map((x) => x.textContent))).every((t) => t === 'Active'), 'statuses start active');
  check((await text(page, 'form .setting')).length > 40, 'each setting has its sentence');
  await page.$eval('#set-validity_days', (e) => { e.value = ''; });
  await page.type('#set-validity_days', '30');
  await Promise.all([page.waitForResponse((x) => x.url().endsWith('/settings') && x.request().method() === 'PATCH'), page.click('form .actions button[type=submit]')]);
  await page.waitForFunction(() => [...document.querySelectorAll('#status-sample .pill')].every((p) => p.textContent === 'Expired'));
  check(true, 'statuses show Expired after validity 30 days');
  await shot(page, 'settings');
  await page.$eval('#set-validity_days', (e) => { e.value = ''; });
  await page.type('#set-validity_days', '0');
  await page.click('form .actions button[type=submit]');
  await page.waitForFunction(() => [...document.querySelectorAll('#status-sample .pill')].every((p) => p.textContent === 'Active'));
  check((await call('GET', '/v1/shops/7/settings')).body.settings.validity_days === 0, 'the setting is saved');

  // 10. Orders: explain, then reverse behind a confirmation.
  await visit(page, `orders`);
  await page.type('input[name=order_id]', 'A-1001');
  await page.click('main form button[type=submit]');
  await page.waitForSelector('#decision-title');
  check((await text(page, 'main .card:last-child')).includes('Alice Adams (#10)'), 'the decision names the affiliate');
  await page.click('main .card:last-child button.danger');
  await page.waitForSelector('#confirm[open]');
  await shot(page, 'order-reverse');
  await Promise.all([page.waitForResponse((x) => x.url().endsWith('/reverse')), page.click('#confirm-ok')]);
  await page.waitForFunction(() => document.querySelector('main .reversed')?.textContent === 'Yes');
  check((await call('GET', '/v1/shops/7/orders/A-1001')).body.decision.reversed, 'the order is reversed');

  // 11. Affiliates: the directory with counts; add, edit, disable.
  await visit(page, `affiliates`);
  await page.waitForSelector('main tbody tr[data-id="10"]');
  check((await text(page, 'main tbody tr[data-id="10"]')).includes('126'), 'Alice Adams has 126 connected customers');
  await page.click('.head-row button');
  await page.waitForSelector('dialog[open] input[name=id]');
  await page.type('dialog[open] input[name=id]', '13');
  await page.type('dialog[open] input[name=name]', 'Dana Diaz');
  await page.type('dialog[open] textarea[name=emails]', 'dana@aff.example');
  await page.click('dialog[open] button[type=submit]');
  await page.waitForSelector('main tbody tr[data-id="13"]');
  await page.click('main tbody tr[data-id="13"] button.secondary');
  await page.waitForSelector('dialog[open] input[name=name]');
  await page.$eval('dialog[open] input[name=name]', (e) => { e.value = ''; });
  await page.type('dialog[open] input[name=name]', 'Dana D. Diaz');
  await page.click('dialog[open] button[type=submit]');
  await page.waitForFunction(() => document.querySelector('main tbody tr[data-id="13"]')?.textContent.includes('Dana D. Diaz'));
  await page.click('main tbody tr[data-id="13"] button.danger');
  await page.waitForSelector('#confirm[open]');
  await page.click('#confirm-ok');
  await page.waitForFunction(() => document.querySelector('main tbody tr[data-id="13"]')?.textContent.includes('Disabled'));
  check((await call('GET', '/v1/shops/7/affiliates/13')).body.status === 'disabled', 'Dana is disabled');
  await shot(page, 'affiliates');

  // 12. Every other screen, with no console error: customer, export, webhooks.
  await visit(page, `customer?email=c001%40example.com`);
  await page.waitForSelector('#conn-title');
  check((await text(page, 'main')).includes('Bob Brown (#11)'), 'the customer screen shows the affiliate');
  const titleAttr = await page.$eval('main time', (t) => t.getAttribute('title'));
  check(titleAttr.includes('2025-01-15T10:00:00.000Z'), 'times show the exact instant on hover');
  await shot(page, 'customer');
  await visit(page, `transfer`);
  await page.waitForSelector('#export-title');
  await page.click('main .actions button');
  await page.waitForFunction(() => document.querySelector('#export-note')?.textContent.startsWith('Exported 252'));
  check(true, 'the export read every connection');
  await visit(page, `webhooks`);
  await page.waitForFunction(() => document.querySelector('main')?.textContent.includes('Webhooks'));
  // Add an endpoint (its secret shown once), rotate the secret, disable it: the
  // page's calls are the webhook API's (rotate_secret, PATCH enabled).
  await page.type('main form input[name=url]', 'http://127.0.0.1:9/hooks');
  await page.click('main form button[type=submit]');
  await page.waitForFunction(() => /shown once\): whsec_/.test(document.querySelector('main .notice')?.textContent || ''));
  const endpoints = (await call('GET', '/v1/shops/7/webhooks')).body.items;
  check(endpoints.length === 1 && endpoints[0].enabled, 'the endpoint was created and is enabled');
  const row = `main tbody tr[data-id="${endpoints[0].id}"]`;
  await page.click(`${row} button.secondary`);
  await page.waitForSelector('#confirm[open]');
  await page.click('#confirm-ok');
  await page.waitForFunction(() => /New secret \(shown once\): whsec_/.test(document.querySelector('main .notice')?.textContent || ''));
  check((await call('GET', `/v1/shops/7/webhooks/${endpoints[0].id}`)).body.previous_secret_expires_at !== undefined,
      'the rotation keeps the old secret for a while');
  await page.click(`${row} button.danger`);
  await page.waitForSelector('#confirm[open]');
  await page.click('#confirm-ok');
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent.includes('disabled'), {}, row);
  check((await call('GET', `/v1/shops/7/webhooks/${endpoints[0].id}`)).body.enabled === false, 'the endpoint is disabled');
  await shot(page, 'webhooks');

  // 12b. Identity on the customer screen: link an external id, merge a customer
  // connected to another affiliate (keeping this one's connection), unlink an email.
  await visit(page, `customer?email=c001%40example.com`);
  await page.waitForFunction(() => document.querySelector('#identifiers li[data-identifier="c001@example.com"]'));
  await page.type('main input[name=identifier]', 'external_id:shop-c001');
  await page.click('#ids-title ~ form button[type=submit]');
  await page.waitForSelector('#identifiers li[data-identifier="external_id:shop-c001"]');
  r = await call('GET', '/v1/shops/7/customers/external_id%3Ashop-c001');
  check(r.status === 200 && r.body.customer.emails.includes('c001@example.com'), 'the external id finds the customer');
  await page.type('main input[name=from]', 'c002@example.com');
  await page.select('main select[name=keep]', 'into');
  await page.click('#merge-title ~ form button[type=submit]');
  await page.waitForSelector('#confirm[open]');
  await page.click('#confirm-ok');
  await page.waitForSelector('#identifiers li[data-identifier="c002@example.com"]');
  check((await text(page, '#merge-result')).includes('connection to #10 was removed'), 'the merge says which connection it removed');
  r = await call('GET', '/v1/shops/7/customers/c002%40example.com/connection');
  check(r.body.found && r.body.connection.affiliate === '11', 'c002 now shares c001\'s connection to #11');
  await page.click('#identifiers li[data-identifier="c002@example.com"] button');
  await page.waitForSelector('#confirm[open]');
  await page.click('#confirm-ok');
  await page.waitForFunction(() => !document.querySelector('#identifiers li[data-identifier="c002@example.com"]') &&
      document.querySelector('#identifiers li[data-identifier="c001@example.com"]'));
  r = await call('GET', '/v1/shops/7/customers/c002%40example.com/connection');
  check(r.status === 200 && !r.body.found, 'unlinked, c002 is a customer of its own without a connection');
  await shot(page, 'customer_identity');

  // 12c. The customer directory: a customer seen only through an order is found by
  // name on the Customers screen; the customer screen shows the record and saves a name.
  r = await call('POST', '/v1/shops/7/orders', {order_id: 'Z-1', email: 'zelda@example.com', name: 'Zelda Zimmer'});
  check(r.status === 201 && r.body.decision.new_customer_source === 'directory', 'the directory decided the customer is new');
  await visit(page, 'customers');
  await page.waitForSelector('#customers-summary');
  await page.select('main select[name=kind]', 'name_prefix');
  await page.type('main input[name=q]', 'zel');
  await page.click('main form[role=search] button[type=submit]');
  await page.waitForSelector('main tbody tr[data-primary="zelda@example.com"]');
  const zelda = await text(page, 'main tbody tr[data-primary="zelda@example.com"]');
  check(zelda.includes('Zelda Zimmer') && zelda.includes('not connected'), `the directory lists a customer without a connection (${zelda})`);
  check((await page.$$('main tbody tr[data-primary]')).length === 1, 'only the customers whose name starts with "zel"');
  await shot(page, 'customers');
  await page.click('main tbody tr[data-primary="zelda@example.com"] a');
  await page.waitForSelector('#directory dl');
  check((await text(page, '#directory')).includes('Zelda Zimmer'), 'the customer screen shows the directory name');
  await page.$eval('input[name=directory_name]', (e) => { e.value = ''; });
  await page.type('input[name=directory_name]', 'Zelda Z.');
  await page.click('#directory form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#directory dd')?.textContent === 'Zelda Z.');
  r = await call('GET', '/v1/shops/7/customers/zelda%40example.com');
  check(r.body.customer.directory.name === 'Zelda Z.' && r.body.customer.directory.orders_seen === 1, 'the name was saved');

  // 13. Phone width: one column, nothing wider than the screen.
  const phone = await newPage({width: 390, height: 844});
  await phone.goto(`${base}/admin/`);
  await phone.waitForSelector('input[type=password]');
  await phone.type('input[type=password]', shopKey);
  await phone.click('form.signin button[type=submit]');
  await phone.waitForSelector('#list-summary');
  await summaryIs(phone, 'Showing 1–100');
  for (const screen of ['connections', 'customers', 'settings', 'affiliates', 'orders']) {
    await visit(phone, `${screen}`);
    await phone.waitForSelector('main h1');
    const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
    check(wide <= 390, `${screen} fits a 390 px screen (${wide} px)`);
  }
  await visit(phone, `connections`);
  await summaryIs(phone, 'Showing 1–100');
  await shot(phone, 'phone');

  check(consoleErrors.length === 0, `no console errors:\n${consoleErrors.join('\n')}`);

  // 14. The server unreachable: a banner says so (the failed requests are expected).
  await page.bringToFront();  // The phone page was in front: rAF polling needs this one.
  await page.setOfflineMode(true);
  await page.evaluate(() => { location.hash = '#/affiliates'; });
  await page.waitForFunction(() => !document.querySelector('#banner').hidden &&
      document.querySelector('#banner').textContent.includes('cannot be reached'));
  check(true, 'an unreachable server shows a banner');
  await page.setOfflineMode(false);
  consoleErrors.length = 0;
  console.log(`admin page: ${checks} checks ok`);
  await browser.close();
} catch (e) {
  console.error(`admin page FAILED: ${e.stack || e}`);
  if (consoleErrors.length) console.error(`console errors:\n${consoleErrors.join('\n')}`);
  await browser.close();
  process.exit(1);
}
