import { formatScaled, parseUsd } from '@tokenmeter/instrumentation/prices';
import { isoDay } from '../budgets/period.js';
import type { Store } from '../store/client.js';
import { NO_PROJECTIONS, readRows } from './read.js';

/**
 * The usage queries, over the rollups, read with sum() and GROUP BY so they never depend on
 * merges. Each reads the smallest table that can answer it (`sourceOf`): the coarse
 * `ai_rollup_daily` / `ai_rollup_hourly` (no user), or `ai_user_daily` when a user is filtered
 * or grouped by (with a user filter, partial-day windows count whole UTC days). A query that filters or groups by a custom
 * property reads the raw `ai_calls` rows instead (properties are never in a rollup's key),
 * within raw retention and by its primary key (tenant, hour). Identifiers come from the fixed
 * lists below; every value — property names included — is a bound parameter.
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
/** A dimension to group by: a column of the rollups, or a custom property by name. */
export type Grouping = GroupBy | { property: string };

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

/** The same measures over raw `ai_calls` rows: what the rollups' materialized views sum. */
const RAW_MEASURES: Record<Measure, string> = {
  requests: 'toUInt64(1)',
  errors: "toUInt64(status = 'error')",
  unpricedRequests: 'toUInt64(NOT priced)',
  inputTokens: 'input_tokens',
  outputTokens: 'output_tokens',
  cacheReadTokens: 'cache_read_tokens',
  cacheWriteTokens: 'cache_write_tokens',
  reasoningTokens: 'reasoning_tokens',
  costUsd: 'ifNull(cost_usd, toDecimal128(0, 12))',
};

/** Where a query reads: a rollup, or raw calls (when a custom property is involved). */
interface Source {
  table: string;
  day: string;
  hour: string;
  measures: Record<Measure, string>;
}
const DAILY: Source = { table: 'ai_rollup_daily', day: 'day', hour: '', measures: MEASURES };
const HOURLY: Source = { table: 'ai_rollup_hourly', day: 'toDate(hour)', hour: 'hour', measures: MEASURES };
/** Per user and day: no hour, so hourly questions about one user count whole days. */
const USER_DAILY: Source = { table: 'ai_user_daily', day: 'day', hour: '', measures: MEASURES };
const RAW: Source = {
  table: 'ai_calls',
  day: 'toDate(timestamp)',
  hour: 'toStartOfHour(timestamp)',
  measures: RAW_MEASURES,
};

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
  /** Custom properties the calls must carry with these values (read from raw calls). */
  properties?: Record<string, string>;
}
export const FILTER_NAMES: (keyof Omit<UsageFilters, 'properties'>)[] = [
  'model',
  'provider',
  'service',
  'user',
  'team',
  'feature',
];

/**
 * The filters' WHERE clause and parameters (property conditions only for raw calls): a condition
 * for each filter given, none for the empty ones, so that a query naming no service, model, …
 * can be answered by an aggregate projection that lacks those columns. The coarse rollups have
 * no user_id: they are read only when the user filter is empty.
 */
function filterOf(f: UsageFilters, src: Source): { sql: string; params: Record<string, string> } {
  const names = FILTER_NAMES.filter((k) => f[k] !== '' && !(k === 'user' && (src === DAILY || src === HOURLY)));
  const params: Record<string, string> = Object.fromEntries(names.map((k) => [`f_${k}`, f[k]]));
  const conds = names.map((k) => `${GROUP_BY[k]} = {f_${k}:String}`);
  Object.entries(f.properties ?? {}).forEach(([name, value], i) => {
    conds.push(`properties[{fp_name_${i}:String}] = {fp_value_${i}:String}`);
    params[`fp_name_${i}`] = name;
    params[`fp_value_${i}`] = value;
  });
  return { sql: conds.length > 0 ? conds.join(' AND ') : '1', params };
}

/** True when the query must read raw calls: a custom property filters or groups it. */
function needsRaw(f: UsageFilters, g?: Grouping): boolean {
  return Object.keys(f.properties ?? {}).length > 0 || (g !== undefined && typeof g !== 'string');
}

