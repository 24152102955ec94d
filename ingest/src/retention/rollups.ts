import { insertSettings, type Store } from '../store/client.js';
import { localTable, onCluster, select, table } from './sql.js';

/**
 * Rebuilds rows of the hourly and daily rollups from `ai_calls` (FINAL: the latest version
 * of each call), for a set of keys, after the raw rows changed in a way the materialized
 * views cannot follow (re-pricing), with the views' own queries read from ClickHouse.
 *
 * Only the given keys are touched, so rollups of days whose raw rows have expired stay as
 * they are. A key is (tenant, hour or day, provider, model): re-pricing changes cost, never
 * these. Calls arriving for the same keys while a rebuild runs could be counted twice, so
 * rebuild closed hours (reprice refuses the current hour).
 */
export type Grain = 'hourly' | 'daily';

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
  const rebuild = await viewSelect(
    store,
    g.table,
    `(SELECT * FROM ${table(store, 'ai_calls')} FINAL WHERE ${keyExpr(`toString(${g.expr})`)} IN {keys:Array(String)})`,
  );
  await store.writer.command({
    query: `DELETE FROM ${localTable(store, g.table)}${onCluster(store)} WHERE ${keyExpr(g.fmt)} IN {keys:Array(String)}`,
    query_params: { keys },
  });
  await store.writer.command({
    query: `INSERT INTO ${table(store, g.table)} ${rebuild}`,
    query_params: { keys },
    clickhouse_settings: insertSettings(`${token}-${grain}`),
  });
}

/**
 * The rollup's own materialized view query (as ClickHouse stores it), reading `source`
 * instead of `ai_calls`: a rebuild aggregates exactly as inserts do, from one definition.
 */
async function viewSelect(store: Store, rollup: string, source: string): Promise<string> {
  const view = `${rollup}_mv${store.cluster ? '_local' : ''}`;
  const [row] = await select<{ as_select: string }>(
    store,
    'SELECT as_select FROM system.tables WHERE database = {db:String} AND name = {view:String}',
    { db: store.database, view },
  );
  const from = new RegExp(`\\sFROM\\s+\`?${store.database}\`?\\.\`?ai_calls(_local)?\`?\\s`, 'g');
  const found = row?.as_select.match(from) ?? [];
  if (!row || found.length !== 1) throw new Error(`cannot read the ${view} query to rebuild ${rollup} from`);
  return row.as_select.replace(from, ` FROM ${source} `);
}
