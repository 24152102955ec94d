import { insertSettings, type Store } from '../store/client.js';
import { localTable, onCluster, table } from './sql.js';

/**
 * Rebuilds rows of the hourly and daily rollups from `ai_calls` (FINAL: the latest version
 * of each call), for a set of keys, after the raw rows changed in a way the materialized
 * views cannot follow (re-pricing). The SELECTs are the views' own (migration 003).
 *
 * Only the given keys are touched, so rollups of days whose raw rows have expired stay as
 * they are. A key is (tenant, hour or day, provider, model): re-pricing changes cost, never
 * these. Calls arriving for the same keys while a rebuild runs could be counted twice, so
 * rebuild closed hours (reprice refuses the current hour).
 */
export type Grain = 'hourly' | 'daily';

const SELECT_SUMS = `
  count() AS requests,
  countIf(status = 'error') AS errors,
  countIf(NOT priced) AS unpriced_requests,
  countIf(estimated) AS estimated_requests,
  sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens,
  sum(cache_read_tokens) AS cache_read_tokens,
  sum(cache_write_tokens) AS cache_write_tokens,
  sum(reasoning_tokens) AS reasoning_tokens,
  sum(input_audio_tokens) AS input_audio_tokens,
  sum(output_audio_tokens) AS output_audio_tokens,
  sum(ifNull(cost_usd, toDecimal128(0, 12))) AS cost_usd,
  sum(cache_savings_usd) AS cache_savings_usd,
  quantilesTDigestState(0.5, 0.95, 0.99)(duration_ms) AS duration_ms_quantiles,
  quantilesTDigestIfState(0.5, 0.95, 0.99)(ifNull(ttft_ms, 0), isNotNull(ttft_ms)) AS ttft_ms_quantiles`;

const GRAIN = {
  hourly: {
    table: 'ai_usage_hourly',
    time: 'hour',
    expr: "toStartOfHour(toDateTime(timestamp, 'UTC'))",
    fmt: 'toString(hour)',
  },
  daily: { table: 'ai_usage_daily', time: 'day', expr: 'toDate(timestamp)', fmt: 'toString(day)' },
} as const;

/** A rollup key as text: tenant, time ('YYYY-MM-DD hh:00:00' or 'YYYY-MM-DD'), provider, model. */
export function rollupKey(tenant: string, time: string, provider: string, model: string): string {
  return [tenant, time, provider, model].join('\u0000');
}

export async function rebuildRollups(
  store: Store,
  grain: Grain,
  keys: readonly string[],
  token: string,
): Promise<void> {
  if (keys.length === 0) return;
  const g = GRAIN[grain];
  const keyExpr = (time: string) => `concat(tenant, '\\0', ${time}, '\\0', provider, '\\0', model)`;
  await store.writer.command({
    query: `DELETE FROM ${localTable(store, g.table)}${onCluster(store)} WHERE ${keyExpr(g.fmt)} IN {keys:Array(String)}`,
    query_params: { keys },
  });
  await store.writer.command({
    query: `INSERT INTO ${table(store, g.table)}
      SELECT tenant, ${g.expr} AS ${g.time}, service, provider, model, operation, user_id, team, feature, ${SELECT_SUMS}
      FROM ${table(store, 'ai_calls')} FINAL
      WHERE ${keyExpr(`toString(${g.expr})`)} IN {keys:Array(String)}
      GROUP BY tenant, ${g.time}, service, provider, model, operation, user_id, team, feature`,
    query_params: { keys },
    clickhouse_settings: insertSettings(`${token}-${grain}`),
  });
}
