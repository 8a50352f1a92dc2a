// screens/webhooks.js: the shop's webhook endpoints, their state and recent
// deliveries, add / rotate secret / disable, where the server has the webhooks
// resources; else a plain "not available on this server".
import {h, field} from '../dom.js';
import {api, shopPath, capabilities, ApiError} from '../api.js';
import {time} from '../format.js';
import {confirmAction, toast, showApiError} from '../ui.js';

function unavailable(main) {
  main.append(h('h1', {}, 'Webhooks'), h('p', {class: 'notice card'}, 'Webhooks: not available on this server.'));
}

// `note`: a message to show above the list (a new secret, shown once).
export async function render(main, ctx, note = '') {
  const caps = await capabilities();
  if (!caps.webhooks) return unavailable(main);
  let list;
  try {
    list = await api('GET', shopPath('/webhooks'), undefined, {quiet: true});
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return unavailable(main);
    throw err;
  }
  const url = h('input', {type: 'url', name: 'url', required: true, autocomplete: 'off', placeholder: 'https://example.com/hooks/attrib'});
  const f = field('Endpoint URL', url);
  const secretNote = h('p', {class: 'notice', hidden: !note, 'aria-live': 'polite'}, note);
  const reload = (message = '') => { main.replaceChildren(); return render(main, ctx, message); };
  const items = list.items || [];
  const rows = items.map((w) => {
    const base = shopPath(`/webhooks/${encodeURIComponent(w.id)}`);
    const recent = (w.delivery && w.delivery.recent) || [];
    const last = recent.length ? recent[recent.length - 1] : null;
    const lastError = (w.delivery && w.delivery.last_error) || (last && last.error) || '';
    const setEnabled = (enabled) => async () => {
      if (!enabled && !await confirmAction('Disable this endpoint?', `${w.url} receives no more deliveries.`, 'Disable')) return;
      await api('PATCH', base, {enabled});
      reload();
    };
    return h('tr', {'data-id': w.id},
        h('td', {'data-label': 'Endpoint'}, w.url, h('span', {class: 'sub'}, w.id)),
        h('td', {'data-label': 'State'}, h('span', {class: `pill ${w.enabled ? 'active' : 'disabled'}`}, w.enabled ? 'active' : 'disabled'),
            w.disabled_reason ? h('span', {class: 'sub'}, w.disabled_reason) : null),
        h('td', {'data-label': 'Last delivery'}, last ? time(last.at) : '—', lastError ? h('span', {class: 'sub'}, lastError) : null),
        h('td', {'data-label': 'Actions'}, h('div', {class: 'actions'},
            h('button', {type: 'button', class: 'secondary', onclick: async () => {
              if (!await confirmAction('Rotate the secret?', 'Deliveries are signed with a new secret from now on (the old one stays valid for 24 hours); update your endpoint.', 'Rotate')) return;
              const r = await api('POST', `${base}/rotate_secret`);
              secretNote.hidden = false;
              secretNote.textContent = `New secret (shown once): ${r.secret || ''}`;
            }}, 'Rotate secret'),
            w.enabled
              ? h('button', {type: 'button', class: 'danger', onclick: setEnabled(false)}, 'Disable')
              : h('button', {type: 'button', class: 'secondary', onclick: setEnabled(true)}, 'Enable'))));
  });
  const formError = h('p', {class: 'form-error'});
  main.append(h('h1', {}, 'Webhooks'), secretNote,
      h('div', {class: 'card table-wrap'}, h('table', {class: 'responsive'},
          h('thead', {}, h('tr', {}, ['Endpoint', 'State', 'Last delivery', 'Actions'].map((t) => h('th', {scope: 'col'}, t)))),
          h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', {colspan: 4, class: 'empty'}, 'No endpoints yet.'))))),
      h('form', {class: 'card', onsubmit: async (e) => {
        e.preventDefault();
        try {
          const r = await api('POST', shopPath('/webhooks'), {url: url.value.trim()});
          toast('Endpoint added');
          reload(`Secret of the new endpoint (shown once): ${r.secret || ''}`);
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          showApiError(err, {url: f}, formError);
        }
      }}, h('h2', {}, 'Add an endpoint'), f.wrap, formError, h('button', {type: 'submit'}, 'Add endpoint')));
}
