// screens/customer_identity.js: the customer screen's identity cards, over the
// customer resources of the HTTP API: the customer's identifiers (every email and
// the external id) with link and unlink, and merging another customer into this
// one (which connection survives when both are connected elsewhere, and what the
// merge removed). A customer in a path is an email or `external_id:ID`.
import {h, field, setError} from '../dom.js';
import {api, shopPath, ApiError} from '../api.js';
import {confirmAction, toast} from '../ui.js';
import {time} from '../format.js';

export const unavailable = (what) => h('p', {class: 'notice'}, `${what}: not available on this server.`);

// "external_id:X" or "ext:X" -> {external_id: X}; anything else is an email.
export function identifierOf(text) {
  const v = text.trim();
  const m = v.match(/^(?:external_id|ext):(.+)$/);
  return m ? {external_id: m[1]} : {email: v};
}
// The path segment of an identifier (the API's way of naming a customer).
const segment = (id) => encodeURIComponent(id.external_id !== undefined ? `external_id:${id.external_id}` : id.email);

export function identifiersCard(customer, caps, refresh) {
  const card = h('section', {class: 'card', 'aria-labelledby': 'ids-title'}, h('h2', {id: 'ids-title'}, 'Identifiers'));
  if (!caps.customer) { card.append(unavailable('Linked emails and external ids')); return card; }
  const base = shopPath(`/customers/${encodeURIComponent(customer)}`);
  const list = h('ul', {class: 'results', id: 'identifiers'});
  const input = h('input', {type: 'text', name: 'identifier', autocomplete: 'off'});
  const f = field('Link another email or external id', input, 'An email, or an external id as external_id:ID. It must not identify another customer yet (to join two customers, merge them).');
  const form = h('form', {class: 'inline', onsubmit: async (e) => {
    e.preventDefault();
    setError(f, '');
    try {
      await api('POST', `${base}/identifiers`, identifierOf(input.value));
      toast(`Linked ${input.value.trim()}`);
      refresh();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setError(f, err.message);
    }
  }}, f.wrap, h('button', {type: 'submit'}, 'Link'));
  card.append(list);
  if (caps.identifiers) card.append(form);
  api('GET', base, undefined, {quiet: true}).then(({customer: c}) => {
    const items = [...c.emails.map((e) => ({email: e})), ...(c.external_id ? [{external_id: c.external_id}] : [])];
    list.replaceChildren(...items.map((id) => {
      const label = id.email !== undefined ? `Email: ${id.email}` : `External id: ${id.external_id}`;
      const text = id.email !== undefined ? id.email : `external_id:${id.external_id}`;
      const primary = text === c.primary;
      return h('li', {dataset: {identifier: text}}, label, primary ? h('span', {class: 'sub'}, 'primary (holds the connection)') : null,
          primary || items.length < 2 || !caps.identifiers ? null : h('button', {type: 'button', class: 'link', onclick: async () => {
            if (!await confirmAction('Unlink?', `${text} will no longer identify this customer; it becomes a customer of its own, without a connection.`, 'Unlink')) return;
            await api('DELETE', `${base}/identifiers/${segment(id)}`);
            toast(`Unlinked ${text}`);
            refresh();
          }}, `Unlink ${text}`));
    }));
  }).catch((err) => list.replaceChildren(h('li', {class: 'muted'}, err instanceof ApiError && err.status === 404 ? 'Not known to this shop yet.' : `Identifiers: ${err.message}`)));
  return card;
}

// The outcome of the last merge, shown once after the screen is drawn again.
let lastMerge = null;

