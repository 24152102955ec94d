import type { Frame, PanelView } from '../api.js';
import { el } from '../dom.js';
import { formatValue } from '../format.js';
import { unitOf } from './frame.js';

/** Columns a table row can be opened by: its calls, filtered by these (the calls page's filters). */
const ROW_FILTERS: Record<string, string> = {
  tenant: 'tenant',
  service: 'service',
  provider: 'provider',
  model: 'model',
  user_id: 'user',
  team: 'team',
  feature: 'feature',
  property: 'property',
};

/** A table with formatted cells, sortable by a header click; a row opens the calls behind it. */
export function renderTable(
  box: HTMLElement,
  panel: PanelView,
  frame: Frame,
  openRow: (filters: Record<string, string>) => void,
): void {
  const order = frame.fields[0]?.values.map((_, i) => i) ?? [];
  const specs = frame.fields.map((f) => (f.type === 'time' ? { unit: 'dateTimeAsIso' } : unitOf(panel, f.name)));
  const drillable = frame.fields.some((f) => f.name in ROW_FILTERS);
  const table = el('table', {
    class: `grid-table${drillable ? ' drillable' : ''}`,
  });
  const head = el('tr');
  const body = el('tbody');
  let sortBy = -1;
  let asc = true;
  const fill = () => {
    body.replaceChildren(
      ...order.map((r) => {
        const tr = el('tr');
        frame.fields.forEach((f, c) => {
          const v = f.values[r] ?? null;
          tr.append(
            el('td', {
              class: f.type === 'number' ? 'num' : '',
              'data-col': f.name,
              text: formatValue(v, specs[c] ?? {}),
            }),
          );
        });
        if (drillable) {
          tr.title = 'Open the calls behind this row';
          tr.addEventListener('click', () => {
            const filters: Record<string, string> = {};
            for (const f of frame.fields) {
              const key = ROW_FILTERS[f.name];
              const v = f.values[r];
              if (key && typeof v === 'string' && v !== '') filters[key] = v;
            }
            openRow(filters);
          });
        }
        return tr;
      }),
    );
  };
  frame.fields.forEach((f, c) => {
    const th = el('th', {
      class: f.type === 'number' ? 'num' : '',
      text: f.name,
    });
    th.addEventListener('click', () => {
      asc = sortBy === c ? !asc : f.type !== 'number';
      sortBy = c;
      const vals = f.values;
      order.sort((a, b) => {
        const x = vals[a] ?? '';
        const y = vals[b] ?? '';
        const d = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        return asc ? d : -d;
      });
      fill();
    });
    head.append(th);
  });
  fill();
  table.append(el('thead', {}, head), body);
  box.append(el('div', { class: 'table-scroll' }, table));
}
