import { ApiError, api, type DashboardView, type Frame, ndjson, type PanelView, query } from '../api.js';
import { el } from '../dom.js';
import { layout } from '../layout.js';
import { renderBarGauge, renderPie, renderStat } from '../panels/simple.js';
import { renderTable } from '../panels/table.js';
import { renderTimeSeries } from '../panels/timeseries.js';
import { go, QUICK_RANGES, REFRESH, type Route, rangeLabel, refreshMs, resolveTime } from '../route.js';

/** Row height of Grafana's grid, in pixels (30 px a unit plus an 8 px gap). */
const ROW_PX = 30;
const GAP_PX = 8;

interface State {
  from: string;
  to: string;
  vars: Map<string, string[]>;
  refresh: string;
}

/** Query parameters of the current state, in Grafana's URL form. */
export function stateParams(s: State): URLSearchParams {
  const p = new URLSearchParams({ from: s.from, to: s.to });
  for (const [name, values] of s.vars) for (const v of values) p.append(`var-${name}`, v);
  if (s.refresh) p.set('refresh', s.refresh);
  return p;
}

function varParams(s: State, skip?: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, values] of s.vars) if (name !== skip && values.length > 0) out[`var-${name}`] = values;
  return out;
}

/** Draws one dashboard; returns a function that stops its timers. */
export async function dashboardPage(root: HTMLElement, route: Route): Promise<() => void> {
  const uid = route.args[0] ?? '';
  const dash = await api<DashboardView>(`/api/v1/dashboards/${encodeURIComponent(uid)}`);
  document.title = `${dash.title} · tokenmeter`;
  const state: State = {
    from: route.params.get('from') ?? dash.time.from,
    to: route.params.get('to') ?? dash.time.to,
    vars: new Map(),
    refresh: route.params.get('refresh') ?? dash.refresh ?? '',
  };
  for (const v of dash.variables) {
    const values = route.params.getAll(`var-${v.name}`).filter((x) => x !== '' && x !== 'All');
    if (values.length) state.vars.set(v.name, values);
  }
  let controller = new AbortController();
  let timer: ReturnType<typeof setInterval> | undefined;
  const range = () => {
    const now = Date.now();
    return {
      from: resolveTime(state.from, now),
      to: resolveTime(state.to, now),
    };
  };
  const save = () => go('d', [uid], stateParams(state), true);

  const grid = el('div', { class: 'grid', 'data-pending': dash.panels.length });
  const varBar = el('div', { class: 'variables' });
  const title = el('h1', { text: dash.title.replace(/^tokenmeter \/ /, '') });
  const pickers = el(
    'div',
    { class: 'pickers' },
    timePicker(state, () => changed()),
    refreshPicker(state, () => schedule()),
  );
  const reload = el('button', {
    class: 'btn',
    type: 'button',
    title: 'Refresh now',
    text: '↻',
  });
  reload.addEventListener('click', () => drawPanels());
  root.replaceChildren(
    el('div', { class: 'dash-head' }, title, el('div', { class: 'spacer' }), pickers, reload),
    varBar,
    dash.description ? el('p', { class: 'dash-desc', text: dash.description }) : '',
    grid,
  );

  const boxes = new Map<number, HTMLElement>();
  // Rows are 24-wide, one unit high: laid out with the panels so nothing overlaps them.
  // A row whose panels are all hidden from this key is left out.
  const rowYs = dash.rows.map((r) => r.y).sort((a, b) => a - b);
  const shown = dash.rows.filter((row) => {
    const next = rowYs.find((y) => y > row.y) ?? Number.POSITIVE_INFINITY;
    return dash.panels.some((p) => p.gridPos.y > row.y && p.gridPos.y < next);
  });
  const rowItems = shown.map((row) => ({
    row,
    gridPos: { x: 0, y: row.y, w: 24, h: 1 },
  }));
  const boxesAt = layout<{
    gridPos: { x: number; y: number; w: number; h: number };
  }>([...rowItems, ...dash.panels]);
  for (const item of rowItems) {
    const at = boxesAt.get(item) ?? item.gridPos;
    const r = el('div', { class: 'grid-row', text: item.row.title });
    r.style.gridColumn = '1 / span 24';
    r.style.gridRow = `${at.y + 1} / span 1`;
    grid.append(r);
  }
  for (const p of dash.panels) {
    const at = boxesAt.get(p) ?? p.gridPos;
    const body = el('div', { class: 'panel-body' });
    const box = el(
      'section',
      {
        class: `panel panel-${p.type}`,
        'data-panel-id': p.id,
        'data-panel-type': p.type,
        'data-state': 'loading',
      },
      el('header', {
        class: 'panel-title',
        title: p.description,
        text: p.title,
      }),
      body,
    );
    box.style.gridColumn = `${at.x + 1} / span ${at.w}`;
    box.style.gridRow = `${at.y + 1} / span ${at.h}`;
    grid.append(box);
    boxes.set(p.id, box);
  }
  grid.style.gridAutoRows = `${ROW_PX}px`;
  grid.style.gap = `${GAP_PX}px`;

  async function drawVariables(): Promise<void> {
    const r = range();
    const entries = await Promise.all(
      dash.variables.map(async (v) => {
        const url = `/api/v1/dashboards/${uid}/variables/${v.name}/options${query({ from: r.from, to: r.to, ...varParams(state, v.name) })}`;
        const { values } = await api<{ values: string[] }>(url, {
          signal: controller.signal,
        });
        return [v, values] as const;
      }),
    );
    varBar.replaceChildren(
      ...entries.map(([v, options]) => variablePicker(v.name, v.label, options, state, () => changed())),
    );
  }

  function drawFrame(p: PanelView, frame: Frame, r: { from: number; to: number }): void {
    const box = boxes.get(p.id) as HTMLElement;
    const body = box.querySelector('.panel-body') as HTMLElement;
    try {
      body.replaceChildren();
      box.dataset.rows = String(frame.rows);
      if (frame.rows === 0 && p.type !== 'stat') body.append(el('div', { class: 'no-data', text: 'No data' }));
      else if (p.type === 'stat') renderStat(body, p, frame);
      else if (p.type === 'table') renderTable(body, p, frame, (filters) => openCalls(filters));
      else if (p.type === 'bargauge') renderBarGauge(body, p, frame);
      else if (p.type === 'piechart') renderPie(body, p, frame);
      else renderTimeSeries(body, p, frame, r);
      box.dataset.state = 'drawn';
    } catch (err) {
      fail(p, (err as Error).message);
    }
  }

  function fail(p: PanelView, message: string): void {
    const box = boxes.get(p.id) as HTMLElement;
    box.dataset.state = 'error';
    (box.querySelector('.panel-body') as HTMLElement).replaceChildren(
      el('div', { class: 'panel-error', text: message }),
    );
  }

  /**
   * Every panel in one request (GET /api/v1/dashboards/<uid>/data), drawn as its line of the
   * streamed answer arrives: the slowest query holds up no other panel.
   */
  async function drawPanels(): Promise<void> {
    controller.abort();
    controller = new AbortController();
    const signal = controller.signal;
    const started = performance.now();
    let left = dash.panels.length;
    grid.dataset.pending = String(left);
    for (const b of boxes.values()) b.dataset.state = 'loading';
    const done = (p: PanelView | undefined) => {
      if (!p || signal.aborted) return;
      left--;
      grid.dataset.pending = String(left);
      if (left === 0) {
        grid.dataset.drawnMs = String(Math.round(performance.now() - started));
        grid.dataset.renderMs = String(Math.round(renderMs));
      }
    };
    const r = range();
    const params: Record<string, string | string[] | number> = {
      from: r.from,
      to: r.to,
      ...varParams(state),
    };
    params.panel = dash.panels.map((p) => String(p.id));
    for (const p of dash.panels) {
      const body = boxes.get(p.id)?.querySelector('.panel-body') as HTMLElement;
      params[`mdp-${p.id}`] = Math.max(10, Math.min(5000, Math.round(body.clientWidth || 1000)));
    }
    const byId = new Map(dash.panels.map((p) => [p.id, p]));
    const seen = new Set<number>();
    let renderMs = 0; // time spent drawing, for bench/ui
    // Answers are drawn in batches, at most one repaint a second while queries still run: every
    // repaint of the page takes CPU the remaining queries need (bench/ui).
    type Item = { id: number; frame?: Frame; error?: string; detail?: string };
    let queue: Item[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      const t = performance.now();
      for (const item of queue) {
        const p = byId.get(item.id) as PanelView;
        if (item.frame) drawFrame(p, item.frame, r);
        else fail(p, `${item.error ?? 'failed'}${item.detail ? `: ${item.detail}` : ''}`);
      }
      renderMs += performance.now() - t;
      const drawn = queue;
      queue = [];
      for (const item of drawn) done(byId.get(item.id));
    };
    try {
      for await (const line of ndjson(`/api/v1/dashboards/${uid}/data${query(params)}`, signal)) {
        const item = line as Item;
        if (!byId.has(item.id) || seen.has(item.id)) continue;
        seen.add(item.id);
        queue.push(item);
        timer ??= setTimeout(() => {
          if (!signal.aborted) flush();
        }, 1000);
      }
      if (!signal.aborted) flush();
      for (const p of dash.panels) {
        if (seen.has(p.id) || signal.aborted) continue;
        fail(p, 'no answer');
        done(p);
      }
    } catch (err) {
      if (signal.aborted) return;
      const status = err instanceof ApiError ? ` (${err.status})` : '';
      for (const p of dash.panels) {
        if (seen.has(p.id)) continue;
        fail(p, `${(err as Error).message}${status}`);
        done(p);
      }
    }
  }

  function openCalls(filters: Record<string, string>): void {
    const r = range();
    const p = new URLSearchParams({ from: String(r.from), to: String(r.to) });
    for (const [k, v] of Object.entries(filters)) p.set(k, v);
    for (const [name, values] of state.vars)
      if (values.length === 1 && !(name in filters)) p.set(name, values[0] as string);
    go('calls', [], p);
  }

  function changed(): void {
    save();
    grid.dataset.pending = String(dash.panels.length);
    void drawVariables().catch(() => undefined);
    void drawPanels();
  }

  function schedule(): void {
    save();
    if (timer) clearInterval(timer);
    const ms = refreshMs(state.refresh);
    if (ms > 0) timer = setInterval(() => void drawPanels(), ms);
  }

  await drawVariables().catch(() => undefined);
  schedule();
  void drawPanels();
  return () => {
    controller.abort();
    if (timer) clearInterval(timer);
  };
}