export function mergeCard(customer, caps, refresh) {
  const card = h('section', {class: 'card', 'aria-labelledby': 'merge-title'}, h('h2', {id: 'merge-title'}, 'Merge another customer into this one'));
  if (!caps.merge) { card.append(unavailable('Merging customers')); return card; }
  const input = h('input', {type: 'text', name: 'from', autocomplete: 'off', required: true});
  const f = field('The other customer', input, 'Their email, or external_id:ID. Every identifier of theirs becomes this customer\'s.');
  const keep = h('select', {name: 'keep'},
      h('option', {value: 'shop_rule'}, 'The shop\'s merge_conflict rule'),
      h('option', {value: 'into'}, 'This customer\'s connection'),
      h('option', {value: 'from'}, 'The other customer\'s connection'),
      h('option', {value: 'earliest'}, 'The earlier connection'));
  const k = field('When both are connected to different affiliates, keep', keep);
  if (lastMerge && lastMerge.customer === customer) {
    card.append(h('p', {class: 'notice', id: 'merge-result'}, lastMerge.text));
    lastMerge = null;
  }
  card.append(h('form', {onsubmit: async (e) => {
    e.preventDefault();
    setError(f, '');
    const from = input.value.trim();
    if (!await confirmAction('Merge these customers?', `${from} and ${customer} become one customer; a connection that loses is removed. Unlinking later makes the identifier a customer of its own again, without that connection.`, 'Merge')) return;
    try {
      const r = await api('POST', shopPath(`/customers/${encodeURIComponent(customer)}/merge`), {from: identifierOf(from), keep: keep.value});
      const m = (r.identity && r.identity.merge) || {};
      const lost = m.lost_connection;
      const text = `Merged ${m.loser || from} into ${m.survivor || customer}` +
          (lost ? `; its connection to #${lost.affiliate} was removed${m.conflict ? ` (both were connected: rule ${m.rule})` : ''}.` : '.');
      lastMerge = {customer, text};
      toast(text);
      refresh();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setError(f, err.message);
    }
  }}, f.wrap, k.wrap, h('button', {type: 'submit'}, 'Merge')));
  return card;
}

// The customer's record in the customer directory: name (editable), orders seen,
// first and last order.
export function directoryCard(customer, caps, refresh) {
  const card = h('section', {class: 'card', 'aria-labelledby': 'dir-title'}, h('h2', {id: 'dir-title'}, 'Customer directory'));
  if (!caps.customer || !caps.customerSearch) { card.append(unavailable('The customer directory')); return card; }
  const base = shopPath(`/customers/${encodeURIComponent(customer)}`);
  const body = h('div', {id: 'directory'}, h('p', {class: 'muted'}, 'Loading…'));
  card.append(body);
  api('GET', base, undefined, {quiet: true}).then(({customer: c}) => {
    const d = c.directory;
    if (!d) { body.replaceChildren(h('p', {class: 'muted'}, 'Not in the directory (the shop\'s customer_directory setting is off, or no order was seen yet).')); return; }
    const name = h('input', {type: 'text', name: 'directory_name', value: d.name, autocomplete: 'off'});
    const f = field('Name', name);
    body.replaceChildren(h('dl', {class: 'facts'},
        h('dt', {}, 'Name'), h('dd', {}, d.name || h('span', {class: 'muted'}, '(none)')),
        h('dt', {}, 'Orders seen'), h('dd', {}, String(d.orders_seen)),
        h('dt', {}, 'First order'), h('dd', {}, time(d.first_order_at)),
        h('dt', {}, 'Last order'), h('dd', {}, time(d.last_order_at))),
    caps.customerName ? h('form', {class: 'inline', onsubmit: async (e) => {
      e.preventDefault();
      setError(f, '');
      try {
        await api('PATCH', base, {name: name.value.trim()});
        toast(`Saved the name of ${customer}`);
        refresh();
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        setError(f, err.message);
      }
    }}, f.wrap, h('button', {type: 'submit'}, 'Save name')) : null);
  }).catch((err) => body.replaceChildren(h('p', {class: 'muted'}, err instanceof ApiError && err.status === 404 ? 'Not known to this shop yet.' : `Directory: ${err.message}`)));
  return card;
}
