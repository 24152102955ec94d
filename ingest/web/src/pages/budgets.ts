import { ApiError, api, query, type Session } from '../api.js';
import { confirmButton, el } from '../dom.js';
import { formatValue } from '../format.js';
import type { Route } from '../route.js';
import { pageTenant, tenantParam } from './tenant.js';

interface Projection {
  projectedUsd: number;
  projectedPercent: number;
  lowUsd: number;
  highUsd: number;
  basedOnDays: number;
  method: string;
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
  projection?: Projection;
}

const SCOPE_FIELDS = ['team', 'user', 'feature', 'model'] as const;
const usd = (v: string | number) => formatValue(Number(v), { unit: 'currencyUSD', decimals: 2 });

/** The spend and end-of-period projection of a budget, as the service computed them. */
function spendText(b: BudgetWithStatus): string {
  return `${usd(b.status.spendUsd)} of ${usd(b.amountUsd)} (${b.status.percent.toFixed(1)}%)`;
}
function projectionText(p: Projection | undefined): string {
  if (!p) return '–';
  const band = p.highUsd > p.lowUsd ? `, likely ${usd(p.lowUsd)}–${usd(p.highUsd)}` : '';
  return `${usd(p.projectedUsd)} (${p.projectedPercent.toFixed(0)}%)${band}, from ${p.basedOnDays} days`;
}

/**
 * Budgets: period, spend, a percentage bar, the service's projection to period end, alert
 * history; for an admin key, a form to create, edit and delete them with the projection
 * previewed while typing (POST /api/v1/budgets/preview, the same code as the list).
 */
