import { api, query, type Session } from '../api.js';
import { confirmButton, el } from '../dom.js';
import { formatValue } from '../format.js';
import { href, type Route } from '../route.js';
import { pageTenant, tenantParam } from './tenant.js';

const usd = (v: number, decimals = 2) => formatValue(v, { unit: 'currencyUSD', decimals });

function field(label: string, control: HTMLElement): HTMLElement {
  return el('label', { class: 'field' }, el('span', { text: label }), control);
}

/** A list as a plain table: header cells, then one row of cells (text or elements) per item. */
function table(headers: string[], rows: (string | HTMLElement)[][], attrs: Record<string, string> = {}): HTMLElement {
  return el(
    'div',
    { class: 'table-scroll' },
    el(
      'table',
      { class: 'grid-table', ...attrs },
      el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { text: h })))),
      el('tbody', {}, ...rows.map((cells) => el('tr', {}, ...cells.map((c) => el('td', {}, c))))),
    ),
  );
}

interface ApiKey {
  id: string;
  tenant: string;
  role: string;
  name: string;
  created_at: string;
  revoked_at: string | null;
}

/**
 * API keys (admin keys only): the list, create (the secret is shown once, with a copy
 * button) and revoke, through /api/v1/keys, the endpoints `tokenmeter keys` uses.
 */
export async function keysPage(root: HTMLElement, route: Route, session: Session): Promise<void> {
  const { keys } = await api<{ keys: ApiKey[] }>('/api/v1/keys');
  const reload = () => keysPage(root, route, session);
  const error = el('p', { class: 'form-error', role: 'alert' });
  const name = el('input', { name: 'name', autocomplete: 'off', placeholder: 'what uses it', 'aria-label': 'Name' });
  const role = el(
    'select',
    { name: 'role', 'aria-label': 'Role' },
    ...['read', 'user', 'ingest', 'admin'].map((r) => el('option', { value: r, text: r })),
  );
  // Only an operator key may name another tenant (or '*'); a tenant admin makes keys of its own.
  const tenant =
    session.tenant === '*'
      ? el('input', {
          name: 'tenant',
          autocomplete: 'off',
          placeholder: 'tenant, or * for all',
          'aria-label': 'Tenant',
          value: route.params.get('tenant') ?? '',
        })
      : undefined;
  const secretSlot = el('div', { class: 'secret-slot' });
  const create = el('button', { class: 'btn primary', type: 'submit', text: 'Create key' });
  const form = el(
    'form',
    { class: 'card editor', 'data-form': 'key' },
    el('h2', { text: 'New API key' }),
    el('div', { class: 'fields' }, field('Name', name), field('Role', role), tenant ? field('Tenant', tenant) : ''),
    el('div', { class: 'actions' }, create),
    error,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    create.disabled = true;
    error.textContent = '';
    const body = { name: name.value.trim(), role: role.value, ...(tenant ? { tenant: tenant.value.trim() } : {}) };
    api<ApiKey & { key: string }>('/api/v1/keys', { method: 'POST', body })
      .then(async (created) => {
        await reload();
        root.querySelector('.secret-slot')?.replaceChildren(secretBox(created));
      })
      .catch((err: unknown) => {
        create.disabled = false;
        error.textContent = (err as Error).message;
      });
  });
  const rows = keys.map((k) => {
    const state = k.revoked_at ? `revoked ${k.revoked_at.slice(0, 16).replace('T', ' ')}` : 'live';
    let action: HTMLElement | string = '';
    if (!k.revoked_at && k.id !== session.keyId) {
      const revoke = confirmButton(
        'Revoke',
        'Really revoke?',
        'revoke',
        () => api(`/api/v1/keys/${encodeURIComponent(k.id)}`, { method: 'DELETE' }).then(reload),
        (err) => {
          error.textContent = err.message;
        },
      );
      action = revoke;
    } else if (k.id === session.keyId) action = 'this session';
    return [k.id, k.name, k.tenant, k.role, k.created_at.slice(0, 16).replace('T', ' '), state, action];
  });
  root.replaceChildren(
    el('div', { class: 'dash-head' }, el('h1', { text: 'API keys' })),
    secretSlot,
    form,
    table(['id', 'name', 'tenant', 'role', 'created', 'state', ''], rows, { 'data-table': 'keys' }),
  );
}

