// ui.js: the page-wide pieces: the confirmation dialog (every destructive action
// waits for it), the toast, the trouble banner, and errors shown next to fields.
import {setError} from './dom.js';

// Resolves true when the user confirms. `danger` labels the confirm button.
export function confirmAction(title, text, danger = 'Confirm') {
  const dlg = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = danger;
  dlg.returnValue = '';
  dlg.showModal();
  document.getElementById('confirm-cancel').focus();
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), {once: true});
  });
}

let toastTimer = 0;
export function toast(message) {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), 4000);
}

export function banner(message) {
  const el = document.getElementById('banner');
  el.textContent = message || '';
  el.hidden = !message;
}

// Shows an ApiError next to the field it names (fields: {name: field()}), else in
// `fallback` (an element). Returns the field used, or null.
export function showApiError(err, fields, fallback) {
  for (const f of Object.values(fields)) setError(f, '');
  if (fallback) fallback.textContent = '';
  // The field the problem names, else the one its detail starts with ("emails[0]: ...").
  const named = err.field || ((err.message || '').match(/^([a-z_]+)(\[\d+\])?: /) || [])[1] || '';
  const name = named.replace(/\[\d+\]$/, '');
  const f = fields[name] || fields[named];
  if (f) {
    setError(f, err.message);
    f.input.focus();
    return f;
  }
  if (fallback) fallback.textContent = err.message;
  return null;
}
