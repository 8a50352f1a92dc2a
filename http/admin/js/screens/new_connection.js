// screens/new_connection.js: the New connection dialog: pick the affiliate, then
// find an existing customer (the connections' emails; the customer directory when
// the server has one) or type a new one (email, name, external id where the server
// takes it). An already-connected customer shows who holds them and offers Reassign
// behind a confirmation. API errors appear next to the field they name.
import {h, field, setError} from '../dom.js';
import {api, shopPath, query, capabilities, ApiError} from '../api.js';
import {affiliateLabel} from '../format.js';
import {affiliateField} from '../picker.js';
import {affiliateInfo, forgetAffiliate} from '../affiliates_cache.js';
import {confirmAction, toast, showApiError} from '../ui.js';

async function findCustomers(text, caps) {
  if (caps.customerSearch) {
    // The customer directory: by email prefix, and by name prefix unless it is an email.
    const searches = [query({email_prefix: text, limit: 8}), ...(text.includes('@') ? [] : [query({name_prefix: text, limit: 8})])];
    const pages = await Promise.all(searches.map((q) => api('GET', shopPath(`/customers${q}`), undefined, {quiet: true}).catch(() => null)));
    if (pages.every(Boolean)) {
      const seen = new Map();
      for (const c of pages.flatMap((p) => p.items)) {
        if (seen.has(c.primary) || !c.emails.length) continue;
        seen.set(c.primary, {email: c.emails[0], name: (c.directory && c.directory.name) || (c.connection && c.connection.name) || '',
          external_id: c.external_id || '', affiliate: c.connection && c.connection.affiliate});
      }
      return [...seen.values()].slice(0, 8);
    }
  }
  const r = await api('GET', shopPath(`/connections${query({email_prefix: text.toLowerCase(), limit: 8})}`), undefined, {quiet: true});
  return r.items.map((i) => ({email: i.connection.entered_email, name: i.connection.name, affiliate: i.connection.affiliate}));
}

export async function openNewConnection({onDone}) {
  const caps = await capabilities();
  const aff = affiliateField('Affiliate', 'Search the affiliate directory by name, email or id.');
  const search = h('input', {type: 'search', autocomplete: 'off'});
  const searchField = field('Find an existing customer', search, caps.customerSearch ? 'Name or email.' : 'Email prefix of a connected customer.');
  const results = h('ul', {class: 'results', 'aria-label': 'Customers found'});
  const email = h('input', {type: 'email', name: 'email', required: true, autocomplete: 'off'});
  const name = h('input', {type: 'text', name: 'name', autocomplete: 'off'});
  const ext = h('input', {type: 'text', name: 'external_id', autocomplete: 'off', disabled: !caps.externalId});
  const fields = {
    affiliate: aff, email: field('Customer email', email),
    name: field('Customer name', name, 'Optional.'),
    external_id: field('External id', ext, caps.externalId ? 'Optional: the customer\'s id in your shop system.' : 'Not available on this server.'),
  };
  const formError = h('p', {class: 'form-error', role: 'alert'});
  const conflict = h('div', {'aria-live': 'polite'});
  const submit = h('button', {type: 'submit'}, 'Connect');
  const cancel = h('button', {type: 'button', class: 'secondary'}, 'Cancel');
  const form = h('form', {method: 'dialog', novalidate: true}, h('h2', {id: 'new-title'}, 'New connection'),
      aff.wrap, h('fieldset', {}, h('legend', {}, 'Customer'), searchField.wrap, results,
          fields.email.wrap, h('div', {class: 'grid2'}, fields.name.wrap, fields.external_id.wrap)),
      conflict, formError, h('div', {class: 'actions'}, submit, cancel));
  const dlg = h('dialog', {'aria-labelledby': 'new-title', class: 'wide'}, form);
  document.body.append(dlg);
  cancel.addEventListener('click', () => dlg.close());
  dlg.addEventListener('close', () => dlg.remove());

  let timer = 0;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const text = search.value.trim();
      if (!text) { results.replaceChildren(); return; }
      const found = await findCustomers(text, caps).catch(() => []);
      results.replaceChildren(...found.map((c) => h('li', {}, h('button', {type: 'button', class: 'link', onclick: () => {
        email.value = c.email;
        name.value = c.name || '';
        if (c.external_id && !ext.disabled) ext.value = c.external_id;
        results.replaceChildren();
        email.focus();
      }}, c.name ? `${c.name} <${c.email}>` : c.email), c.affiliate ? h('span', {class: 'muted'}, ` — connected to #${c.affiliate}`) : null)));
      if (found.length === 0) results.append(h('li', {class: 'muted'}, 'No customer found: fill in a new one below.'));
    }, 150);
  });

  const connect = async (mode) => {
    const body = {email: email.value.trim(), affiliate: aff.picker.value && aff.picker.value.id, source: 'manual', mode};
    if (name.value.trim()) body.name = name.value.trim();
    if (ext.value.trim() && caps.externalId) body.external_id = ext.value.trim();
    return api('POST', shopPath('/connections'), body);
  };
  const done = (r) => {
    forgetAffiliate(r.connection.affiliate);
    toast(r.outcome === 'replaced' ? `Reassigned ${r.connection.entered_email}` : r.outcome === 'unchanged' ? `${r.connection.entered_email} was already connected there` : `Connected ${r.connection.entered_email}`);
    dlg.close();
    onDone(r);
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    conflict.replaceChildren();
    for (const f of Object.values(fields)) setError(f, '');
    formError.textContent = '';
    if (!aff.picker.value) { setError(aff, 'Pick the affiliate first.'); aff.input.focus(); return; }
    if (!email.value.trim()) { setError(fields.email, 'The customer\'s email is required.'); email.focus(); return; }
    submit.disabled = true;
    try {
      done(await connect('if_absent'));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === 'already_exists' && err.problem.current_affiliate) {
        const holder = err.problem.current_affiliate;
        const info = await affiliateInfo(holder);
        const target = aff.picker.value;
        const reassign = h('button', {type: 'button', class: 'danger'}, `Reassign to ${affiliateLabel(target.id, target)}`);
        conflict.replaceChildren(h('div', {class: 'conflict'},
            h('p', {}, `${email.value.trim()} is already connected to `, h('strong', {}, affiliateLabel(holder, info)), '.'), reassign));
        setError(fields.email, 'Already connected to another affiliate.');
        reassign.addEventListener('click', async () => {
          const ok = await confirmAction('Reassign this customer?',
              `${email.value.trim()} moves from ${affiliateLabel(holder, info)} to ${affiliateLabel(target.id, target)}. Their future orders count for ${affiliateLabel(target.id, target)}.`, 'Reassign');
          if (!ok) { reassign.focus(); return; }
          try {
            done(await connect('reassign'));
          } catch (e2) {
            if (!(e2 instanceof ApiError)) throw e2;
            showApiError(e2, fields, formError);
          }
        });
        reassign.focus();
      } else {
        showApiError(err, fields, formError);
      }
    } finally {
      submit.disabled = false;
    }
  });
  dlg.showModal();
  aff.input.focus();
}
