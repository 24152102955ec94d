import { formatScaled, parseUsd } from '@tokenmeter/instrumentation/prices';
import type { Store } from '../store/client.js';
import { NO_PROJECTIONS, readRows } from '../usage/read.js';
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
 * The spend per day of many budgets, each over its own [from, to), in one query (issue 13: one
 * query per budget made a tenant's status cost a round trip per budget). Each rollup row counts
 * for every budget whose scope it matches: budgets without a user from the coarse daily rollup
 * (no user), budgets naming a user from the per-user one (those users' key ranges only); an empty
 * scope field matches all, and a model budget counts the alias and its dated snapshots
 * (gpt-4o-mini-2024-07-18), as the guard matches. Returns, per budget index, the exact decimal spend of each day ('YYYY-MM-DD').
 */
export async function budgetDailySpend(
  store: Store,
  windows: readonly { budget: Budget; from: Date; to: Date }[],
): Promise<Map<string, bigint>[]> {
  const out = windows.map(() => new Map<string, bigint>());
  if (windows.length === 0) return out;
  const col = (f: (w: (typeof windows)[number]) => string) => windows.map(f);
  const rows = await readRows<{ i: number; d: string; spend: string }>(store, BUDGET_DAILY_SPEND, {
    tenants: col((w) => w.budget.tenant),
    users: col((w) => w.budget.scope.user),
    teams: col((w) => w.budget.scope.team),
    features: col((w) => w.budget.scope.feature),
    models: col((w) => w.budget.scope.model),
    starts: col((w) => isoDay(w.from)),
    ends: col((w) => isoDay(w.to)),
    lo: isoDay(new Date(Math.min(...windows.map((w) => w.from.getTime())))),
    hi: isoDay(new Date(Math.max(...windows.map((w) => w.to.getTime())))),
  });
  for (const r of rows) out[Number(r.i) - 1]?.set(r.d, parseUsd(r.spend));
  return out;
}

/** Budget i's tenant, period and scope (team, feature, model), matched on a rollup row. */
const MATCHES_I = `tenant = {tenants:Array(String)}[i]
      AND day >= toDate({starts:Array(String)}[i]) AND day < toDate({ends:Array(String)}[i])
      AND ({teams:Array(String)}[i] = '' OR team = {teams:Array(String)}[i])
      AND ({features:Array(String)}[i] = '' OR feature = {features:Array(String)}[i])
      AND ({models:Array(String)}[i] = '' OR model = {models:Array(String)}[i]
           OR (startsWith(model, concat({models:Array(String)}[i], '-'))
               AND match(substring(model, length({models:Array(String)}[i]) + 2), '^20[0-9]{2}-?[0-9]{2}-?[0-9]{2}$')))`;

const BUDGET_DAILY_SPEND = `
SELECT i, toString(day) AS d, toString(sum(cost_usd)) AS spend
FROM (
  SELECT arrayJoin(arrayFilter(i -> {users:Array(String)}[i] = '' AND ${MATCHES_I},
    arrayEnumerate({users:Array(String)}))) AS i, day, cost_usd
  FROM ai_rollup_daily
  WHERE tenant IN {tenants:Array(String)} AND day >= {lo:Date} AND day < {hi:Date}
  UNION ALL
  SELECT arrayJoin(arrayFilter(i -> {users:Array(String)}[i] = user_id AND ${MATCHES_I},
    arrayEnumerate({users:Array(String)}))) AS i, day, cost_usd
  FROM ai_user_daily
  WHERE tenant IN {tenants:Array(String)} AND user_id IN {users:Array(String)} AND user_id != ''
    AND day >= {lo:Date} AND day < {hi:Date}
)
GROUP BY i, day
${NO_PROJECTIONS}`;

/** The window a budget's status sums: its current period. */
export function periodWindow(budget: Budget, now: Date): { budget: Budget; from: Date; to: Date } {
  const { start, end } = periodBounds(budget.period, now);
  return { budget, from: start, to: end };
}

/** Each budget's status from the daily spend of its period window (`budgetDailySpend`'s answer). */
export function statusesOf(
  budgets: readonly Budget[],
  daily: readonly Map<string, bigint>[],
  now: Date,
): BudgetStatus[] {
  return budgets.map((b, i) => {
    let spend = 0n;
    for (const v of daily[i]?.values() ?? []) spend += v;
    return budgetStatus(b, formatScaled(spend), now);
  });
}

/** Spend of each budget in its current period, from the daily rollups (one query for all). */
export async function budgetStatuses(store: Store, budgets: readonly Budget[], now: Date): Promise<BudgetStatus[]> {
  const daily = await budgetDailySpend(
    store,
    budgets.map((b) => periodWindow(b, now)),
  );
  return statusesOf(budgets, daily, now);
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
