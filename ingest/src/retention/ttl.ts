import type { Logger } from 'pino';
import type { Store } from '../store/client.js';
import { localTable, onCluster, select } from './sql.js';

/**
 * Raw tables and their TTL column (migrations 001, 002, 004, 052). The rollups have no TTL:
 * they are kept when raw rows expire. ingest_stats follows the same retention setting.
 */
export const RAW_TTL = [
  { name: 'otel_traces', expr: 'toDateTime(Timestamp)' },
  { name: 'otel_traces_trace_id_ts', expr: 'toDateTime(Start)' },
  { name: 'ai_calls', expr: 'toDateTime(timestamp)' },
  { name: 'ai_user_calls', expr: 'toDateTime(timestamp)' },
  { name: 'ingest_stats', expr: 'ts' },
] as const;

export interface TtlChange {
  table: string;
  fromDays: number | undefined;
  toDays: number;
}

/**
 * Make the raw tables' TTL follow TOKENMETER_TTL_DAYS. The migrations write the value in
 * force when a table is created; later changes of the setting come here, at start:
 * ALTER TABLE … MODIFY TTL where the table's TTL differs (ClickHouse then re-applies it to
 * existing parts; with ttl_only_drop_parts whole expired day partitions are dropped).
 */
export async function syncRetention(store: Store, ttlDays: number, log?: Logger): Promise<TtlChange[]> {
  const names = RAW_TTL.map((t) => (store.cluster ? `${t.name}_local` : t.name));
  const tables = await select<{ name: string; engine_full: string }>(
    store,
    `SELECT name, engine_full FROM system.tables WHERE database = {db:String} AND name IN {names:Array(String)}`,
    { db: store.database, names },
  );
  const changes: TtlChange[] = [];
  for (const t of RAW_TTL) {
    const found = tables.find((x) => x.name === (store.cluster ? `${t.name}_local` : t.name));
    if (!found) continue;
    const current = ttlDaysOf(found.engine_full);
    if (current === ttlDays) continue;
    await store.writer.command({
      query: `ALTER TABLE ${localTable(store, t.name)}${onCluster(store)} MODIFY TTL ${t.expr} + toIntervalDay(${Math.trunc(ttlDays)})`,
    });
    changes.push({ table: t.name, fromDays: current, toDays: ttlDays });
    log?.info({ table: t.name, from: current, to: ttlDays }, 'raw retention changed');
  }
  return changes;
}

/** The N of `TTL … + toIntervalDay(N)` in an engine definition. */
export function ttlDaysOf(engineFull: string): number | undefined {
  const m = /\bTTL\b.*?toIntervalDay\((\d+)\)/.exec(engineFull);
  return m ? Number(m[1]) : undefined;
}
