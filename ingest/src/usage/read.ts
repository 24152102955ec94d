import type { ClickHouseSettings } from '@clickhouse/client';
import { readOnlySettings, type Store } from '../store/client.js';

/**
 * Reads for the usage, budget and alert code: the reader connection, bound parameters, and
 * complete read-only settings on every query (embedded chdb keeps settings per connection, so
 * each query states all of its own).
 */
export const READ_LIMITS = { maxExecutionSeconds: 60, maxMemoryBytes: 4 * 1024 ** 3, maxResultRows: 1_000_000 };

/**
 * A SETTINGS clause for a query that no aggregate projection can answer (it reads a few users'
 * key ranges of ai_user_daily, or groups by columns no projection holds): ClickHouse otherwise
 * weighs each of the table's projections first, ~20 ms of planning on ai_user_daily at 50 M
 * calls. In the SQL text, not in `clickhouse_settings`: embedded chdb turns those into `SET`s
 * that stay in force for every later query on the connection (the projections of every panel).
 */
export const NO_PROJECTIONS = 'SETTINGS optimize_use_projections = 0';

export function readSettings(extra: ClickHouseSettings = {}): ClickHouseSettings {
  return { ...readOnlySettings(READ_LIMITS), ...extra };
}

export async function readRows<T>(store: Store, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await store.reader.query({
    query,
    format: 'JSONEachRow',
    query_params: params,
    clickhouse_settings: readSettings(),
  });
  return rs.json<T>();
}