/** The table a usage query reads: raw calls for properties, per user only when the question names users. */
function sourceOf(grain: 'daily' | 'hourly', f: UsageFilters, g?: Grouping): Source {
  if (needsRaw(f, g)) return RAW;
  if (f.user !== '' || g === 'user') return USER_DAILY;
  return grain === 'daily' ? DAILY : HOURLY;
}

/** The table name `sourceOf` picks (for tests and the docs). */
export function usageTable(grain: 'daily' | 'hourly', f: UsageFilters, g?: Grouping): string {
  return sourceOf(grain, f, g).table;
}

function groupKey(g: Grouping | undefined): { sql: string; params: Record<string, string> } {
  if (g === undefined) return { sql: `''`, params: {} };
  if (typeof g === 'string') return { sql: GROUP_BY[g], params: {} };
  return { sql: 'properties[{g_property:String}]', params: { g_property: g.property } };
}

function measureSql(src: Source, prefix: string, cond: string | undefined): string {
  return MEASURE_NAMES.map((m) => {
    const col = src.measures[m];
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
  q: { tenant: string; periodStart: Date; periodEnd: Date; today: Date; groupBy?: Grouping; filters: UsageFilters },
): Promise<SummaryRow[]> {
  const src = sourceOf('daily', q.filters, q.groupBy);
  const key = groupKey(q.groupBy);
  const where = filterOf(q.filters, src);
  const day = src.day;
  // Rollups: summed per key and day first, right on the table, so that ClickHouse answers from
  // ai_user_daily's projections: the months before the first one the period or today touch
  // (`split`) from by_user_month_sums (047, a row per user and month), the days from there on from
  // by_user_day_sums (038); the period, today and all time are then sums over those rows (a month's
  // row is before the period, so it counts for all time only). One user's summary reads that user's
  // key range of the table instead, and says so: weighing seven projections would cost more.
  const inner = MEASURE_NAMES.map((m) => `sum(${src.measures[m]}) AS m_${m}`).join(', ');
  const outer = (prefix: string, cond: string | undefined) =>
    MEASURE_NAMES.map((m) => {
      const agg = cond ? `sumIf(m_${m}, ${cond})` : `sum(m_${m})`;
      return m === 'costUsd' ? `toString(${agg}) AS ${prefix}${m}` : `${agg} AS ${prefix}${m}`;
    }).join(',\n  ');
  const oneUser = src === USER_DAILY && q.filters.user !== '';
  const rollupRows = (d: string, range: string) => `
  SELECT ${key.sql} AS key, ${d} AS d, ${inner}
  FROM ${src.table}
  WHERE tenant = {tenant:String} AND ${where.sql}${range}
  GROUP BY key, d`;
  const sql =
    src === RAW
      ? `
SELECT ${key.sql} AS key,
  ${measureSql(src, 'p_', `${day} >= {period_start:Date} AND ${day} < {period_end:Date}`)},
  ${measureSql(src, 'd_', `${day} = {today:Date}`)},
  ${measureSql(src, 'a_', undefined)}
FROM ${src.table}
WHERE tenant = {tenant:String} AND ${where.sql}
GROUP BY key
ORDER BY sum(${src.measures.costUsd}) DESC, key`
      : `
SELECT key,
  ${outer('p_', 'd >= {period_start:Date} AND d < {period_end:Date}')},
  ${outer('d_', 'd = {today:Date}')},
  ${outer('a_', undefined)}
FROM (${
          oneUser
            ? rollupRows(day, '')
            : `${rollupRows(`toStartOfMonth(${day})`, ` AND toStartOfMonth(${day}) < {split:Date}`)}
  UNION ALL${rollupRows(day, ` AND ${day} >= {split:Date}`)}`
        }
)
GROUP BY key
ORDER BY sum(m_costUsd) DESC, key${oneUser ? `\n${NO_PROJECTIONS}` : ''}`;
  const first = q.periodStart < q.today ? q.periodStart : q.today;
  const rows = await readRows<Record<string, unknown>>(store, sql, {
    tenant: q.tenant,
    period_start: isoDay(q.periodStart),
    period_end: isoDay(q.periodEnd),
    today: isoDay(q.today),
    split: isoDay(new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1))),
    ...where.params,
    ...key.params,
  });
  return rows.map((r) => ({
    key: String(r.key),
    period: totalsOf(r, 'p_'),
    today: totalsOf(r, 'd_'),
    allTime: totalsOf(r, 'a_'),
  }));
}

