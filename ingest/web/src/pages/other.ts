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