/** The new key's secret, once: it is stored only as a hash, so this is the one chance to copy it. */
function secretBox(created: ApiKey & { key: string }): HTMLElement {
  const secret = el('input', { readonly: true, value: created.key, 'data-field': 'secret', 'aria-label': 'New key' });
  const copy = el('button', { class: 'btn', type: 'button', 'data-action': 'copy', text: 'Copy' });
  const note = el('span', { class: 'muted', 'data-field': 'copied' });
  copy.addEventListener('click', () => {
    secret.select();
    navigator.clipboard
      .writeText(created.key)
      .then(() => {
        note.textContent = 'Copied.';
      })
      .catch(() => {
        note.textContent = 'Selected: press Ctrl+C to copy.';
      });
  });
  return el(
    'section',
    { class: 'card secret', 'data-key': created.id },
    el('h2', { text: `Key ${created.id} (${created.role}, tenant ${created.tenant})` }),
    el('p', { text: 'Copy the secret now: it is shown only this once and cannot be read again.' }),
    el('div', { class: 'actions' }, secret, copy, note),
  );
}

interface Override {
  id: string;
  provider: string;
  model: string;
  effectiveFrom: string;
  prices: Record<string, number>;
  note: string;
}

/**
 * Price overrides (the installation's admin key only: they apply to every tenant): the ones in
 * force, set one (PUT /api/v1/prices), end one (DELETE /api/v1/prices/:id).
 */
export async function pricesPage(root: HTMLElement, route: Route, session: Session): Promise<void> {
  const { overrides } = await api<{ overrides: Override[] }>('/api/v1/prices');
  const reload = () => pricesPage(root, route, session);
  const error = el('p', { class: 'form-error', role: 'alert' });
  const input = (name: string, label: string, attrs: Record<string, string> = {}) =>
    el('input', { name, autocomplete: 'off', 'aria-label': label, ...attrs });
  const provider = input('provider', 'Provider', { placeholder: 'openai' });
  const model = input('model', 'Model', { placeholder: 'gpt-4o' });
  const from = input('effective_from', 'Effective from', {
    type: 'date',
    value: new Date().toISOString().slice(0, 10),
  });
  const inPrice = input('input_mtok', 'Input USD per million tokens', { inputmode: 'decimal', placeholder: '2.5' });
  const outPrice = input('output_mtok', 'Output USD per million tokens', { inputmode: 'decimal', placeholder: '10' });
  const cachePrice = input('cache_read_mtok', 'Cache read USD per million tokens', { inputmode: 'decimal' });
  const note = input('note', 'Note', { placeholder: 'negotiated discount' });
  const set = el('button', { class: 'btn primary', type: 'submit', text: 'Set override' });
  const form = el(
    'form',
    { class: 'card editor', 'data-form': 'price' },
    el('h2', { text: 'Set a price override' }),
    el(
      'div',
      { class: 'fields' },
      field('Provider', provider),
      field('Model', model),
      field('Effective from (UTC)', from),
      field('Input $/Mtok', inPrice),
      field('Output $/Mtok', outPrice),
      field('Cache read $/Mtok', cachePrice),
      field('Note', note),
    ),
    el('div', { class: 'actions' }, set),
    error,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const prices: Record<string, number | string> = {};
    for (const [k, i] of [
      ['input_mtok', inPrice],
      ['output_mtok', outPrice],
      ['cache_read_mtok', cachePrice],
    ] as const) {
      const v = i.value.trim();
      // A value that is not a number goes as text: the service answers which field is wrong.
      if (v !== '') prices[k] = Number.isFinite(Number(v)) ? Number(v) : v;
    }
    set.disabled = true;
    error.textContent = '';
    api('/api/v1/prices', {
      method: 'PUT',
      body: {
        provider: provider.value.trim(),
        model: model.value.trim(),
        effective_from: from.value,
        prices,
        note: note.value,
      },
    })
      .then(reload)
      .catch((err: unknown) => {
        set.disabled = false;
        error.textContent = (err as Error).message;
      });
  });
  const rows = overrides.map((o) => {
    const end = confirmButton(
      'End',
      'Really end?',
      'end',
      () => api(`/api/v1/prices/${encodeURIComponent(o.id)}`, { method: 'DELETE' }).then(reload),
      (err) => {
        error.textContent = err.message;
      },
    );
    const prices = Object.entries(o.prices)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    return [o.provider, o.model, o.effectiveFrom.slice(0, 10), prices, o.note, end];
  });
  root.replaceChildren(
    el('div', { class: 'dash-head' }, el('h1', { text: 'Price overrides' })),
    el('p', {
      class: 'muted',
      text: 'Overrides replace the bundled catalogue price for calls from their date on, in every tenant. Ending one removes it; stored calls keep their cost until repriced (tokenmeter reprice).',
    }),
    form,
    overrides.length
      ? table(['provider', 'model', 'from', 'prices', 'note', ''], rows, { 'data-table': 'prices' })
      : el('p', { class: 'muted', text: 'No overrides: every call is priced from the catalogue.' }),
  );
}

