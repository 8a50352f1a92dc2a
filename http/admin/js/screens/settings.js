// screens/settings.js: the customer-affiliate connect settings, each with one plain
// sentence of what it does. Saving sends only what changed (PATCH); the sample of
// connections below reloads so the new statuses show at once (settings apply to
// existing connections when their status is read).
import {h} from '../dom.js';
import {api, shopPath, query, ApiError} from '../api.js';
import {time, status} from '../format.js';
import {toast, showApiError} from '../ui.js';

const SETTINGS = [
  ['connections_enabled', 'bool', 'Enable connections', 'When off, no connection counts: orders go only to referral links and coupons.'],
  ['auto_connect', 'bool', 'Connect customers automatically', 'A customer who orders through an affiliate\'s link or coupon is connected to that affiliate.'],
  ['auto_connect_new_customers_only', 'bool', 'Only new customers', 'Automatic connections only for customers without earlier orders in this shop.'],
  ['validity_days', 'number', 'Valid for (days)', 'How long a connection counts; 0 means forever.'],
  ['validity_mode', ['fixed', 'sliding'], 'Counted from', 'fixed: days from the connection; sliding: days from the customer\'s last order.'],
  ['validity_max_orders', 'number', 'Number of sales', 'How many orders a connection counts for; 0 means no limit.'],
  ['precedence', ['connection_first', 'referral_first', 'referral_takes_over'], 'When another affiliate\'s link or coupon is used', 'connection_first: the connected affiliate keeps the order; referral_first: the link wins this order; referral_takes_over: the link wins and the customer moves to that affiliate.'],
  ['block_self_referrals', 'bool', 'Block self-referrals', 'An affiliate\'s own email cannot be connected to that affiliate, and their own orders are not referrals.'],
  ['require_registered_affiliates', 'bool', 'Only affiliates in the directory', 'Connections and referrals only to affiliates listed under Affiliates.'],
  ['on_customer_becomes_affiliate', ['keep', 'disconnect'], 'When a customer becomes an affiliate', 'keep: their connection to another affiliate stays; disconnect: it is removed.'],
];

export async function render(main) {
  const r = await api('GET', shopPath('/settings'));
  let current = r.settings;
  const inputs = {};
  const fields = {};
  const rows = SETTINGS.filter(([k]) => k in current).map(([key, kind, label, sentence]) => {
    const id = `set-${key}`;
    let input;
    if (kind === 'bool') input = h('input', {type: 'checkbox', id, checked: current[key]});
    else if (kind === 'number') input = h('input', {type: 'number', id, min: 0, step: 1, value: String(current[key])});
    else input = h('select', {id}, kind.map((v) => h('option', {value: v}, v.replaceAll('_', ' '))));
    if (Array.isArray(kind)) input.value = current[key];
    input.setAttribute('aria-describedby', `${id}-help ${id}-error`);
    inputs[key] = input;
    const error = h('p', {class: 'error', id: `${id}-error`});
    fields[key] = {input, error};
    return h('div', {class: 'setting'},
        h('div', {}, h('label', {for: id}, label), h('p', {id: `${id}-help`}, sentence), error),
        h('div', {class: kind === 'bool' ? 'check' : 'control'}, input));
  });
  const formError = h('p', {class: 'form-error', role: 'alert'});
  const save = h('button', {type: 'submit'}, 'Save settings');
  const sampleBody = h('tbody');
  const form = h('form', {class: 'card', 'aria-labelledby': 'settings-title', onsubmit: async (e) => {
    e.preventDefault();
    const patch = {};
    for (const [key, kind] of SETTINGS) {
      const input = inputs[key];
      if (!input) continue;
      const v = kind === 'bool' ? input.checked : kind === 'number' ? Number(input.value) : input.value;
      if (v !== current[key]) patch[key] = v;
    }
    if (!Object.keys(patch).length) { toast('Nothing changed'); return; }
    save.disabled = true;
    try {
      current = (await api('PATCH', shopPath('/settings'), patch)).settings;
      for (const f of Object.values(fields)) f.error.textContent = '';
      toast('Settings saved; statuses below are updated');
      await loadSample();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showApiError(err, fields, formError);
    } finally {
      save.disabled = false;
    }
  }}, h('h1', {id: 'settings-title'}, 'Customer-affiliate connect settings'), rows, formError, h('div', {class: 'actions'}, save));

  async function loadSample() {
    const page = await api('GET', shopPath(`/connections${query({limit: 10})}`));
    sampleBody.replaceChildren(...page.items.map((i) => h('tr', {}, h('td', {'data-label': 'Customer'}, i.connection.entered_email),
        h('td', {'data-label': 'Connected'}, time(i.connection.connected_at)),
        h('td', {'data-label': 'Orders'}, String(i.connection.order_count)),
        h('td', {'data-label': 'Status', class: 'status'}, status(i.status)))));
    if (!page.items.length) sampleBody.append(h('tr', {}, h('td', {colspan: 4, class: 'empty'}, 'No connections yet: statuses will show here.')));
  }
  main.append(form, h('section', {class: 'card', 'aria-labelledby': 'sample-title'},
      h('h2', {id: 'sample-title'}, 'How the first connections stand now'),
      h('div', {class: 'table-wrap'}, h('table', {class: 'responsive', id: 'status-sample'},
          h('thead', {}, h('tr', {}, ['Customer', 'Connected', 'Orders', 'Status'].map((t) => h('th', {scope: 'col'}, t)))), sampleBody))));
  await loadSample();
}
