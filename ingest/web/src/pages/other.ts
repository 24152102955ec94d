import { ApiError, api, type Frame, query, type Session } from '../api.js';
import { el } from '../dom.js';
import { formatTime, formatValue } from '../format.js';
import { renderTable } from '../panels/table.js';
import { go, href, type Route, resolveTime } from '../route.js';

/** The sign-in page: an API key, checked against the service before it is kept (for this tab only). */
export function signInPage(root: HTMLElement, onSignedIn: (key: string) => Promise<void>, message = ''): void {
  const input = el('input', {
    type: 'password',
    name: 'key',
    autocomplete: 'off',
    placeholder: 'API key',
    'aria-label': 'API key',
  });
  const error = el('p', {
    class: 'signin-error',
    role: 'alert',
    text: message,
  });
  const form = el(
    'form',
    { class: 'signin' },
    el('h1', { text: 'tokenmeter' }),
    el('p', {
      text: 'Sign in with an API key (TOKENMETER_ADMIN_KEY, or a key from `tokenmeter keys create`).',
    }),
    input,
    el('button', { class: 'btn primary', type: 'submit', text: 'Sign in' }),
    error,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    error.textContent = '';
    onSignedIn(input.value.trim()).catch((err: unknown) => {
      error.textContent =
        err instanceof ApiError && (err.status === 401 || err.status === 403)
          ? 'That key was not accepted.'
          : `Sign-in failed: ${(err as Error).message}`;
    });
  });
  root.replaceChildren(el('div', { class: 'signin-page', 'data-page': 'signin' }, form));
  input.focus();
}

/** Dashboards list (the home page). */
export async function homePage(root: HTMLElement): Promise<void> {
  const { dashboards } = await api<{
    dashboards: {
      uid: string;
      title: string;
      description: string;
      panels: number;
    }[];
  }>('/api/v1/dashboards');
  root.replaceChildren(
    el('h1', { text: 'Dashboards' }),
    el(
      'ul',
      { class: 'dash-list' },
      ...dashboards.map((d) =>
        el(
          'li',
          {},
          el('a', {
            href: href('d', [d.uid]),
            text: d.title.replace(/^tokenmeter \/ /, ''),
          }),
          el('span', {
            class: 'muted',
            text: ` ${d.panels} panels — ${d.description}`,
          }),
        ),
      ),
    ),
  );
}

const CALL_FILTERS = ['tenant', 'service', 'provider', 'model', 'user', 'team', 'feature', 'status', 'property'];

/** The calls behind a table row: newest first, each opening the one-call page. */
export async function callsPage(root: HTMLElement, route: Route): Promise<void> {
  const now = Date.now();
  const from = resolveTime(route.params.get('from') ?? 'now-24h', now);
  const to = resolveTime(route.params.get('to') ?? 'now', now);
  const filters: Record<string, string> = {};
  for (const f of CALL_FILTERS) {
    const v = route.params.get(f);
    if (v) filters[f] = v;
  }
  for (const [k, v] of route.params) if (k.startsWith('property.') && v) filters[k] = v;
  const frame = await api<Frame>(`/api/v1/calls${query({ from, to, ...filters })}`);
  const chips = Object.entries(filters).map(([k, v]) => el('span', { class: 'chip', text: `${k} = ${v}` }));
  const box = el('div', { class: 'panel calls-panel', 'data-state': 'drawn' });
  const ids = {
    trace: frame.fields.find((f) => f.name === 'trace_id'),
    span: frame.fields.find((f) => f.name === 'span_id'),
  };
  const panel = {
    id: 0,
    type: 'table',
    title: 'Calls',
    description: '',
    gridPos: { x: 0, y: 0, w: 24, h: 10 },
    fieldConfig: {
      unit: 'short',
      overrides: {
        cost_usd: { unit: 'currencyUSD', decimals: 6 },
        duration_ms: { unit: 'ms', decimals: 0 },
      },
      custom: {},
    },
    reduce: { calc: 'lastNotNull', values: false },
    format: 1,
  };
  renderTable(box, panel, frame, () => undefined);
  box.querySelectorAll('tbody tr').forEach((tr, i) => {
    const trace = ids.trace?.values[i];
    const span = ids.span?.values[i];
    tr.classList.add('clickable');
    tr.addEventListener('click', (e) => {
      e.stopImmediatePropagation();
      if (typeof trace === 'string' && typeof span === 'string') go('call', [trace, span]);
    });
  });
  root.replaceChildren(
    el('h1', { text: 'Calls' }),
    el(
      'p',
      { class: 'muted' },
      `${frame.rows} newest calls from ${formatTime(from)} to ${formatTime(to)} UTC `,
      ...chips,
    ),
    propertyFilterForm(route),
    box,
  );
}