interface Advice {
  kind: string;
  title: string;
  service: string;
  feature: string;
  provider: string;
  model: string;
  monthlySavings: number;
  basis: Record<string, unknown>;
}

/** Savings advice (read and admin keys): each suggestion's monthly saving, and a link to the calls behind it. */
export async function advicePage(root: HTMLElement, route: Route, session: Session): Promise<void> {
  const { tenant, picker } = await pageTenant(route, session, 'advice');
  const head = el('div', { class: 'dash-head' }, el('h1', { text: 'Advice' }), el('div', { class: 'spacer' }), picker);
  if (!tenant) {
    root.replaceChildren(head, el('p', { class: 'muted', text: 'No tenant has data yet.' }));
    return;
  }
  const body = await api<{ window: { from: string; to: string; daysObserved: number }; advice: Advice[] }>(
    `/api/v1/advice${query({ ...tenantParam(session, tenant), days: 30 })}`,
  );
  const from = Date.parse(body.window.from);
  const to = Date.parse(body.window.to);
  const total = body.advice.reduce((a, x) => a + x.monthlySavings, 0);
  const cards = body.advice.map((a) => {
    const filters: Record<string, string> = { from: String(from), to: String(to) };
    if (session.tenant === '*') filters.tenant = tenant;
    for (const k of ['service', 'feature', 'provider', 'model'] as const) if (a[k]) filters[k] = a[k];
    const basis = Object.entries(a.basis)
      .filter(([, v]) => typeof v !== 'object')
      .map(([k, v]) => el('li', { text: `${k}: ${String(v)}` }));
    return el(
      'section',
      { class: 'card advice', 'data-kind': a.kind },
      el('h2', { text: a.title }),
      el('p', {
        class: 'saving',
        'data-field': 'saving',
        text: `saves about ${usd(a.monthlySavings)} a month`,
      }),
      el('p', {
        class: 'muted',
        text: [a.service, a.feature, `${a.provider}/${a.model}`].filter(Boolean).join(' · '),
      }),
      el('ul', { class: 'basis' }, ...basis),
      el('a', {
        href: href('calls', [], new URLSearchParams(filters)),
        'data-action': 'calls',
        text: 'The calls behind it →',
      }),
    );
  });
  root.replaceChildren(
    head,
    el('p', {
      class: 'muted',
      text: `From ${body.window.daysObserved} days of this tenant's traffic (${body.window.from.slice(0, 10)} to ${body.window.to.slice(0, 10)}): ${body.advice.length} suggestions, about ${usd(total)} a month in all.`,
    }),
    body.advice.length
      ? el('div', { class: 'cards' }, ...cards)
      : el('p', { class: 'muted', text: 'Nothing to suggest: no saving found in this traffic.' }),
  );
}
