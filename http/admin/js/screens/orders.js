// screens/orders.js: look up an order: the attribution decision and why (explain),
// and reverse it (a refund) behind a confirmation.
import {h, field} from '../dom.js';
import {api, shopPath, ApiError} from '../api.js';
import {time, affiliateLabel} from '../format.js';
import {affiliateInfo} from '../affiliates_cache.js';
import {confirmAction, toast, showApiError} from '../ui.js';

const reasonText = {
  connected: 'The customer is connected to this affiliate; the order counts for them.',
  referral: 'The order arrived through this affiliate\'s referral link or coupon.',
  none: 'No affiliate: the customer has no counting connection and no referral came with the order.',
};

function decisionCard(d, info, onReverse) {
  const reverse = h('button', {type: 'button', class: 'danger', disabled: d.reversed}, d.reversed ? 'Reversed' : 'Reverse (refund)');
  reverse.addEventListener('click', onReverse);
  return h('section', {class: 'card', 'aria-labelledby': 'decision-title'}, h('h2', {id: 'decision-title'}, `Order ${d.order_id}`),
      h('p', {class: 'decision-reason'}, reasonText[d.reason] || d.reason),
      h('dl', {class: 'facts'},
          h('dt', {}, 'Affiliate'), h('dd', {}, d.affiliate && d.affiliate !== '0' ? affiliateLabel(d.affiliate, info) : '—'),
          h('dt', {}, 'Customer'), h('dd', {}, d.canonical_email || '—'),
          h('dt', {}, 'Ordered'), h('dd', {}, time(d.ordered_at)),
          h('dt', {}, 'Counted'), h('dd', {class: 'counted'}, d.counted ? 'Yes' : 'No'),
          h('dt', {}, 'Connection'), h('dd', {}, d.connection_activity),
          d.connection_created ? [h('dt', {}, 'Created'), h('dd', {}, 'This order connected the customer')] : null,
          d.connection_moved ? [h('dt', {}, 'Moved'), h('dd', {}, `From #${d.previous_affiliate}`)] : null,
          h('dt', {}, 'Reversed'), h('dd', {class: 'reversed'}, d.reversed ? 'Yes' : 'No')),
      h('div', {class: 'actions'}, reverse));
}

export async function render(main, {params, go}) {
  const input = h('input', {type: 'text', name: 'order_id', value: params.get('order') || '', autocomplete: 'off', required: true});
  const f = field('Order id', input);
  main.append(h('h1', {}, 'Orders'), h('form', {class: 'card', role: 'search', onsubmit: (e) => {
    e.preventDefault();
    go('orders', {order: input.value.trim()});
  }}, f.wrap, h('button', {type: 'submit'}, 'Explain')));
  const id = params.get('order');
  if (!id) { input.focus(); return; }
  const path = shopPath(`/orders/${encodeURIComponent(id)}`);
  let r;
  try {
    r = await api('GET', path);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    showApiError(err, {order_id: f}, null);
    if (err.status === 404) f.error.textContent = `No order ${id} is remembered in this shop.`;
    return;
  }
  const d = r.decision;
  const info = d.affiliate && d.affiliate !== '0' ? await affiliateInfo(d.affiliate) : null;
  const card = decisionCard(d, info, async () => {
    if (!await confirmAction('Reverse this order?', `Order ${d.order_id} stops counting${d.affiliate !== '0' ? ` for ${affiliateLabel(d.affiliate, info)}` : ''}. Do this for a refund or a cancelled order.`, 'Reverse')) return;
    const rev = await api('POST', `${path}/reverse`);
    toast(rev.already_reversed ? 'The order was already reversed' : `Order ${d.order_id} reversed`);
    card.replaceWith(decisionCard(rev.decision, info, () => {}));
  });
  main.append(card);
}