function variablePicker(
  name: string,
  label: string,
  options: string[],
  state: State,
  onChange: () => void,
): HTMLElement {
  const chosen = new Set(state.vars.get(name) ?? []);
  const text = () => (chosen.size === 0 ? 'All' : [...chosen].join(' + '));
  const button = el('button', {
    class: 'var-button',
    type: 'button',
    text: text(),
  });
  const menu = el('div', { class: 'var-menu', hidden: true });
  const box = el('div', { class: 'variable', 'data-var': name }, el('label', { text: label }), button, menu);
  const apply = () => {
    if (chosen.size === 0) state.vars.delete(name);
    else state.vars.set(name, [...chosen]);
    button.textContent = text();
    onChange();
  };
  const option = (value: string, all: boolean) => {
    const input = el('input', { type: 'checkbox', value: all ? '' : value });
    input.checked = all ? chosen.size === 0 : chosen.has(value);
    input.addEventListener('change', () => {
      if (all) chosen.clear();
      else if (input.checked) chosen.add(value);
      else chosen.delete(value);
      for (const other of menu.querySelectorAll('input')) {
        other.checked = other.value === '' ? chosen.size === 0 : chosen.has(other.value);
      }
      apply();
    });
    return el('label', { class: 'var-option', 'data-value': all ? 'All' : value }, input, all ? 'All' : value);
  };
  menu.append(option('', true), ...options.map((o) => option(o, false)));
  for (const v of chosen) if (!options.includes(v)) menu.append(option(v, false));
  button.addEventListener('click', () => {
    menu.hidden = !menu.hidden;
  });
  document.addEventListener('click', (e) => {
    if (!box.contains(e.target as Node)) menu.hidden = true;
  });
  return box;
}

