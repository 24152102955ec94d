import { randomUUID } from 'node:crypto';
import { insertSettings, type Store } from '../store/client.js';
import { readRows } from '../usage/read.js';
import type { BudgetInput } from './parse.js';
import type { Budget, BudgetMode, Period } from './types.js';

/**
 * The `budgets` table: versioned rows (ReplacingMergeTree(updated_at)); the latest version of
 * an id wins and `deleted = 1` removes it. Reads take the latest version with LIMIT 1 BY, so
 * they never depend on merges having run.
 */
interface BudgetRow {
  id: string;
  tenant: string;
  name: string;
  scope_team: string;
  scope_user: string;
  scope_feature: string;
  scope_model: string;
  period: string;
  amount_usd: string;
  mode: string;
  thresholds: number[];
  created_at: string;
  updated_at: string;
  deleted: number;
}

const LATEST = `
SELECT id, tenant, name, scope_team, scope_user, scope_feature, scope_model, period,
       toString(amount_usd) AS amount_usd, mode, thresholds,
       toString(created_at) AS created_at, toString(updated_at) AS updated_at, deleted
FROM (
  SELECT * FROM budgets
  WHERE ({all:UInt8} = 1 OR tenant = {tenant:String}) AND ({id:String} = '' OR id = {id:String})
  ORDER BY updated_at DESC
  LIMIT 1 BY tenant, id
)
WHERE deleted = 0
ORDER BY tenant, id`;

function toBudget(r: BudgetRow): Budget {
  return {
    id: r.id,
    tenant: r.tenant,
    name: r.name,
    scope: { team: r.scope_team, user: r.scope_user, feature: r.scope_feature, model: r.scope_model },
    period: r.period as Period,
    amountUsd: trimDecimal(r.amount_usd),
    mode: r.mode as BudgetMode,
    thresholds: r.thresholds.map(Number),
    createdAt: isoUtc(r.created_at),
    updatedAt: isoUtc(r.updated_at),
  };
}

export function trimDecimal(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

function isoUtc(chTime: string): string {
  return new Date(`${chTime.replace(' ', 'T')}Z`).toISOString();
}

export async function listBudgets(store: Store, tenant: string | undefined, id = ''): Promise<Budget[]> {
  const rows = await readRows<BudgetRow>(store, LATEST, {
    all: tenant === undefined ? 1 : 0,
    tenant: tenant ?? '',
    id,
  });
  return rows.map(toBudget);
}

export async function getBudget(store: Store, tenant: string, id: string): Promise<Budget | undefined> {
  return (await listBudgets(store, tenant, id))[0];
}

/** Create (no `existing`) or replace a budget: a new version row. */
export async function putBudget(
  store: Store,
  tenant: string,
  input: BudgetInput,
  existing?: Budget,
  now = new Date(),
): Promise<Budget> {
  const updated = nextVersion(existing, now);
  const budget: Budget = {
    id: existing?.id ?? `b_${randomUUID().replace(/-/g, '').slice(0, 16)}`,
    tenant,
    ...input,
    createdAt: existing?.createdAt ?? updated.toISOString(),
    updatedAt: updated.toISOString(),
  };
  await writeRow(store, budget, 0);
  return budget;
}

export async function deleteBudget(store: Store, existing: Budget, now = new Date()): Promise<void> {
  await writeRow(store, { ...existing, updatedAt: nextVersion(existing, now).toISOString() }, 1);
}

/** A version strictly after the previous one, so the latest always wins even within a millisecond. */
function nextVersion(existing: Budget | undefined, now: Date): Date {
  const prev = existing ? Date.parse(existing.updatedAt) : 0;
  return new Date(Math.max(now.getTime(), prev + 1));
}

async function writeRow(store: Store, b: Budget, deleted: 0 | 1): Promise<void> {
  const row: BudgetRow = {
    id: b.id,
    tenant: b.tenant,
    name: b.name,
    scope_team: b.scope.team,
    scope_user: b.scope.user,
    scope_feature: b.scope.feature,
    scope_model: b.scope.model,
    period: b.period,
    amount_usd: b.amountUsd,
    mode: b.mode,
    thresholds: b.thresholds,
    created_at: b.createdAt,
    updated_at: b.updatedAt,
    deleted,
  };
  await store.writer.insert({
    table: `${store.database}.budgets`,
    format: 'JSONEachRow',
    values: [row],
    clickhouse_settings: insertSettings(`budget-${b.tenant}-${b.id}-${b.updatedAt}-${deleted}`),
  });
}
