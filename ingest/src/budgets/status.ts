import { formatScaled, parseUsd } from '@tokenmeter/instrumentation/prices';
import type { Store } from '../store/client.js';
import { readRows } from '../usage/read.js';
import { isoDay, periodBounds } from './period.js';
import type { Budget, BudgetMode, BudgetStatus, Period } from './types.js';

/** The configured default per-user budget (TOKENMETER_DEFAULT_USER_BUDGET_*), applied to users without one of their own. */
export interface DefaultUserBudget {
  amountUsd: string;
  period: Period;
  mode: BudgetMode;
  thresholds: number[];
}

export const DEFAULT_USER_BUDGET_ID = 'default-user';

/** Percent and crossed thresholds of a spend against a budget (pure, exact decimal comparison). */
export function budgetStatus(budget: Budget, spendUsd: string, now: Date): BudgetStatus {
  const { start, end } = periodBounds(budget.period, now);
  const spend = parseUsd(spendUsd);
  const amount = parseUsd(budget.amountUsd);
  // Costs are never negative, so a negative sum can only be a sum that wrapped (rows written
  // before costs were bounded at the door): read it as spent through, never as a credit.
  const wrapped = spend < 0n;
  const crossed = budget.thresholds.filter((t) => wrapped || spend * 100n >= amount * BigInt(t));
  // Percent to two decimals, computed on the exact integers.
  const percent = wrapped
    ? Math.max(100, ...budget.thresholds)
    : amount === 0n
      ? 0
      : Number((spend * 10_000n) / amount) / 100;
  return { budget, periodStart: start, periodEnd: end, spendUsd: formatScaled(spend), percent, crossed };
}

/**
 * The calls a budget's scope counts, and the rollup that holds them: a scope naming a user reads
 * the per-user daily rollup (its key starts with the user), any other the coarse daily rollup
 * (no user). Shared by a budget's spend and its forecast. A model budget counts the alias and
 * its dated snapshots (gpt-4o-mini-2024-07-18), as the guard matches.
 */
export function scopeSource(scope: { user: string }): { table: string; where: string } {
  return scope.user
    ? { table: 'ai_user_daily', where: `user_id = {user:String}\n  AND ${SCOPE_SQL}` }
    : { table: 'ai_rollup_daily', where: SCOPE_SQL };
}

const SCOPE_SQL = `({team:String} = '' OR team = {team:String})
  AND ({feature:String} = '' OR feature = {feature:String})
  AND ({model:String} = '' OR model = {model:String}
       OR (startsWith(model, concat({model:String}, '-'))
           AND match(substring(model, length({model:String}) + 2), '^20[0-9]{2}-?[0-9]{2}-?[0-9]{2}$')))`;

const spendSql = (src: { table: string; where: string }) => `
SELECT toString(sum(cost_usd)) AS spend
FROM ${src.table}
WHERE tenant = {tenant:String} AND day >= {start:Date} AND day < {end:Date}
  AND ${src.where}`;

/** Spend of each budget in its current period, from the daily rollups. */
export async function budgetStatuses(store: Store, budgets: readonly Budget[], now: Date): Promise<BudgetStatus[]> {
  const out: BudgetStatus[] = [];
  for (const b of budgets) {
    const { start, end } = periodBounds(b.period, now);
    const [row] = await readRows<{ spend: string }>(store, spendSql(scopeSource(b.scope)), {
      tenant: b.tenant,
      start: isoDay(start),
      end: isoDay(end),
      ...b.scope,
    });
    out.push(budgetStatus(b, row?.spend ?? '0', now));
  }
  return out;
}

const USER_SPEND = `
SELECT tenant, user_id, toString(sum(cost_usd)) AS spend
FROM ai_user_daily
WHERE ({all:UInt8} = 1 OR tenant = {tenant:String}) AND day >= {start:Date} AND day < {end:Date}
  AND user_id != '' AND ({user:String} = '' OR user_id = {user:String})
GROUP BY tenant, user_id
HAVING sum(cost_usd) >= toDecimal128({min:String}, 12)
ORDER BY tenant, user_id`;

/**
 * The default per-user budget as virtual budgets, one per user who has spent at least its lowest
 * threshold and has no user budget of their own (`explicit` holds `tenant\0user`).
 */
export async function defaultUserStatuses(
  store: Store,
  def: DefaultUserBudget,
  opts: { tenant?: string; user?: string; explicit: ReadonlySet<string>; now: Date; minPercent?: number },
): Promise<BudgetStatus[]> {
  const { start, end } = periodBounds(def.period, opts.now);
  const minPercent = opts.minPercent ?? Math.min(...def.thresholds);
  const min = formatScaled((parseUsd(def.amountUsd) * BigInt(Math.round(minPercent * 100))) / 10_000n);
  const rows = await readRows<{ tenant: string; user_id: string; spend: string }>(store, USER_SPEND, {
    all: opts.tenant === undefined ? 1 : 0,
    tenant: opts.tenant ?? '',
    start: isoDay(start),
    end: isoDay(end),
    user: opts.user ?? '',
    min,
  });
  return rows
    .filter((r) => !opts.explicit.has(`${r.tenant}\0${r.user_id}`))
    .map((r) => budgetStatus(defaultUserBudget(def, r.tenant, r.user_id), r.spend, opts.now));
}

export function defaultUserBudget(def: DefaultUserBudget, tenant: string, user: string): Budget {
  return {
    id: DEFAULT_USER_BUDGET_ID,
    tenant,
    name: 'default per-user budget',
    scope: { team: '', user, feature: '', model: '' },
    period: def.period,
    amountUsd: def.amountUsd,
    mode: def.mode,
    thresholds: def.thresholds,
    createdAt: new Date(0).toISOString(),
    updatedAt: new Date(0).toISOString(),
  };
}

/** Budgets that name exactly one user and nothing else: they replace the default for that user. */
export function explicitUserKeys(budgets: readonly Budget[]): Set<string> {
  return new Set(
    budgets
      .filter((b) => b.scope.user !== '' && !b.scope.team && !b.scope.feature && !b.scope.model)
      .map((b) => `${b.tenant}\0${b.scope.user}`),
  );
}

/** Every status for a tenant (or all): stored budgets plus the default per-user budget. */
export async function allStatuses(
  store: Store,
  budgets: readonly Budget[],
  def: DefaultUserBudget | undefined,
  now: Date,
  tenant?: string,
): Promise<BudgetStatus[]> {
  const statuses = await budgetStatuses(store, budgets, now);
  if (def) {
    statuses.push(...(await defaultUserStatuses(store, def, { tenant, explicit: explicitUserKeys(budgets), now })));
  }
  return statuses;
}
