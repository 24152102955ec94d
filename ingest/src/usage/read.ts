import type { ClickHouseSettings } from '@clickhouse/client';
import { readOnlySettings, type Store } from '../store/client.js';

/**
 * Reads for the usage, budget and alert code: the reader connection, bound parameters, and
 * complete read-only settings on every query (embedded chdb keeps settings per connection, so
 * each query states all of its own).
 */
export const READ_LIMITS = { maxExecutionSeconds: 60, maxMemoryBytes: 4 * 1024 ** 3, maxResultRows: 1_000_000 };

/** The dashboards' SETTINGS clause for a query no projection answers (see there): one definition. */
export { NO_PROJECTIONS } from '@tokenmeter/dashboards';

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
