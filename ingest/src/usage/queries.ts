import { isoDay } from '../budgets/period.js';
import type { Store } from '../store/client.js';
import { readRows } from './read.js';

/**
 * The usage queries, over the rollups (`ai_usage_daily`, `ai_usage_hourly`), read with sum()
 * and GROUP BY so they never depend on merges. Identifiers come from the fixed lists below;
 * every value is a bound parameter.
 */
export const GROUP_BY = {
  model: 'model',
  provider: 'provider',
  service: 'service',
  user: 'user_id',
  team: 'team',
  feature: 'feature',
} as const;
export type GroupBy = keyof typeof GROUP_BY;
export const GROUP_BY_NAMES = Object.keys(GROUP_BY) as GroupBy[];

/** The measures, summed. Keys are API field names; values the rollup columns. */
const MEASURES = {
  requests: 'requests',
  errors: 'errors',
  unpricedRequests: 'unpriced_requests',
  inputTokens: 'input_tokens',
  outputTokens: 'output_tokens',
  cacheReadTokens: 'cache_read_tokens',
  cacheWriteTokens: 'cache_write_tokens',
  reasoningTokens: 'reasoning_tokens',
  costUsd: 'cost_usd',
} as const;
type Measure = keyof typeof MEASURES;
const MEASURE_NAMES = Object.keys(MEASURES) as Measure[];

export interface Totals {
  requests: number;
  errors: number;
  unpricedRequests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  /** Exact decimal string. */
  costUsd: string;
}

export function emptyTotals(): Totals {
  return {
    requests: 0,
    errors: 0,
    unpricedRequests: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costUsd: '0',
  };
}

/** Filters every usage query accepts: an empty value means "any". */
export interface UsageFilters {
  model: string;
  provider: string;
  service: string;
  user: string;
  team: string;
  feature: string;
}
export const FILTER_NAMES: (keyof UsageFilters)[] = ['model', 'provider', 'service', 'user', 'team', 'feature'];

const FILTER_SQL = FILTER_NAMES.map((f) => `({f_${f}:String} = '' OR ${GROUP_BY[f]} = {f_${f}:String})`).join(' AND ');

function filterParams(f: UsageFilters): Record<string, string> {
  return Object.fromEntries(FILTER_NAMES.map((k) => [`f_${k}`, f[k]]));
}

function measureSql(prefix: string, cond: string | undefined): string {
  return MEASURE_NAMES.map((m) => {
    const col = MEASURES[m];
    const agg = cond ? `sumIf(${col}, ${cond})` : `sum(${col})`;
    return m === 'costUsd' ? `toString(${agg}) AS ${prefix}${m}` : `${agg} AS ${prefix}${m}`;
  }).join(',\n  ');
}

