// dom.js: building elements without innerHTML (no markup from data, so nothing a
// customer typed can become script), and labelled form fields.

// h('div', {class: 'x', onclick: fn}, child, 'text', [more]) -> Element.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let nextId = 0;
export function uid(prefix) { nextId += 1; return `${prefix}-${nextId}`; }

// A labelled field: {label, input, hint, error} with ids wired for screen readers.
export function field(labelText, input, hintText) {
  if (!input.id) input.id = uid('f');
  const error = h('p', {class: 'error', id: `${input.id}-error`, 'aria-live': 'polite'});
  const hint = hintText ? h('p', {class: 'hint', id: `${input.id}-hint`}, hintText) : null;
  input.setAttribute('aria-describedby', [hint && hint.id, error.id].filter(Boolean).join(' '));
  const wrap = h('div', {class: 'field'}, h('label', {for: input.id}, labelText), input, hint, error);
  return {wrap, input, error};
}

export function setError(f, message) {
  f.error.textContent = message || '';
  if (message) f.input.setAttribute('aria-invalid', 'true');
  else f.input.removeAttribute('aria-invalid');
}
