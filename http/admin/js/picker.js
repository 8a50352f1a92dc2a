// picker.js: the affiliate picker, a combobox over the directory: type a name prefix,
// an email or an id; arrow keys move, Enter picks, Escape closes. `value` is the
// picked {id, name} (null: none). An id typed and not in the directory can still be
// picked (connections may name affiliates the directory does not have).
import {h, uid, field} from './dom.js';
import {api, shopPath, query} from './api.js';
import {affiliateLabel} from './format.js';
import {affiliateInfo} from './affiliates_cache.js';

export function affiliatePicker({label = 'Affiliate', onchange = () => {}} = {}) {
  const id = uid('aff');
  const list = h('ul', {role: 'listbox', id: `${id}-list`, hidden: true, 'aria-label': 'Matching affiliates'});
  const input = h('input', {id, type: 'text', role: 'combobox', autocomplete: 'off', 'aria-autocomplete': 'list',
    'aria-expanded': 'false', 'aria-controls': list.id, placeholder: 'Name, email or id'});
  const chosen = h('div', {class: 'chosen', hidden: true});
  const state = {value: null, options: [], active: -1, seq: 0};

  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    state.active = -1;
  };
  const render = () => {
    list.replaceChildren(...state.options.map((o, i) => h('li', {
      role: 'option', id: `${id}-o${i}`, 'aria-selected': i === state.active ? 'true' : 'false',
      onmousedown: (e) => { e.preventDefault(); pick(o); },
    }, affiliateLabel(o.id, o), o.status === 'disabled' ? ' — disabled' : '',
    o.emails && o.emails.length ? h('span', {class: 'sub'}, o.emails.join(', ')) : null)));
    if (state.options.length === 0) list.append(h('li', {class: 'muted', role: 'presentation'}, 'No affiliate matches'));
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    if (state.active >= 0) input.setAttribute('aria-activedescendant', `${id}-o${state.active}`);
    else input.removeAttribute('aria-activedescendant');
  };
  const pick = (o) => {
    set(o);
    close();
    onchange(state.value);
  };
  const set = (o) => {
    state.value = o ? {id: o.id, name: o.name || ''} : null;
    chosen.hidden = !o;
    input.value = '';
    if (o) {
      chosen.replaceChildren(h('span', {}, 'Picked: ', h('strong', {}, affiliateLabel(o.id, o))),
          h('button', {type: 'button', class: 'link', 'aria-label': `Clear the affiliate ${affiliateLabel(o.id, o)}`,
            onclick: () => { set(null); onchange(null); input.focus(); }}, 'Clear'));
    }
    input.dataset.picked = o ? o.id : '';
  };
  const search = async () => {
    const text = input.value.trim();
    const seq = ++state.seq;
    if (!text) { close(); return; }
    const asks = [];
    if (/^\d+$/.test(text)) {
      asks.push(affiliateInfo(text).then((a) => [a || {id: text, name: '', emails: []}]));
    }
    if (text.includes('@')) asks.push(api('GET', shopPath(`/affiliates${query({email: text, limit: 8})}`), undefined, {quiet: true}).then((r) => r.items).catch(() => []));
    else asks.push(api('GET', shopPath(`/affiliates${query({name_prefix: text, limit: 8})}`), undefined, {quiet: true}).then((r) => r.items).catch(() => []));
    const found = (await Promise.all(asks)).flat();
    if (seq !== state.seq) return;  // A newer search is under way.
    const seen = new Set();
    state.options = found.filter((o) => !seen.has(o.id) && seen.add(o.id));
    state.active = state.options.length ? 0 : -1;
    render();
  };
  let timer = 0;
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 120); });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (list.hidden) { search(); return; }
      e.preventDefault();
      const n = state.options.length;
      if (n) state.active = (state.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
      render();
    } else if (e.key === 'Enter') {
      if (!list.hidden && state.active >= 0) { e.preventDefault(); pick(state.options[state.active]); }
    } else if (e.key === 'Escape') {
      if (!list.hidden) { e.preventDefault(); e.stopPropagation(); close(); }
    }
  });
  input.addEventListener('blur', () => setTimeout(close, 150));

  const wrap = h('div', {class: 'combo'}, input, list, chosen);
  return {input, wrap, get value() { return state.value; }, set};
}

// The picker as a labelled field (dom.js field(): label, hint, error).
export function affiliateField(labelText, hintText, options = {}) {
  const picker = affiliatePicker(options);
  const f = field(labelText, picker.input, hintText);
  f.wrap.insertBefore(picker.wrap, f.wrap.querySelector('.hint') || f.error);
  picker.wrap.prepend(picker.input);
  return {...f, picker};
}