export async function budgetsPage(root: HTMLElement, route: Route, session: Session): Promise<void> {
  const { tenant, picker } = await pageTenant(route, session, 'budgets');
  const head = el('div', { class: 'dash-head' }, el('h1', { text: 'Budgets' }), el('div', { class: 'spacer' }), picker);
  if (!tenant) {
    root.replaceChildren(head, el('p', { class: 'muted', text: 'No tenant has data yet.' }));
    return;
  }
  const t = tenantParam(session, tenant);
  const [{ budgets }, alerts] = await Promise.all([
    api<{ budgets: BudgetWithStatus[] }>(`/api/v1/budgets${query(t)}`),
    api<{ events: Record<string, unknown>[] }>(`/api/v1/alerts${query({ ...t, limit: 500 })}`).catch(() => ({
      events: [],
    })),
  ]);
  const reload = () => budgetsPage(root, route, session);
  const editorSlot = el('div', { class: 'editor-slot' });
  const openEditor = (b?: BudgetWithStatus) =>
    editorSlot.replaceChildren(budgetEditor(session, tenant, b, reload, () => editorSlot.replaceChildren()));
  if (session.can.editBudgets) {
    const create = el('button', {
      class: 'btn primary',
      type: 'button',
      'data-action': 'new-budget',
      text: 'New budget',
    });
    create.addEventListener('click', () => openEditor());
    head.append(create);
  }
  const cards = budgets.map((b) => {
    const pct = b.status.percent;
    const bar = el('div', { class: 'bar-fill' });
    bar.style.width = `${Math.min(100, pct)}%`;
    bar.style.background = pct >= 100 ? '#e24d42' : pct >= 75 ? '#eab839' : '#7eb26d';
    const scope = Object.entries(b.scope)
      .filter(([, v]) => v)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const history = alerts.events.filter((e) => e.budget_id === b.id);
    const actions = session.can.editBudgets ? budgetActions(b, session, tenant, () => openEditor(b), reload) : '';
    return el(
      'section',
      { class: 'card budget', 'data-budget': b.id, 'data-name': b.name },
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
        el('dd', { 'data-field': 'spend', text: spendText(b) }),
        el('dt', { text: 'projected at period end' }),
        el('dd', { 'data-field': 'projection', title: b.projection?.method ?? '', text: projectionText(b.projection) }),
        el('dt', { text: 'thresholds' }),
        el('dd', {
          'data-field': 'thresholds',
          text: b.thresholds.map((x) => `${x}%${b.status.crossed.includes(x) ? ' ✓' : ''}`).join('  '),
        }),
      ),
      actions,
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
    editorSlot,
    budgets.length
      ? el('div', { class: 'cards' }, ...cards)
      : el('p', { class: 'muted', text: 'No budgets in this tenant.' }),
  );
}

/** Edit and delete (a second click confirms the delete). */
function budgetActions(
  b: BudgetWithStatus,
  session: Session,
  tenant: string,
  edit: () => void,
  reload: () => Promise<void>,
): HTMLElement {
  const editBtn = el('button', { class: 'btn', type: 'button', 'data-action': 'edit', text: 'Edit' });
  editBtn.addEventListener('click', edit);
  const error = el('span', { class: 'form-error', role: 'alert' });
  const del = confirmButton(
    'Delete',
    'Really delete?',
    'delete',
    () =>
      api(`/api/v1/budgets/${encodeURIComponent(b.id)}${query(tenantParam(session, tenant))}`, {
        method: 'DELETE',
      }).then(reload),
    (err) => {
      error.textContent = err.message;
    },
  );
  return el('div', { class: 'actions' }, editBtn, del, error);
}

/** The create/edit form: every field the API takes, the projection previewed as you type. */
function budgetEditor(
  session: Session,
  tenant: string,
  budget: BudgetWithStatus | undefined,
  onSaved: () => Promise<void>,
  onCancel: () => void,
): HTMLElement {
  const input = (name: string, label: string, value: string, attrs: Record<string, string> = {}) => {
    const i = el('input', { name, value, autocomplete: 'off', 'aria-label': label, ...attrs });
    return { i, field: el('label', { class: 'field' }, el('span', { text: label }), i) };
  };
  const select = (name: string, label: string, options: string[], value: string) => {
    const s = el('select', { name, 'aria-label': label }, ...options.map((o) => el('option', { value: o, text: o })));
    s.value = value;
    return { i: s, field: el('label', { class: 'field' }, el('span', { text: label }), s) };
  };
  const name = input('name', 'Name', budget?.name ?? '', { placeholder: 'e.g. Search team monthly' });
  const scope = SCOPE_FIELDS.map((f) => input(f, `Scope: ${f}`, budget?.scope[f] ?? '', { placeholder: 'any' }));
  const period = select('period', 'Period', ['month', 'week', 'day'], budget?.period ?? 'month');
  const amount = input('amountUsd', 'Amount (USD)', budget?.amountUsd ?? '', {
    inputmode: 'decimal',
    placeholder: '100',
  });
  const mode = select('mode', 'Mode', ['soft', 'hard'], budget?.mode ?? 'soft');
  const thresholds = input('thresholds', 'Thresholds (%)', (budget?.thresholds ?? [75, 90, 100]).join(', '));
  const preview = el('p', { class: 'preview', 'data-field': 'preview', 'data-state': 'idle', text: ' ' });
  const error = el('p', { class: 'form-error', role: 'alert' });
  const save = el('button', { class: 'btn primary', type: 'submit', text: budget ? 'Save changes' : 'Create budget' });
  const cancel = el('button', { class: 'btn', type: 'button', text: 'Cancel' });
  cancel.addEventListener('click', () => {
    stopPreview();
    onCancel();
  });

  const body = () => {
    const list = thresholds.i.value
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((x) => (/^\d+$/.test(x) ? Number(x) : x));
    return {
      ...(session.tenant === '*' ? { tenant } : {}),
      ...(budget ? { id: budget.id } : {}),
      name: name.i.value.trim(),
      scope: Object.fromEntries(SCOPE_FIELDS.map((f, k) => [f, scope[k]!.i.value.trim()])),
      period: period.i.value,
      amountUsd: amount.i.value.trim(),
      mode: mode.i.value,
      thresholds: list,
    };
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  let inflight: AbortController | undefined;
  // Once the form is saved or closed, no preview may follow it: a late one would name a
  // budget that the next click may already have deleted (a 404 in the console).
  const stopPreview = () => {
    clearTimeout(timer);
    inflight?.abort();
  };
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      inflight?.abort();
      const mine = new AbortController();
      inflight = mine;
      preview.dataset.state = 'loading';
      api<BudgetWithStatus>('/api/v1/budgets/preview', { method: 'POST', body: body(), signal: mine.signal })
        .then((b) => {
          if (mine.signal.aborted) return;
          preview.dataset.state = 'ready';
          preview.textContent = `Spent this ${b.period}: ${spendText(b)} · projected at period end: ${projectionText(b.projection)}`;
          error.textContent = '';
        })
        .catch((err: unknown) => {
          if (mine.signal.aborted) return;
          preview.dataset.state = 'invalid';
          preview.textContent = err instanceof ApiError && err.status === 400 ? `Not yet valid: ${err.message}` : '';
          if (!(err instanceof ApiError && err.status === 400)) error.textContent = (err as Error).message;
        });
    }, 200);
  };

  const form = el(
    'form',
    { class: 'card editor', 'data-form': 'budget' },
    el('h2', { text: budget ? `Edit ${budget.name || 'budget'}` : 'New budget' }),
    el(
      'div',
      { class: 'fields' },
      name.field,
      ...scope.map((s) => s.field),
      period.field,
      amount.field,
      mode.field,
      thresholds.field,
    ),
    preview,
    el('div', { class: 'actions' }, save, cancel),
    error,
  );
  form.addEventListener('input', refresh);
  form.addEventListener('change', refresh);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    stopPreview();
    save.disabled = true;
    error.textContent = '';
    const path = budget ? `/api/v1/budgets/${encodeURIComponent(budget.id)}` : '/api/v1/budgets';
    api(path, { method: budget ? 'PUT' : 'POST', body: body() })
      .then(onSaved)
      .catch((err: unknown) => {
        save.disabled = false;
        error.textContent = (err as Error).message;
      });
  });
  refresh();
  return form;
}
