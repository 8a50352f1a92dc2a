// screens/customers.js: the customer directory: every customer the shop has seen
// (connected or not), searched by email prefix, name prefix or external id, with
// name, identifiers, orders seen, last order and connection; cursor paging (a page
// can be short while more follow: the server examines a bounded number of records
// per call). A row opens the customer screen.
import {h, field} from '../dom.js';
import {api, shopPath, query, capabilities} from '../api.js';
import {time} from '../format.js';
import {unavailable} from './customer_identity.js';

const kinds = [['email_prefix', 'Email starts with'], ['name_prefix', 'Name starts with'], ['external_id', 'External id is']];

// The path segment naming a customer (its primary identifier, as the API writes it).
export const customerParam = (c) => c.primary;

export async function render(main, {params, go}) {
  main.append(h('h1', {}, 'Customers'));
  const caps = await capabilities();
  if (!caps.customerSearch) { main.append(h('div', {class: 'card'}, unavailable('The customer directory'))); return; }
  const kind = h('select', {name: 'kind'}, kinds.map(([v, label]) => h('option', {value: v}, label)));
  const current = kinds.find(([k]) => params.get(k));
  kind.value = current ? current[0] : 'email_prefix';
  const text = h('input', {type: 'search', name: 'q', value: current ? params.get(current[0]) : '', autocomplete: 'off'});
  const tbody = h('tbody');
  const summary = h('p', {class: 'muted', id: 'customers-summary', 'aria-live': 'polite'});
  const prev = h('button', {type: 'button', class: 'secondary', disabled: true}, 'Previous page');
  const next = h('button', {type: 'button', class: 'secondary', disabled: true}, 'Next page');
  const stack = [''];
  let nextCursor = null;
  const filter = current ? {[current[0]]: params.get(current[0])} : {};

  const rowOf = (c) => {
    const d = c.directory;
    const name = (d && d.name) || (c.connection && c.connection.name) || '';
    const ids = [...c.emails, ...(c.external_id ? [`external_id:${c.external_id}`] : [])];
    return h('tr', {dataset: {primary: c.primary}},
        h('td', {'data-label': 'Customer'}, h('a', {href: `#/customer?${new URLSearchParams({email: customerParam(c)})}`}, name || c.primary),
            name ? h('span', {class: 'sub'}, c.primary) : null),
        h('td', {'data-label': 'Identifiers'}, ids.join(', ')),
        h('td', {'data-label': 'Orders seen'}, d ? String(d.orders_seen) : h('span', {class: 'muted'}, '—')),
        h('td', {'data-label': 'Last order'}, time(d ? d.last_order_at : 0)),
        h('td', {'data-label': 'Connection'}, c.connection ? h('a', {href: `#/connections?affiliate=${c.connection.affiliate}`}, `#${c.connection.affiliate}`) : h('span', {class: 'muted'}, 'not connected')));
  };
  async function load(cursor) {
    const page = await api('GET', shopPath(`/customers${query({...filter, cursor, limit: 50})}`));
    tbody.replaceChildren(...page.items.map(rowOf));
    if (!page.items.length) tbody.append(h('tr', {}, h('td', {colspan: 5, class: 'empty'}, page.next_cursor ? 'None on this page; more may follow.' : 'No customer matches.')));
    summary.textContent = `${page.items.length} customer${page.items.length === 1 ? '' : 's'} on this page${page.next_cursor ? '; more follow' : ''}`;
    nextCursor = page.next_cursor;
    prev.disabled = stack.length <= 1;
    next.disabled = !nextCursor;
  }
  next.addEventListener('click', () => { stack.push(nextCursor); load(nextCursor); });
  prev.addEventListener('click', () => { stack.pop(); load(stack[stack.length - 1]); });
  main.append(h('form', {class: 'card filters', role: 'search', 'aria-label': 'Search customers', onsubmit: (e) => {
    e.preventDefault();
    const v = text.value.trim();
    go('customers', v ? {[kind.value]: v} : {});
  }}, field('Search by', kind).wrap, field('Text', text).wrap, h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Search'))),
  h('div', {class: 'card'}, summary, h('div', {class: 'table-wrap'}, h('table', {class: 'responsive'},
      h('thead', {}, h('tr', {}, ['Customer', 'Identifiers', 'Orders seen', 'Last order', 'Connection'].map((t) => h('th', {scope: 'col'}, t)))), tbody)),
  h('div', {class: 'pager'}, prev, next)));
  await load('');
}
