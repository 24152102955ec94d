import { insertSettings, type Store } from '../store/client.js';
import { ROLLUPS, rollupView } from '../store/rollup-views.js';
import { localTable, onCluster, table } from './sql.js';

/**
 * Rebuilds rows of the rollups (migration 021) from `ai_calls` (FINAL: the latest version
 * of each call), for a set of keys, after the raw rows changed in a way the materialized
 * views cannot follow (re-pricing), with the views' own queries read from ClickHouse.
 *
 * Only the given keys are touched, so rollups of days whose raw rows have expired stay as
 * they are. A key is (tenant, hour or day, provider, model): re-pricing changes cost, never
 * these. The hourly grain rebuilds ai_rollup_hourly; the daily grain ai_rollup_daily and
 * ai_user_daily (every user of the key). Calls arriving for the same keys while a rebuild
 * runs could be counted twice, so rebuild closed hours (reprice refuses the current hour).
 */
export type Grain = 'hourly' | 'daily';

const TIME = {
  hourly: { expr: "toStartOfHour(toDateTime(timestamp, 'UTC'))", column: 'hour' },
  daily: { expr: 'toDate(timestamp)', column: 'day' },
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
  const t = TIME[grain];
  const keyExpr = (time: string) => `concat(tenant, '\\0', ${time}, '\\0', provider, '\\0', model)`;
  for (const r of ROLLUPS.filter((x) => x.time === t.column)) {
    const view = await rollupView(store, r.table);
    const rebuild = view.select(
      `(SELECT * FROM ${table(store, 'ai_calls')} FINAL WHERE ${keyExpr(`toString(${t.expr})`)} IN {keys:Array(String)})`,
    );
    await store.writer.command({
      query: `DELETE FROM ${localTable(store, r.table)}${onCluster(store)} WHERE ${keyExpr(`toString(${t.column})`)} IN {keys:Array(String)}`,
      query_params: { keys },
    });
    await store.writer.command({
      query: `INSERT INTO ${table(store, r.table)} ${rebuild}`,
      query_params: { keys },
      clickhouse_settings: insertSettings(`${token}-${r.table}`),
    });
  }
}
