// format.js: how values read on the page: times in the browser's zone with the exact
// instant on hover, connection statuses, affiliates by name and id.
import {h} from './dom.js';

const local = new Intl.DateTimeFormat(undefined, {dateStyle: 'medium', timeStyle: 'short'});

// A <time> for ms since the epoch (0: "—").
export function time(ms) {
  if (!ms) return h('span', {class: 'muted'}, '—');
  const d = new Date(ms);
  return h('time', {datetime: d.toISOString(), title: `${d.toString()} (${d.toISOString()})`},
      local.format(d));
}

const activityText = {
  active: 'Active', expired: 'Expired', capped: 'Capped', disabled: 'Disabled',
  affiliate_disabled: 'Affiliate disabled', affiliate_not_registered: 'Affiliate not registered',
};

// The status of a connection: a pill and what limits it (expiry, orders remaining).
export function status(s) {
  const pill = h('span', {class: `pill ${s.activity}`}, activityText[s.activity] || s.activity);
  const parts = [pill];
  if (s.activity === 'active') {
    if (s.expires_at) parts.push(h('span', {class: 'sub'}, 'until ', time(s.expires_at)));
    if (s.orders_remaining) {
      parts.push(h('span', {class: 'sub'}, `${s.orders_remaining} order${s.orders_remaining === 1 ? '' : 's'} left`));
    }
  } else if (s.activity === 'expired' && s.expires_at) {
    parts.push(h('span', {class: 'sub'}, 'since ', time(s.expires_at)));
  } else if (s.activity === 'disabled') {
    parts.push(h('span', {class: 'sub'}, 'connections are off'));
  } else if (s.activity === 'affiliate_disabled') {
    parts.push(h('span', {class: 'sub'}, 'orders are not credited to it'));
  } else if (s.activity === 'affiliate_not_registered') {
    parts.push(h('span', {class: 'sub'}, 'the shop requires registered affiliates'));
  }
  return parts;
}

export const sourceText = {manual: 'Manual', api: 'API', import: 'Import', referral: 'Referral link'};

// "Alice Adams (#10)", or "#10" for an affiliate not in the directory.
export function affiliateLabel(id, info) {
  return info && info.name ? `${info.name} (#${id})` : `#${id}`;
}