/** The sum of totals (cost as an exact decimal): what one row without a grouping holds. */
function addTotals(rows: readonly Totals[]): Totals {
  const t = emptyTotals();
  let cost = 0n;
  for (const r of rows) {
    for (const m of MEASURE_NAMES) if (m !== 'costUsd') t[m] += r[m];
    cost += parseUsd(r.costUsd);
  }
  t.costUsd = formatScaled(cost);
  return t;
}

/**
 * The summary without a grouping, from the rows of a grouping: every call is in exactly one
 * group (a call without the property is in the group ''), so the groups add up to the totals
 * and the API needs no second query for them.
 */
export function summaryTotals(rows: readonly SummaryRow[]): Omit<SummaryRow, 'key'> {
  return {
    period: addTotals(rows.map((r) => r.period)),
    today: addTotals(rows.map((r) => r.today)),
    allTime: addTotals(rows.map((r) => r.allTime)),
  };
}

export interface DailyRow extends Totals {
  day: string;
  key: string;
}

/** One row per day (and group) with usage in [from, to] (both inclusive). */
export async function usageDaily(
  store: Store,
  q: { tenant: string; from: Date; to: Date; groupBy?: Grouping; filters: UsageFilters },
): Promise<DailyRow[]> {
  const src = sourceOf('daily', q.filters, q.groupBy);
  const key = groupKey(q.groupBy);
  const where = filterOf(q.filters, src);
  // Raw rows: bound the hour (the table's key) too, so only the range's parts are read.
  const range =
    src === RAW
      ? `timestamp >= toDateTime({from:Date}, 'UTC') AND timestamp < toDateTime({to:Date}, 'UTC') + INTERVAL 1 DAY`
      : `day >= {from:Date} AND day <= {to:Date}`;
  const sql = `
SELECT toString(${src.day}) AS day_text, ${key.sql} AS key,
  ${measureSql(src, '', undefined)}
FROM ${src.table}
WHERE tenant = {tenant:String} AND ${range} AND ${where.sql}
GROUP BY day_text, key
ORDER BY day_text, key`;
  const rows = await readRows<Record<string, unknown>>(store, sql, {
    tenant: q.tenant,
    from: isoDay(q.from),
    to: isoDay(q.to),
    ...where.params,
    ...key.params,
  });
  return rows.map((r) => ({ day: String(r.day_text), key: String(r.key), ...totalsOf(r, '') }));
}

/**
 * Usage in [from, to) from the hourly rollup (partial days: projection, the current hour); with
 * a user filter from the per-user daily rollup, in the whole UTC days that [from, to) touches.
 */
export async function usageBetween(
  store: Store,
  q: { tenant: string; from: Date; to: Date; filters: UsageFilters },
): Promise<Totals> {
  const src = sourceOf('hourly', q.filters);
  const where = filterOf(q.filters, src);
  const time =
    src === USER_DAILY
      ? "day >= toDate({from:DateTime('UTC')}) AND day <= toDate({to:DateTime('UTC')} - 1)"
      : `${src.hour} >= {from:DateTime('UTC')} AND ${src.hour} < {to:DateTime('UTC')}`;
  const sql = `
SELECT ${measureSql(src, '', undefined)}
FROM ${src.table}
WHERE tenant = {tenant:String} AND ${time}
  AND ${where.sql}`;
  const [row] = await readRows<Record<string, unknown>>(store, sql, {
    tenant: q.tenant,
    from: Math.floor(q.from.getTime() / 1000),
    to: Math.floor(q.to.getTime() / 1000),
    ...where.params,
  });
  return row ? totalsOf(row, '') : emptyTotals();
}

