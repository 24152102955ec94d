/**
 * The one insert of spooled rows into a table: the format the rows travel in and the
 * deterministic deduplication token derived from their span keys, so a retried or
 * replayed insert of the same rows is the same insert (spool-drainer.ts).
 */
import { createHash } from 'node:crypto';
import { insertSettings, type Store } from '../store/client.js';

export async function insertRows(store: Store, table: string, values: unknown[], keys: string[]): Promise<void> {
  const token = `${table}:${createHash('sha256').update(keys.sort().join('\n')).digest('hex')}`;
  await store.writer.insert({
    table: `${store.database}.${table}`,
    values,
    format: 'JSONEachRow',
    clickhouse_settings: insertSettings(token),
  });
}
