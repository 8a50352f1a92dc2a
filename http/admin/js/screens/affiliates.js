// screens/affiliates.js: the affiliate directory with each affiliate's
// connected-customer count: search by name, cursor paging, add, edit, disable
// (behind a confirmation) and enable again.
import {h, field, setError} from '../dom.js';
import {api, shopPath, query, ApiError} from '../api.js';
import {time} from '../format.js';
import {forgetAffiliate} from '../affiliates_cache.js';
import {confirmAction, toast, showApiError} from '../ui.js';

function editDialog(existing, onDone) {
  const id = h('input', {type: 'text', inputmode: 'numeric', name: 'id', value: existing ? existing.id : '', disabled: !!existing, required: true, autocomplete: 'off'});
  const name = h('input', {type: 'text', name: 'name', value: existing ? existing.name : '', autocomplete: 'off'});
  const emails = h('textarea', {name: 'emails', rows: 2}, existing ? existing.emails.join(', ') : '');
  const fields = {id: field('Affiliate id', id, 'The id your shop system uses for this affiliate.'),
    name: field('Name', name), emails: field('Emails', emails, 'Comma-separated, up to 8. Their owner\'s own orders are not referrals.')};
  const formError = h('p', {class: 'form-error', role: 'alert'});
  const cancel = h('button', {type: 'button', class: 'secondary'}, 'Cancel');
  const title = existing ? `Edit affiliate #${existing.id}` : 'Add affiliate';
  const form = h('form', {method: 'dialog', novalidate: true}, h('h2', {id: 'aff-title'}, title),
      fields.id.wrap, fields.name.wrap, fields.emails.wrap, formError,
      h('div', {class: 'actions'}, h('button', {type: 'submit'}, existing ? 'Save' : 'Add'), cancel));
  const dlg = h('dialog', {'aria-labelledby': 'aff-title'}, form);
  document.body.append(dlg);
  cancel.addEventListener('click', () => dlg.close());
  dlg.addEventListener('close', () => dlg.remove());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const f of Object.values(fields)) setError(f, '');
    const idValue = id.value.trim();
    if (!/^\d+$/.test(idValue) || idValue === '0') { setError(fields.id, 'An affiliate id is a number above 0.'); id.focus(); return; }
    const body = {name: name.value.trim(), emails: emails.value.split(/[,\s]+/).filter(Boolean)};
    try {
      const r = await api('PUT', shopPath(`/affiliates/${idValue}`), body);
      forgetAffiliate(idValue);
      toast(r.created ? `Added ${r.affiliate.name || `#${idValue}`}` : `Saved ${r.affiliate.name || `#${idValue}`}`);
      dlg.close();
      onDone();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showApiError(err, fields, formError);
    }
  });
  dlg.showModal();
  (existing ? name : id).focus();
}

export async function render(main, {params, go}) {
  const prefix = h('input', {type: 'search', name: 'name_prefix', value: params.get('name_prefix') || '', autocomplete: 'off'});
  const status = h('select', {name: 'status'}, h('option', {value: ''}, 'Any status'), h('option', {value: 'active'}, 'Active'), h('option', {value: 'disabled'}, 'Disabled'));
  status.value = params.get('status') || '';
  const tbody = h('tbody');
  const prev = h('button', {type: 'button', class: 'secondary', disabled: true}, 'Previous page');
  const next = h('button', {type: 'button', class: 'secondary', disabled: true}, 'Next page');
  const stack = [''];
  let nextCursor = null;
  const filters = {name_prefix: params.get('name_prefix'), status: params.get('status')};
  const reload = () => load(stack[stack.length - 1]);

  const rowOf = (a) => {
    const edit = h('button', {type: 'button', class: 'secondary', 'aria-label': `Edit ${a.name || `#${a.id}`}`, onclick: () => editDialog(a, reload)}, 'Edit');
    const toggle = a.status === 'active'
      ? h('button', {type: 'button', class: 'danger', 'aria-label': `Disable ${a.name || `#${a.id}`}`, onclick: async () => {
        if (!await confirmAction(`Disable ${a.name || `#${a.id}`}?`, 'A disabled affiliate gets no new customers and its connections stop counting orders until it is enabled again.', 'Disable')) return;
        await api('POST', shopPath(`/affiliates/${a.id}/disable`));
        forgetAffiliate(a.id);
        toast(`Disabled ${a.name || `#${a.id}`}`);
        reload();
      }}, 'Disable')
      : h('button', {type: 'button', class: 'secondary', 'aria-label': `Enable ${a.name || `#${a.id}`}`, onclick: async () => {
        await api('PUT', shopPath(`/affiliates/${a.id}`), {name: a.name, emails: a.emails, status: 'active'});
        forgetAffiliate(a.id);
        toast(`Enabled ${a.name || `#${a.id}`}`);
        reload();
      }}, 'Enable');
    return h('tr', {dataset: {id: a.id}},
        h('td', {'data-label': 'Affiliate'}, a.name || h('span', {class: 'muted'}, '(no name)'), h('span', {class: 'sub'}, `#${a.id}`)),
        h('td', {'data-label': 'Emails'}, a.emails.length ? a.emails.join(', ') : h('span', {class: 'muted'}, 'none')),
        h('td', {'data-label': 'Status'}, h('span', {class: `pill ${a.status}`}, a.status === 'active' ? 'Active' : 'Disabled')),
        h('td', {'data-label': 'Customers'}, h('a', {href: `#/connections?affiliate=${a.id}`, 'aria-label': `${a.connections} connected customers of ${a.name || `#${a.id}`}`}, String(a.connections))),
        h('td', {'data-label': 'Added'}, time(a.created_at)),
        h('td', {'data-label': 'Actions'}, h('div', {class: 'actions'}, edit, toggle)));
  };
  async function load(cursor) {
    const page = await api('GET', shopPath(`/affiliates${query({...filters, cursor, limit: 50})}`));
    tbody.replaceChildren(...page.items.map(rowOf));
    if (!page.items.length) {
      tbody.append(h('tr', {}, h('td', {colspan: 6, class: 'empty'}, filters.name_prefix || filters.status ? 'No affiliate matches.' : 'No affiliates in the directory yet. Add the first one.')));
    }
    nextCursor = page.next_cursor;
    prev.disabled = stack.length <= 1;
    next.disabled = !nextCursor;
  }
  next.addEventListener('click', () => { stack.push(nextCursor); load(nextCursor); });
  prev.addEventListener('click', () => { stack.pop(); reload(); });

  main.append(h('div', {class: 'head-row'}, h('h1', {}, 'Affiliates'),
      h('button', {type: 'button', onclick: () => editDialog(null, reload)}, 'Add affiliate')),
  h('form', {class: 'card filters', role: 'search', 'aria-label': 'Search affiliates', onsubmit: (e) => {
    e.preventDefault();
    go('affiliates', Object.fromEntries(Object.entries({name_prefix: prefix.value.trim(), status: status.value}).filter(([, v]) => v)));
  }}, field('Name starts with', prefix).wrap, field('Status', status).wrap, h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Search'))),
  h('div', {class: 'card'}, h('div', {class: 'table-wrap'}, h('table', {class: 'responsive'},
      h('thead', {}, h('tr', {}, ['Affiliate', 'Emails', 'Status', 'Customers', 'Added', 'Actions'].map((t) => h('th', {scope: 'col'}, t)))), tbody)),
  h('div', {class: 'pager'}, prev, next)));
  await load('');
}