/** Filter the calls by a custom property: `plan=pro` becomes the `property.plan=pro` parameter. */
function propertyFilterForm(route: Route): HTMLElement {
  const input = el('input', {
    name: 'property',
    placeholder: 'property: name=value',
    'aria-label': 'Filter by custom property (name=value)',
    autocomplete: 'off',
  });
  const form = el(
    'form',
    { class: 'inline-form', 'data-form': 'property-filter' },
    input,
    el('button', { class: 'btn', type: 'submit', text: 'Filter' }),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    const at = text.indexOf('=');
    if (at <= 0) {
      input.setCustomValidity('name=value');
      input.reportValidity();
      return;
    }
    const p = new URLSearchParams(route.params);
    p.set(`property.${text.slice(0, at).trim()}`, text.slice(at + 1).trim());
    go('calls', [], p);
  });
  return form;
}

/** One call: tokens by kind, cost with the price used and its source, timing, attribution, trace. */
export async function callPage(root: HTMLElement, route: Route, session: Session): Promise<void> {
  const [trace = '', span = ''] = route.args;
  const { call } = await api<{ call: Record<string, unknown> }>(
    `/api/v1/calls/${encodeURIComponent(trace)}/${encodeURIComponent(span)}`,
  );
  const n = (k: string, unit = 'short', decimals?: number) =>
    formatValue(typeof call[k] === 'number' ? (call[k] as number) : null, {
      unit,
      decimals,
    });
  const s = (k: string) => (call[k] === undefined || call[k] === '' || call[k] === null ? '–' : String(call[k]));
  const section = (title: string, rows: [string, string][]) =>
    el(
      'section',
      { class: 'card' },
      el('h2', { text: title }),
      el('dl', {}, ...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { 'data-field': k, text: v })])),
    );
  const cards = [
    section('Tokens', [
      ['input', n('input_tokens')],
      ['output', n('output_tokens')],
      ['cache read', n('cache_read_tokens')],
      ['cache write', n('cache_write_tokens')],
      ['cache write (1 h)', n('cache_write_1h_tokens')],
      ['reasoning', n('reasoning_tokens')],
      ['input audio', n('input_audio_tokens')],
      ['output audio', n('output_audio_tokens')],
      ['estimated', call.estimated ? 'yes (no usage from the provider)' : 'no'],
    ]),
    session.money
      ? section('Cost', [
          ['cost', call.cost_usd === null ? 'unpriced' : n('cost_usd', 'currencyUSD', 6)],
          ['price', s('price_id')],
          ['price version', s('price_version')],
          ['cost source', s('cost_source')],
          ['saved by cache reads', n('cache_savings_usd', 'currencyUSD', 6)],
        ])
      : '',
    section('Timing', [
      ['at', typeof call.timestamp === 'number' ? `${formatTime(call.timestamp)} UTC` : s('timestamp')],
      ['duration', n('duration_ms', 'ms', 0)],
      ['time to first token', n('ttft_ms', 'ms', 0)],
      ['streaming', call.is_streaming ? 'yes' : 'no'],
      ['status', s('status')],
      ['error', s('error_type')],
    ]),
    section('Attribution', [
      ['tenant', s('tenant')],
      ['service', s('service')],
      ['user', s('user_id')],
      ['team', s('team')],
      ['feature', s('feature')],
      ['session', s('session_id')],
      ['properties', s('properties')],
    ]),
    section('Model and trace', [
      ['provider', s('provider')],
      ['operation', s('operation')],
      ['request model', s('request_model')],
      ['response model', s('response_model')],
      ['trace id', s('trace_id')],
      ['span id', s('span_id')],
      ['parent span', s('parent_span_id')],
      ['instrumentation', `${s('scope_name')} (${s('convention')})`],
      ['response id', s('response_id')],
    ]),
  ];
  root.replaceChildren(
    el('h1', { text: `Call ${span}` }),
    el('div', { class: 'cards', 'data-page': 'call' }, ...cards),
  );
}

interface BudgetWithStatus {
  id: string;
  name: string;
  tenant: string;
  period: string;
  amountUsd: string;
  mode: string;
  thresholds: number[];
  scope: Record<string, string>;
  status: {
    periodStart: string;
    periodEnd: string;
    spendUsd: string;
    percent: number;
    crossed: number[];
  };
}

