/**
 * SQL fragments shared by panels and alert rules. Days, months and budget periods are
 * UTC, whatever the ClickHouse server's time zone. "Now" is the end of the dashboard's
 * time range ($__toTime): the same figures for the same range, and testable.
 */
export const TODAY = "toDate($__toTime, 'UTC')";
export const DAY_START = "toStartOfDay($__toTime, 'UTC')";
export const MONTH_START = `toStartOfMonth(${TODAY})`;

/** p50/p95/p99 of a rollup's t-digest state, merged over the group. */
export const DURATION_Q = 'quantilesTDigestMerge(0.5, 0.95, 0.99)(duration_ms_quantiles)';
export const TTFT_Q = 'quantilesTDigestIfMerge(0.5, 0.95, 0.99)(ttft_ms_quantiles)';

/** Tables panels and alert rules may read (the test checks each exists in the migrations). */
export const TABLES = [
  'ai_calls',
  'ai_rollup_hourly',
  'ai_rollup_daily',
  'ai_user_daily',
  'ai_user_calls',
  'ingest_stats',
  'budgets',
  'alert_events',
  'reconciliation',
  'otel_traces',
  'otel_traces_trace_id_ts',
] as const;

/**
 * Qualify the known tables with a database, for running panel SQL on a connection whose
 * default database is not tokenmeter's (the tests; a server without a default database).
 * In Grafana the datasource's default database does this.
 */
export function qualifyTables(sql: string, database: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new Error(`not a database name: ${database}`);
  const names = TABLES.join('|');
  return sql.replace(new RegExp(`\\b(FROM|JOIN)(\\s+)(${names})\\b(?!\\.)`, 'g'), `$1$2${database}.$3`);
}

