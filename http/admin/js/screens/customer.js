// screens/customer.js: one customer by email or external id: the connection and its
// status, disconnect (behind a confirmation); identifiers (link/unlink) and merge
// (customer_identity.js), history and recent orders where the server has those
// resources, else a plain "not available".
import {h, field} from '../dom.js';
import {api, shopPath, capabilities, ApiError} from '../api.js';
import {time, status, sourceText, affiliateLabel} from '../format.js';
import {affiliateInfo} from '../affiliates_cache.js';
import {confirmAction, toast, showApiError} from '../ui.js';
import {identifiersCard, mergeCard, directoryCard, unavailable} from './customer_identity.js';

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
  const input = h('input', {type: 'text', name: 'email', value: params.get('email') || '', autocomplete: 'off', required: true});
  const f = field('Customer email or external id', input, caps.externalId ? 'An email, or the shop platform\'s customer id as external_id:ID.' : undefined);
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
  main.append(directoryCard(email, caps, refresh), identifiersCard(email, caps, refresh), mergeCard(email, caps, refresh),
      listSection('History', caps.history, `${base}/history`, (e) => h('li', {}, time(e.at), ` ${e.change || e.what || ''}: #${e.old_affiliate || '—'} → #${e.new_affiliate || '—'} (${e.source || ''})`)),
      listSection('Recent orders', caps.customerOrders, `${base}/orders`, (o) => h('li', {}, `${o.order_id}: ${o.reason}${o.affiliate && o.affiliate !== '0' ? ` → #${o.affiliate}` : ''} `, time(o.ordered_at))));
}
