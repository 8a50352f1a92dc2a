// screens/transfer.js: export the shop's connections as CSV, built in the browser by
// paging the list resource (1000 a page, with progress); import where the server
// has an import resource, else a pointer to `attribctl import`.
import {h} from '../dom.js';
import {api, shopPath, query, capabilities, session} from '../api.js';

const COLUMNS = ['email', 'affiliate', 'source', 'connected_at', 'name', 'order_count', 'status'];

export function csvCell(v) {
  const s = String(v ?? '');
  return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export async function render(main) {
  const caps = await capabilities();
  const progress = h('progress', {max: 1, value: 0, hidden: true, 'aria-label': 'Export progress'});
  const note = h('p', {class: 'muted', 'aria-live': 'polite', id: 'export-note'});
  const button = h('button', {type: 'button'}, 'Download connections as CSV');
  button.addEventListener('click', async () => {
    button.disabled = true;
    progress.hidden = false;
    const counts = await api('GET', shopPath('/counts'));
    progress.max = Math.max(1, counts.connections);
    const lines = [COLUMNS.join(',')];
    let cursor = '';
    let n = 0;
    try {
      do {
        const page = await api('GET', shopPath(`/connections${query({cursor, limit: 1000})}`));
        for (const {connection: c, status: s} of page.items) {
          lines.push([c.entered_email, c.affiliate, c.source, c.connected_at_rfc3339 || '', c.name, c.order_count, s.activity].map(csvCell).join(','));
        }
        n += page.items.length;
        progress.value = n;
        note.textContent = `${n} of about ${counts.connections} connections read…`;
        cursor = page.next_cursor;
      } while (cursor);
      const blob = new Blob([lines.join('\r\n') + '\r\n'], {type: 'text/csv'});
      const a = h('a', {href: URL.createObjectURL(blob), download: `shop-${session.shop}-connections.csv`});
      document.body.append(a);
      a.click();
      a.remove();
      note.textContent = `Exported ${n} connections.`;
    } finally {
      button.disabled = false;
    }
  });
  main.append(h('h1', {}, 'Import and export'),
      h('section', {class: 'card', 'aria-labelledby': 'export-title'}, h('h2', {id: 'export-title'}, 'Export'),
          h('p', {}, 'Every connection of this shop, one per line: email, affiliate, source, connected at (UTC), name, counted orders, status.'),
          h('div', {class: 'actions'}, button), progress, note),
      h('section', {class: 'card', 'aria-labelledby': 'import-title'}, h('h2', {id: 'import-title'}, 'Import'),
          caps.importCsv ? h('p', {}, 'Upload a CSV to see the dry-run report first.')
            : h('p', {class: 'notice'}, 'Import from a CSV file: not available on this server\'s HTTP API. Use `attribctl import --dry-run FILE` (README "Importing connections"), which reports every rejected row with its line and reason before anything changes.')));
}
