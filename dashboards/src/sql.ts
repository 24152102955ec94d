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
  'ai_usage_hourly',
  'ai_usage_daily',
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