/** The table names a SQL text reads (FROM/JOIN, not `WITH FILL FROM f(…)`), for the consistency checks. */
export function tablesRead(sql: string): string[] {
  return [
    ...new Set([...sql.matchAll(/\b(?:FROM|JOIN)\s+([a-z_][a-z0-9_]*)\b(?!\s*\()/gi)].map((m) => m[1] as string)),
  ];
}

/**
 * The tables a panel reads with $user "All" and with users chosen: a table in a branch of
 * `usageRows` is read only for its side; any other FROM/JOIN on both. The README's panel
 * reference shows this, and a test checks it against what ClickHouse plans to read.
 */
export function tablesReadBySelection(sql: string): { all: string[]; user: string[] } {
  const allOnly = new Set<string>();
  const userOnly = new Set<string>();
  const gate = /\bFROM\s+([a-z_][a-z0-9_]*)(?:\s+FINAL)?\s+WHERE\s+(NOT \()?\$__conditionalAll\(1=0, \$user\)/g;
  for (const m of sql.matchAll(gate)) (m[2] ? userOnly : allOnly).add(m[1] as string);
  const every = tablesRead(sql);
  return { all: every.filter((t) => !userOnly.has(t)), user: every.filter((t) => !allOnly.has(t)) };
}

/** The rollup columns a usage panel may aggregate (the ones all three rollups share). */
const USAGE_COLUMNS = [
  'tenant',
  'service',
  'provider',
  'model',
  'team',
  'feature',
  'requests',
  'errors',
  'unpriced_requests',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'cost_usd',
  'cache_savings_usd',
  'duration_ms_quantiles',
  'ttft_ms_quantiles',
].join(', ');

/** `$__conditionalAll(1=0, $user)`: true when $user is "All", false when users are chosen. */
export const USER_IS_ALL = '$__conditionalAll(1=0, $user)';

/**
 * The rollup rows a usage panel aggregates, as a subquery: the coarse rollup (no user in its
 * key) when $user is "All", the per-user daily rollup when users are chosen. Both branches are
 * in the SQL, and the one whose condition is constantly false reads nothing (ClickHouse folds
 * it and selects no granules), so a panel costs what its table costs. Per-user rows are daily:
 * with a user chosen, ranges count whole UTC days (`userTime`), and the `hour` column of an
 * hourly panel is the day's midnight.
 *
 * @param grain which coarse rollup ('hourly': ai_rollup_hourly, 'daily': ai_rollup_daily)
 * @param coarseTime the time condition on the coarse rollup (`hour` or `day`)
 * @param userTime the same condition on ai_user_daily's `day`
 * @param where the filter condition without $user (`filter()` minus user), on both branches
 */
export function usageRows(grain: 'hourly' | 'daily', coarseTime: string, userTime: string, where: string): string {
  const time = grain === 'hourly' ? 'hour' : 'day';
  return `(
  SELECT ${time}, ${USAGE_COLUMNS}
  FROM ai_rollup_${grain}
  WHERE ${USER_IS_ALL} AND ${coarseTime}
    AND ${where}
  UNION ALL
${userRows(grain, userTime, where)}
)`;
}

/** The per-user branch of `usageRows`: ai_user_daily's rows for the chosen users, `hour` or `day` named as the coarse one. */
function userRows(grain: 'hourly' | 'daily', userTime: string, where: string): string {
  const userTimeColumn = grain === 'hourly' ? "toDateTime(day, 'UTC') AS hour" : 'day';
  const userCondition = '$__conditionalAll(user_id IN (${user:singlequote}), $user)';
  return `  SELECT ${userTimeColumn}, ${USAGE_COLUMNS}
  FROM ai_user_daily
  WHERE NOT (${USER_IS_ALL}) AND ${userTime}
    AND ${userCondition}
    AND ${where}`;
}

/**
 * Like `usageRows`, but each branch aggregates itself: `SELECT ${select} … GROUP BY ${groupBy}`
 * over the coarse rollup's rows and over the chosen users' rows, as one subquery. ClickHouse
 * answers an aggregate from a projection only when the query right above the table aggregates
 * (not through a UNION ALL), so a panel written this way reads ai_rollup_hourly's projections
 * (`by_model_hour`, `by_service_hour`, migration 027) when its columns and filters are in one.
 * Only the branch for the current $user returns rows (both have a GROUP BY: no row when empty).
 */
export function usageGrouped(
  grain: 'hourly' | 'daily',
  coarseTime: string,
  userTime: string,
  where: string,
  select: string,
  groupBy: string,
): string {
  const indented = userRows(grain, userTime, where).replace(/\n/g, '\n  ');
  return `(
  SELECT ${select}
  FROM ai_rollup_${grain}
  WHERE ${USER_IS_ALL} AND ${coarseTime}
    AND ${where}
  GROUP BY ${groupBy}
  UNION ALL
  SELECT ${select}
  FROM (
  ${indented}
  )
  GROUP BY ${groupBy}
)`;
}

/**
 * A SETTINGS clause for a query no aggregate projection can answer (it reads a few users' key
 * ranges of ai_user_daily, or groups by columns no projection holds, as budgets do): ClickHouse
 * otherwise weighs each of the table's projections first, ~20 ms of planning on ai_user_daily at
 * 50 M calls. In the SQL text, never in `clickhouse_settings`: embedded chdb turns those into
 * `SET`s that stay in force for every later query on the connection (the projections of every panel).
 */
export const NO_PROJECTIONS = 'SETTINGS optimize_use_projections = 0';

/** The range is longer than 7 days: time series of latency and cost then draw a point per UTC day (`seriesGrouped`). */
export const LONG_RANGE = "dateDiff('second', $__fromTime, $__toTime) > 604800";

/**
 * The range is longer than a day: Models in range then takes its p95 column from the days'
 * states (by_model_day). Over 7 days that merges 800 states instead of 16,800 hourly ones at
 * 50 M calls (20 ms instead of 230 at load 6); a column has no points to lose.
 */
export const DAY_RANGE = "dateDiff('second', $__fromTime, $__toTime) > 86400";

/**
 * Series rows in the range, aggregated per branch like `usageGrouped`, with a third branch: over
 * more than 7 days, "All" reads ai_rollup_daily and draws a point per UTC day (whole days).
 * - Latency: merging t-digest states costs about what the calls in them cost, whichever rollup
 *   holds them; one state per model and day (the by_model_day projection) keeps 90 days cheap.
 * - Cost by provider, model or service: up to 50 series of a point per hour are ~50 k rows of
 *   JSON over 90 days; a point per day is 4.5 k, from ai_rollup_daily's 600 rows a day.
 * `select(time)` gets the time bucket expression of its branch; `longRange` the condition for the
 * daily branch (LONG_RANGE, or DAY_RANGE for a column without points).
 */
export function seriesGrouped(
  where: string,
  select: (time: string) => string,
  groupBy: string,
  longRange: string = LONG_RANGE,
): string {
  const indented = userRows('hourly', '$__dateFilter(day)', where).replace(/\n/g, '\n  ');
  return `(
  SELECT ${select('$__timeInterval(hour)')}
  FROM ai_rollup_hourly
  WHERE ${USER_IS_ALL} AND NOT (${longRange}) AND $__timeFilter(hour)
    AND ${where}
  GROUP BY ${groupBy}
  UNION ALL
  SELECT ${select("toDateTime(day, 'UTC')")}
  FROM ai_rollup_daily
  WHERE ${USER_IS_ALL} AND ${longRange} AND $__dateFilter(day)
    AND ${where}
  GROUP BY ${groupBy}
  UNION ALL
  SELECT ${select('$__timeInterval(hour)')}
  FROM (
  ${indented}
  )
  GROUP BY ${groupBy}
)`;
}