export interface CallDistribution {
  /** The window the calls were read from: the trailing days that hold DISTRIBUTION_MIN_CALLS, at most the one asked for. */
  from: Date;
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
/**
 * The calls a distribution is read from when there are enough: the trailing whole UTC days that
 * hold this many matching calls (fewer days are read when the recent ones hold them).
 */
export const DISTRIBUTION_MIN_CALLS = 2000;

/**
 * The start of the shortest trailing window of whole UTC days (ending at `to`'s day) holding at
 * least DISTRIBUTION_MIN_CALLS matching calls that did not fail, counted in the rollups (the
 * per-user one when a user is filtered); `from` when the whole window holds fewer, or when a
 * custom property filters (no rollup holds properties). At 50 M calls over 90 days a tenant's 30
 * days are ~3 M raw calls; its last day already holds thousands for most filters. `calls`: how
 * many the whole window holds when fewer than that (undefined otherwise, or with a property).
 */
async function distributionStart(
  store: Store,
  q: { tenant: string; from: Date; to: Date; filters: UsageFilters },
): Promise<{ from: Date; calls: number | undefined }> {
  if (Object.keys(q.filters.properties ?? {}).length > 0) return { from: q.from, calls: undefined };
  const src = q.filters.user ? USER_DAILY : DAILY;
  const where = filterOf(q.filters, src);
  const days = await readRows<{ d: string; n: string }>(
    store,
    `SELECT toString(day) AS d, toString(sum(requests) - sum(errors)) AS n
FROM ${src.table}
WHERE tenant = {tenant:String} AND day >= {from:Date} AND day <= {to:Date} AND ${where.sql}
GROUP BY day
ORDER BY day DESC${q.filters.user ? `\n${NO_PROJECTIONS}` : ''}`,
    { tenant: q.tenant, from: isoDay(q.from), to: isoDay(q.to), ...where.params },
  );
  let n = 0;
  for (const r of days) {
    n += Number(r.n);
    if (n >= DISTRIBUTION_MIN_CALLS) {
      const start = new Date(`${r.d}T00:00:00.000Z`);
      return { from: start > q.from ? start : q.from, calls: undefined };
    }
  }
  return { from: q.from, calls: n };
}

function emptyDistribution(): Omit<CallDistribution, 'from'> {
  return {
    calls: 0,
    tokensP10: 0,
    tokensP50: 0,
    tokensP90: 0,
    tokensVariance: 0,
    inputTokensP50: 0,
    outputTokensP50: 0,
    costP10: 0,
    costP50: 0,
    costP90: 0,
  };
}

export async function callDistribution(
  store: Store,
  q: { tenant: string; from: Date; to: Date; filters: UsageFilters },
): Promise<CallDistribution> {
  const { from, calls } = await distributionStart(store, q);
  // The rollups counted no matching call in the whole window: the raw calls hold none either
  // (the same calls, counted by the views), so there is nothing to read (a tenant's 30 days).
  if (calls === 0) return { ...emptyDistribution(), from };
  const where = filterOf(q.filters, RAW);
  // One user's calls from ai_user_calls (052: partitioned by month, a key range in 2 to 4 parts;
  // FINAL: a re-priced call once), everyone's from ai_calls by its key (tenant, hour).
  const table = q.filters.user ? 'ai_user_calls FINAL' : 'ai_calls';
  const sql = `
SELECT count() AS calls,
  quantilesExact(0.1, 0.5, 0.9)(input_tokens + output_tokens) AS tq,
  varPop(toFloat64(input_tokens + output_tokens)) AS tvar,
  quantileExact(0.5)(input_tokens) AS in50,
  quantileExact(0.5)(output_tokens) AS out50,
  quantilesExactIf(0.1, 0.5, 0.9)(toFloat64(assumeNotNull(cost_usd)), priced) AS cq
FROM ${table}
WHERE tenant = {tenant:String} AND timestamp >= {from:DateTime64(3, 'UTC')} AND timestamp < {to:DateTime64(3, 'UTC')}
  AND status != 'error' AND ${where.sql}`;
  const [r] = await readRows<{ calls: string; tq: number[]; tvar: number; in50: string; out50: string; cq: number[] }>(
    store,
    sql,
    {
      tenant: q.tenant,
      from: from.getTime() / 1000,
      to: q.to.getTime() / 1000,
      ...where.params,
    },
  );
  const n = Number(r?.calls ?? 0);
  const num = (v: unknown) => (Number.isFinite(Number(v)) ? Number(v) : 0);
  return {
    from,
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