/** Budgets: period, spend, a percentage bar, a linear projection to period end, and alert history. */
export async function budgetsPage(root: HTMLElement, route: Route, session: Session): Promise<void> {
  let tenant = session.tenant === '*' ? (route.params.get('tenant') ?? '') : session.tenant;
  const head = el('div', { class: 'dash-head' }, el('h1', { text: 'Budgets' }), el('div', { class: 'spacer' }));
  if (session.tenant === '*') {
    const now = Date.now();
    const { values } = await api<{ values: string[] }>(
      `/api/v1/dashboards/tokenmeter-budgets/variables/tenant/options${query({ from: now - 90 * 86_400_000, to: now })}`,
    ).catch(() => ({ values: [] as string[] }));
    if (!tenant) tenant = values[0] ?? '';
    const select = el('select', { 'aria-label': 'Tenant' }, ...values.map((v) => el('option', { value: v, text: v })));
    select.value = tenant;
    select.addEventListener('change', () => go('budgets', [], new URLSearchParams({ tenant: select.value })));
    head.append(el('label', { text: 'Tenant ' }, select));
  }
  if (!tenant) {
    root.replaceChildren(head, el('p', { class: 'muted', text: 'No tenant has data yet.' }));
    return;
  }
  const t = session.tenant === '*' ? { tenant } : {};
  const [{ budgets }, alerts] = await Promise.all([
    api<{ budgets: BudgetWithStatus[] }>(`/api/v1/budgets${query(t)}`),
    api<{ events: Record<string, unknown>[] }>(`/api/v1/alerts${query({ ...t, limit: 500 })}`).catch(() => ({
      events: [],
    })),
  ]);
  const usd = (v: string | number) => formatValue(Number(v), { unit: 'currencyUSD', decimals: 2 });
  const cards = budgets.map((b) => {
    const start = Date.parse(b.status.periodStart);
    const end = Date.parse(b.status.periodEnd);
    const elapsed = Math.max(Date.now() - start, 3_600_000);
    const projected = (Number(b.status.spendUsd) * (end - start)) / elapsed;
    const pct = b.status.percent;
    const bar = el('div', { class: 'bar-fill' });
    bar.style.width = `${Math.min(100, pct)}%`;
    bar.style.background = pct >= 100 ? '#e24d42' : pct >= 75 ? '#eab839' : '#7eb26d';
    const scope = Object.entries(b.scope)
      .filter(([, v]) => v)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const history = alerts.events.filter((e) => e.budget_id === b.id);
    return el(
      'section',
      { class: 'card budget', 'data-budget': b.id },
      el('h2', { text: `${b.name} ` }, el('span', { class: `badge ${b.mode}`, text: b.mode })),
      el('p', {
        class: 'muted',
        text: `${scope || 'whole tenant'} · per ${b.period} · ${b.status.periodStart.slice(0, 10)} to ${b.status.periodEnd.slice(0, 10)}`,
      }),
      el('div', { class: 'bar-track big' }, bar),
      el(
        'dl',
        {},
        el('dt', { text: 'spent' }),
        el('dd', {
          'data-field': 'spend',
          text: `${usd(b.status.spendUsd)} of ${usd(b.amountUsd)} (${pct.toFixed(1)}%)`,
        }),
        el('dt', { text: 'projected at period end' }),
        el('dd', {
          'data-field': 'projection',
          text: `${usd(projected)} (${((100 * projected) / Math.max(Number(b.amountUsd), 1e-9)).toFixed(0)}%)`,
        }),
        el('dt', { text: 'thresholds' }),
        el('dd', {
          text: b.thresholds.map((x) => `${x}%${b.status.crossed.includes(x) ? ' ✓' : ''}`).join('  '),
        }),
      ),
      el('h3', { text: 'Alert history' }),
      history.length === 0
        ? el('p', { class: 'muted', text: 'No alerts.' })
        : el(
            'ul',
            { class: 'alerts' },
            ...history.map((e) =>
              el('li', {
                text: `${String(e.ts).slice(0, 19)} · ${e.threshold}% · ${e.state} · ${e.severity}`,
              }),
            ),
          ),
    );
  });
  root.replaceChildren(
    head,
    budgets.length
      ? el('div', { class: 'cards' }, ...cards)
      : el('p', { class: 'muted', text: 'No budgets in this tenant.' }),
  );
}
