// app.js: the admin page's shell: sign-in with an API key (kept in this tab's
// sessionStorage), the shop (an admin key picks one; a shop key has its own), the
// navigation and the hash router (#/connections, #/settings, ...).
import {h, clear, field, setError} from './dom.js';
import {api, session, onTrouble, ApiError} from './api.js';
import {banner} from './ui.js';
import * as connections from './screens/connections.js';
import * as customer from './screens/customer.js';
import * as customers from './screens/customers.js';
import * as affiliates from './screens/affiliates.js';
import * as orders from './screens/orders.js';
import * as settings from './screens/settings.js';
import * as transfer from './screens/transfer.js';
import * as webhooks from './screens/webhooks.js';

const screens = [
  ['connections', 'Connections', connections],
  ['new', 'New connection', connections],
  ['customers', 'Customers', customers],
  ['customer', 'Customer', customer],
  ['affiliates', 'Affiliates', affiliates],
  ['orders', 'Orders', orders],
  ['settings', 'Settings', settings],
  ['transfer', 'Import / export', transfer],
  ['webhooks', 'Webhooks', webhooks],
];

const main = document.getElementById('main');

function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [name, q = ''] = hash.split('?');
  return {name: name || 'connections', params: new URLSearchParams(q)};
}

export function go(name, params = {}) {
  const q = new URLSearchParams(params).toString();
  const hash = `#/${name}${q ? `?${q}` : ''}`;
  if (location.hash === hash) render();  // The same screen again: no hashchange.
  else location.hash = hash;
}

async function render() {
  if (!session.whoami) return signIn();
  if (!session.shop) return chooseShop();
  banner('');
  const {name, params} = route();
  const entry = screens.find(([n]) => n === name) || screens[0];
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.screen === entry[0]) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${entry[1]} · shop ${session.shop} · attrib admin`;
  clear(main);
  try {
    await entry[2].render(main, {name: entry[0], params, go});
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    main.append(h('div', {class: 'card'}, h('p', {class: 'form-error'}, e.message)));
  }
}

function shell() {
  const top = document.getElementById('top');
  top.hidden = false;
  const nav = clear(document.getElementById('nav'));
  for (const [n, label] of screens) nav.append(h('a', {href: `#/${n}`, dataset: {screen: n}}, label));
  const admin = session.whoami.admin;
  document.getElementById('shop-form').hidden = !admin;
  const fixed = document.getElementById('shop-fixed');
  fixed.hidden = admin;
  fixed.textContent = admin ? '' : `Shop ${session.whoami.shop}`;
  document.getElementById('shop-input').value = session.shop || '';
}

function signIn(message) {
  document.getElementById('top').hidden = true;
  clear(main);
  const key = h('input', {type: 'password', name: 'key', autocomplete: 'current-password', spellcheck: 'false'});
  const f = field('API key', key, 'A key from the server\'s --api_keys_file. It stays in this browser tab only (session storage) and is forgotten when the tab closes. Leave it empty for a server run without keys.');
  const button = h('button', {type: 'submit'}, 'Sign in');
  const form = h('form', {class: 'card signin', 'aria-labelledby': 'signin-title', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      button.disabled = true;
      setError(f, '');
      try {
        const who = await api('GET', '/v1/whoami', undefined, {key: key.value.trim(), quiet: true});
        session.key = key.value.trim();
        session.whoami = who;
        session.shop = who.admin ? session.shop : who.shop;
        shell();
        render();
      } catch (err) {
        setError(f, err.status === 401 ? 'This key is not accepted by this server. Check it and try again.' : err.message);
        key.focus();
      } finally {
        button.disabled = false;
      }
    }},
  h('h1', {id: 'signin-title'}, 'Sign in to attrib'),
  message ? h('p', {class: 'form-error', role: 'alert'}, message) : null,
  f.wrap, h('div', {class: 'actions'}, button));
  main.append(form);
  key.focus();
}

function chooseShop() {
  clear(main);
  const input = h('input', {inputmode: 'numeric', pattern: '[0-9]+', required: true, autocomplete: 'off'});
  const f = field('Shop id', input, 'This admin key may open any shop. Which one?');
  main.append(h('form', {class: 'card signin', onsubmit: (e) => {
    e.preventDefault();
    if (!/^\d+$/.test(input.value.trim())) { setError(f, 'A shop id is a number, e.g. 42.'); return; }
    openShop(input.value.trim());
  }}, h('h1', {}, 'Choose a shop'), f.wrap, h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Open shop'))));
  input.focus();
}

function openShop(shop) {
  session.shop = shop;
  document.getElementById('shop-input').value = shop;
  if (!location.hash) go('connections');
  render();
}

function signOut(message) {
  session.key = null;
  session.shop = null;
  session.whoami = null;
  history.replaceState(null, '', location.pathname);
  signIn(message);
}

async function start() {
  document.getElementById('sign-out').addEventListener('click', () => signOut());
  document.getElementById('shop-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const v = document.getElementById('shop-input').value.trim();
    if (/^\d+$/.test(v)) openShop(v);
  });
  window.addEventListener('hashchange', render);
  onTrouble((err) => {
    if (err.status === 401) signOut('The server no longer accepts this key. Sign in again.');
    else banner(err.message);
  });
  if (session.key !== null) {
    try {
      session.whoami = await api('GET', '/v1/whoami', undefined, {quiet: true});
      if (!session.whoami.admin) session.shop = session.whoami.shop;
      shell();
    } catch (err) {
      if (err.status === 0) banner(err.message);
      session.key = null;
    }
  }
  render();
}

start();
