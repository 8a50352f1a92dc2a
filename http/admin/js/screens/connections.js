// screens/connections.js: the shop's connections: filters (customer email prefix,
// affiliate picker, source), a table of 100 a page with cursor paging (the API's
// next_cursor; earlier pages from a stack of the cursors seen), and the New
// connection dialog (new_connection.js).
import {h, field} from '../dom.js';
import {api, shopPath, query} from '../api.js';
import {time, status, sourceText} from '../format.js';
import {affiliateField} from '../picker.js';
import {affiliateInfos, affiliateInfo} from '../affiliates_cache.js';
import {openNewConnection} from './new_connection.js';

export const PAGE = 100;

function row(item, names) {
  const c = item.connection;
  const info = names.get(c.affiliate);
  const who = c.name || c.entered_email;
  return h('tr', {},
      h('td', {'data-label': 'Customer'}, h('a', {href: `#/customer?email=${encodeURIComponent(c.canonical_email)}`}, who),
          c.name ? h('span', {class: 'sub'}, c.entered_email) : null,
          c.external_id ? h('span', {class: 'sub'}, `External id ${c.external_id}`) : null),
      h('td', {'data-label': 'Affiliate'}, info && info.name ? info.name : h('span', {class: 'muted'}, 'not in the directory'),
          h('span', {class: 'sub'}, `#${c.affiliate}`)),
      h('td', {'data-label': 'Source'}, sourceText[c.source] || c.source),
      h('td', {'data-label': 'Connected'}, time(c.connected_at)),
      h('td', {'data-label': 'Orders'}, String(c.order_count)),
      h('td', {'data-label': 'Status', class: 'status'}, status(item.status)));
}

export async function render(main, {name, params, go}) {
  const email = h('input', {type: 'search', name: 'email_prefix', value: params.get('email_prefix') || '', autocomplete: 'off'});
  const emailField = field('Customer email starts with', email);
  const aff = affiliateField('Affiliate');
  const source = h('select', {name: 'source'}, h('option', {value: ''}, 'Any source'),
      Object.entries(sourceText).map(([v, t]) => h('option', {value: v}, t)));
  source.value = params.get('source') || '';
  const sourceField = field('Source', source);
  const affParam = params.get('affiliate');
  if (affParam) affiliateInfo(affParam).then((a) => aff.picker.set(a || {id: affParam, name: ''}));

  const apply = (e) => {
    if (e) e.preventDefault();
    const p = {};
    if (email.value.trim()) p.email_prefix = email.value.trim().toLowerCase();
    if (aff.picker.value) p.affiliate = aff.picker.value.id;
    if (source.value) p.source = source.value;
    go('connections', p);
  };
  const form = h('form', {class: 'card filters', role: 'search', 'aria-label': 'Filter connections', onsubmit: apply},
      emailField.wrap, aff.wrap, sourceField.wrap,
      h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Filter'),
          h('button', {type: 'button', class: 'secondary', onclick: () => go('connections')}, 'Clear filters')));

  const summary = h('p', {class: 'muted', id: 'list-summary', 'aria-live': 'polite'});
  const tbody = h('tbody');
  const table = h('table', {class: 'responsive', 'aria-describedby': summary.id},
      h('thead', {}, h('tr', {}, ['Customer', 'Affiliate', 'Source', 'Connected', 'Orders', 'Status'].map((t) => h('th', {scope: 'col'}, t)))),
      tbody);
  const prev = h('button', {type: 'button', class: 'secondary', disabled: true}, 'Previous page');
  const next = h('button', {type: 'button', class: 'secondary', disabled: true}, 'Next page');
  const newButton = h('button', {type: 'button', onclick: () => openNewConnection({onDone: () => load(stack[stack.length - 1])})}, 'New connection');

  main.append(h('div', {class: 'head-row'}, h('h1', {}, 'Connections'), newButton),
      form, h('div', {class: 'card'}, summary, h('div', {class: 'table-wrap'}, table), h('div', {class: 'pager'}, prev, next)));

  const filters = {affiliate: affParam, email_prefix: params.get('email_prefix'), source: params.get('source')};
  const stack = [''];  // Cursors of the pages up to the shown one.
  let nextCursor = null;
  async function load(cursor) {
    main.setAttribute('aria-busy', 'true');
    const page = await api('GET', shopPath(`/connections${query({...filters, cursor, limit: PAGE})}`));
    const names = await affiliateInfos(page.items.map((i) => i.connection.affiliate));
    tbody.replaceChildren(...page.items.map((i) => row(i, names)));
    if (page.items.length === 0) {
      tbody.append(h('tr', {}, h('td', {colspan: 6, class: 'empty'},
          Object.values(filters).some(Boolean) ? 'No connection matches these filters.' : 'No connections yet. Use New connection to connect a customer to an affiliate.')));
    }
    nextCursor = page.next_cursor;
    const first = (stack.length - 1) * PAGE;
    summary.textContent = page.items.length ? `Showing ${first + 1}–${first + page.items.length}${nextCursor ? '' : ' (last page)'}` : '';
    prev.disabled = stack.length <= 1;
    next.disabled = !nextCursor;
    main.removeAttribute('aria-busy');
  }
  next.addEventListener('click', () => { stack.push(nextCursor); load(nextCursor); });
  prev.addEventListener('click', () => { stack.pop(); load(stack[stack.length - 1]); });
  await load('');
  if (name === 'new') {
    // Opened from the navigation: the address becomes the list's again, so the
    // New connection link works a second time.
    history.replaceState(null, '', '#/connections');
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.screen === 'connections') a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    openNewConnection({onDone: () => load(stack[stack.length - 1])});
  }
  else if (!params.toString()) email.focus();
}