function timePicker(state: State, onChange: () => void): HTMLElement {
  const select = el('select', {
    class: 'time-select',
    'aria-label': 'Time range',
  });
  for (const q of QUICK_RANGES) select.append(el('option', { value: q.from, text: q.label }));
  select.append(el('option', { value: 'custom', text: 'Custom range…' }));
  const isQuick = QUICK_RANGES.some((q) => q.from === state.from) && state.to === 'now';
  select.value = isQuick ? state.from : 'custom';
  const toInput = (ms: number) => new Date(ms).toISOString().slice(0, 16);
  const fromIn = el('input', {
    type: 'datetime-local',
    class: 'time-from',
    'aria-label': 'From (UTC)',
  });
  const toIn = el('input', {
    type: 'datetime-local',
    class: 'time-to',
    'aria-label': 'To (UTC)',
  });
  const apply = el('button', {
    class: 'btn time-apply',
    type: 'button',
    text: 'Apply',
  });
  const custom = el('span', { class: 'custom-range', hidden: isQuick }, fromIn, toIn, apply);
  const label = el('span', {
    class: 'range-label',
    text: rangeLabel(state.from, state.to),
  });
  const fillCustom = () => {
    fromIn.value = toInput(resolveTime(state.from));
    toIn.value = toInput(resolveTime(state.to));
  };
  fillCustom();
  select.addEventListener('change', () => {
    if (select.value === 'custom') {
      custom.hidden = false;
      return;
    }
    custom.hidden = true;
    state.from = select.value;
    state.to = 'now';
    label.textContent = rangeLabel(state.from, state.to);
    onChange();
  });
  apply.addEventListener('click', () => {
    const f = Date.parse(`${fromIn.value}:00Z`);
    const t = Date.parse(`${toIn.value}:00Z`);
    if (!(f < t)) {
      label.textContent = 'From must be before To';
      return;
    }
    state.from = String(f);
    state.to = String(t);
    label.textContent = rangeLabel(state.from, state.to);
    onChange();
  });
  return el('div', { class: 'time-picker' }, select, custom, label);
}

function refreshPicker(state: State, onChange: () => void): HTMLElement {
  const select = el('select', {
    class: 'refresh-select',
    'aria-label': 'Auto-refresh',
  });
  for (const r of REFRESH)
    select.append(
      el('option', {
        value: r,
        text: r === '' ? 'Auto-refresh off' : `Every ${r}`,
      }),
    );
  if (!REFRESH.includes(state.refresh as (typeof REFRESH)[number]))
    select.append(el('option', { value: state.refresh, text: `Every ${state.refresh}` }));
  select.value = state.refresh;
  select.addEventListener('change', () => {
    state.refresh = select.value;
    onChange();
  });
  return select;
}