function totalsOf(row: Record<string, unknown>, prefix: string): Totals {
  const t = emptyTotals();
  for (const m of MEASURE_NAMES) {
    const v = row[`${prefix}${m}`];
    if (m === 'costUsd') t.costUsd = trimZeros(String(v ?? '0'));
    else t[m] = Number(v ?? 0);
  }
  return t;
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

export interface SummaryRow {
  key: string;
  period: Totals;
  today: Totals;
  allTime: Totals;
}

/** Totals for the period, today and all time, overall or by one dimension. */
export async function usageSummary(
  store: Store,
  q: { tenant: string; periodStart: Date; periodEnd: Date; today: Date; groupBy?: GroupBy; filters: UsageFilters },
): Promise<SummaryRow[]> {
  const key = q.groupBy ? GROUP_BY[q.groupBy] : `''`;
  const sql = `
SELECT ${key} AS key,
  ${measureSql('p_', 'day >= {period_start:Date} AND day < {period_end:Date}')},
  ${measureSql('d_', 'day = {today:Date}')},
  ${measureSql('a_', undefined)}
FROM ai_usage_daily
WHERE tenant = {tenant:String} AND ${FILTER_SQL}
GROUP BY key
ORDER BY sum(cost_usd) DESC, key`;
  const rows = await readRows<Record<string, unknown>>(store, sql, {
    tenant: q.tenant,
    period_start: isoDay(q.periodStart),
    period_end: isoDay(q.periodEnd),
    today: isoDay(q.today),
    ...filterParams(q.filters),
  });
  return rows.map((r) => ({
    key: String(r.key),
    period: totalsOf(r, 'p_'),
    today: totalsOf(r, 'd_'),
    allTime: totalsOf(r, 'a_'),
  }));
}

export interface DailyRow extends Totals {
  day: string;
  key: string;
}

/** One row per day (and group) with usage in [from, to] (both inclusive). */
export async function usageDaily(
  store: Store,
  q: { tenant: string; from: Date; to: Date; groupBy?: GroupBy; filters: UsageFilters },
): Promise<DailyRow[]> {
  const key = q.groupBy ? GROUP_BY[q.groupBy] : `''`;
  const sql = `
SELECT toString(day) AS day_text, ${key} AS key,
  ${measureSql('', undefined)}
FROM ai_usage_daily
WHERE tenant = {tenant:String} AND day >= {from:Date} AND day <= {to:Date} AND ${FILTER_SQL}
GROUP BY day, key
ORDER BY day, key`;
  const rows = await readRows<Record<string, unknown>>(store, sql, {
    tenant: q.tenant,
    from: isoDay(q.from),
    to: isoDay(q.to),
    ...filterParams(q.filters),
  });
  return rows.map((r) => ({ day: String(r.day_text), key: String(r.key), ...totalsOf(r, '') }));
}

/** Usage in [from, to) from the hourly rollup (partial days: projection, the current hour). */
export async function usageBetween(
  store: Store,
  q: { tenant: string; from: Date; to: Date; filters: UsageFilters },
): Promise<Totals> {
  const sql = `
SELECT ${measureSql('', undefined)}
FROM ai_usage_hourly
WHERE tenant = {tenant:String} AND hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')} AND ${FILTER_SQL}`;
  const [row] = await readRows<Record<string, unknown>>(store, sql, {
    tenant: q.tenant,
    from: Math.floor(q.from.getTime() / 1000),
    to: Math.floor(q.to.getTime() / 1000),
    ...filterParams(q.filters),
  });
  return row ? totalsOf(row, '') : emptyTotals();
}

/** Spend per hour in [from, to), hours with no usage left out. */
export async function hourlySpend(
  store: Store,
  q: { tenant: string; from: Date; to: Date; filters: UsageFilters },
): Promise<{ hour: number; costUsd: number }[]> {
  const sql = `
SELECT toUnixTimestamp(hour) AS hour, toFloat64(sum(cost_usd)) AS cost
FROM ai_usage_hourly
WHERE tenant = {tenant:String} AND hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')} AND ${FILTER_SQL}
GROUP BY hour ORDER BY hour`;
  const rows = await readRows<{ hour: number; cost: number }>(store, sql, {
    tenant: q.tenant,
    from: Math.floor(q.from.getTime() / 1000),
    to: Math.floor(q.to.getTime() / 1000),
    ...filterParams(q.filters),
  });
  return rows.map((r) => ({ hour: Number(r.hour) * 1000, costUsd: Number(r.cost) }));
}

export interface CallDistribution {
  calls: number;
  /** Tokens per call (input + output), quantiles and variance. */
  tokensP10: number;
  tokensP50: number;
  tokensP90: number;
  tokensVariance: number;
  inputTokensP50: number;
  outputTokensP50: number;
  /** Cost per priced call, USD. */
  costP10: number;
  costP50: number;
  costP90: number;
}

/**
 * The per-call distribution of tokens and cost over a trailing window. Rollups keep sums, not
 * per-call shapes, so this one reads `ai_calls`, bounded by tenant and time (its primary key).
 */
export async function callDistribution(
  store: Store,
  q: { tenant: string; from: Date; to: Date; filters: UsageFilters },
): Promise<CallDistribution> {
  const sql = `
SELECT count() AS calls,
  quantilesExact(0.1, 0.5, 0.9)(input_tokens + output_tokens) AS tq,
  varPop(toFloat64(input_tokens + output_tokens)) AS tvar,
  quantileExact(0.5)(input_tokens) AS in50,
  quantileExact(0.5)(output_tokens) AS out50,
  quantilesExactIf(0.1, 0.5, 0.9)(toFloat64(assumeNotNull(cost_usd)), priced) AS cq
FROM ai_calls
WHERE tenant = {tenant:String} AND timestamp >= {from:DateTime64(3, 'UTC')} AND timestamp < {to:DateTime64(3, 'UTC')}
  AND status != 'error' AND ${FILTER_SQL}`;
  const [r] = await readRows<{ calls: string; tq: number[]; tvar: number; in50: string; out50: string; cq: number[] }>(
    store,
    sql,
    {
      tenant: q.tenant,
      from: q.from.getTime() / 1000,
      to: q.to.getTime() / 1000,
      ...filterParams(q.filters),
    },
  );
  const n = Number(r?.calls ?? 0);
  const num = (v: unknown) => (Number.isFinite(Number(v)) ? Number(v) : 0);
  return {
    calls: n,
    tokensP10: num(r?.tq[0]),
    tokensP50: num(r?.tq[1]),
    tokensP90: num(r?.tq[2]),
    tokensVariance: n > 0 ? num(r?.tvar) : 0,
    inputTokensP50: num(r?.in50),
    outputTokensP50: num(r?.out50),
    costP10: num(r?.cq[0]),
    costP50: num(r?.cq[1]),
    costP90: num(r?.cq[2]),
  };
}
