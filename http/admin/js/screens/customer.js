// screens/customer.js: one customer by email: the connection and its status,
// disconnect (behind a confirmation); identifiers (link/unlink), history and recent
// orders where the server has those resources, else a plain "not available".
import {h, field, setError} from '../dom.js';
import {api, shopPath, capabilities, ApiError} from '../api.js';
import {time, status, sourceText, affiliateLabel} from '../format.js';
import {affiliateInfo} from '../affiliates_cache.js';
import {confirmAction, toast, showApiError} from '../ui.js';

const unavailable = (what) => h('p', {class: 'notice'}, `${what}: not available on this server.`);

function identifiers(email, caps, refresh) {
  const card = h('section', {class: 'card', 'aria-labelledby': 'ids-title'}, h('h2', {id: 'ids-title'}, 'Identifiers'));
  if (!caps.identifiers) { card.append(unavailable('Linked emails and external ids')); return card; }
  const path = shopPath(`/customers/${encodeURIComponent(email)}/identifiers`);
  const list = h('ul', {class: 'results'});
  const input = h('input', {type: 'text', autocomplete: 'off'});
  const f = field('Link another email or external id', input, 'An email, or an external id as ext:ID.');
  const form = h('form', {onsubmit: async (e) => {
    e.preventDefault();
    const v = input.value.trim();
    const body = v.startsWith('ext:') ? {external_id: v.slice(4)} : {email: v};
    try {
      await api('POST', path, body);
      toast(`Linked ${v}`);
      refresh();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setError(f, err.message);
    }
  }}, f.wrap, h('button', {type: 'submit'}, 'Link'));
  card.append(list, form);
  api('GET', path, undefined, {quiet: true}).then((r) => {
    const items = [...(r.emails || []).map((e) => ({kind: 'email', value: e})),
      ...(r.external_ids || (r.external_id ? [r.external_id] : [])).map((x) => ({kind: 'external_id', value: x}))];
    list.replaceChildren(...items.map((it) => h('li', {}, `${it.kind === 'email' ? 'Email' : 'External id'}: ${it.value} `,
        h('button', {type: 'button', class: 'link', onclick: async () => {
          if (!await confirmAction('Unlink?', `${it.value} will no longer identify this customer.`, 'Unlink')) return;
          await api('DELETE', `${path}/${encodeURIComponent(it.value)}`);
          refresh();
        }}, `Unlink ${it.value}`))));
    if (!items.length) list.append(h('li', {class: 'muted'}, 'No other identifiers.'));
  }).catch(() => list.replaceChildren(unavailable('Identifiers')));
  return card;
}

function listSection(title, available, path, renderItem) {
  const card = h('section', {class: 'card'}, h('h2', {}, title));
  if (!available) { card.append(unavailable(title)); return card; }
  const body = h('div', {}, h('p', {class: 'muted'}, 'Loading…'));
  card.append(body);
  api('GET', path, undefined, {quiet: true}).then((r) => {
    const items = r.items || [];
    body.replaceChildren(items.length ? h('ul', {class: 'results'}, items.map(renderItem)) : h('p', {class: 'empty'}, 'Nothing yet.'));
  }).catch(() => body.replaceChildren(unavailable(title)));
  return card;
}

export async function render(main, {params, go}) {
  const caps = await capabilities();
  const input = h('input', {type: 'email', name: 'email', value: params.get('email') || '', autocomplete: 'off', required: true});
  const f = field('Customer email', input);
  main.append(h('h1', {}, 'Customer'), h('form', {class: 'card', role: 'search', onsubmit: (e) => {
    e.preventDefault();
    go('customer', {email: input.value.trim()});
  }}, f.wrap, h('button', {type: 'submit'}, 'Look up')));
  const email = params.get('email');
  if (!email) { input.focus(); return; }
  const base = shopPath(`/customers/${encodeURIComponent(email)}`);
  let r;
  try {
    r = await api('GET', `${base}/connection`);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    showApiError(err, {email: f});
    return;
  }
  const card = h('section', {class: 'card', 'aria-labelledby': 'conn-title'}, h('h2', {id: 'conn-title'}, 'Connection'));
  main.append(card);
  if (!r.found) {
    card.append(h('p', {class: 'empty'}, `${email} is not connected to any affiliate.`),
        h('a', {href: '#/new'}, 'Connect this customer'));
  } else {
    const c = r.connection;
    const info = await affiliateInfo(c.affiliate);
    const disconnect = h('button', {type: 'button', class: 'danger'}, 'Disconnect');
    card.append(h('dl', {class: 'facts'},
        h('dt', {}, 'Customer'), h('dd', {}, c.name || '—'),
        h('dt', {}, 'Email'), h('dd', {}, c.entered_email, c.entered_email !== c.canonical_email ? h('span', {class: 'sub'}, `matched as ${c.canonical_email}`) : null),
        c.external_id ? [h('dt', {}, 'External id'), h('dd', {}, c.external_id)] : null,
        h('dt', {}, 'Affiliate'), h('dd', {}, h('a', {href: `#/connections?affiliate=${c.affiliate}`}, affiliateLabel(c.affiliate, info))),
        h('dt', {}, 'Source'), h('dd', {}, sourceText[c.source] || c.source),
        h('dt', {}, 'Connected'), h('dd', {}, time(c.connected_at)),
        h('dt', {}, 'Counted orders'), h('dd', {}, String(c.order_count)),
        h('dt', {}, 'Last order'), h('dd', {}, time(c.last_order_at)),
        h('dt', {}, 'Status'), h('dd', {class: 'status'}, status(r.status))),
    h('div', {class: 'actions'}, disconnect));
    disconnect.addEventListener('click', async () => {
      if (!await confirmAction('Disconnect this customer?', `${c.entered_email} will no longer be connected to ${affiliateLabel(c.affiliate, info)}; their next orders count for nobody unless they arrive through a referral.`, 'Disconnect')) return;
      await api('DELETE', `${base}/connection`);
      toast(`Disconnected ${c.entered_email}`);
      go('customer', {email, done: Date.now()});
    });
  }
  const refresh = () => go('customer', {email, t: Date.now()});
  main.append(identifiers(email, caps, refresh),
      listSection('History', caps.history, `${base}/history`, (e) => h('li', {}, time(e.at), ` ${e.change || e.what || ''}: #${e.old_affiliate || '—'} → #${e.new_affiliate || '—'} (${e.source || ''})`)),
      listSection('Recent orders', caps.customerOrders, `${base}/orders`, (o) => h('li', {}, `${o.order_id}: ${o.reason}${o.affiliate && o.affiliate !== '0' ? ` → #${o.affiliate}` : ''} `, time(o.ordered_at))));
}
