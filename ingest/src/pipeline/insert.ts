/**
 * The one insert of spooled rows into a table: the body as spooled (JSONCompactEachRow over
 * the record's columns) and a deterministic deduplication token derived from the rows' span
 * keys, so a retried or replayed insert of the same rows is the same insert (spool-drainer.ts).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { insertSettings, type Store } from '../store/client.js';
import type { TableBody } from './spool-record.js';

/**
 * JSONCompactEachRow, sent as the text it was spooled in: the engine parses it about a third
 * faster than JSONEachRow (no key per value), and nothing is decoded and encoded again on the
 * way (bench/ingest/README.md). Through `exec`, because the client's `insert` would encode
 * every row itself.
 */
export async function insertBody(store: Store, table: string, body: TableBody): Promise<void> {
  if (body.keys.length === 0) return;
  const token = `${table}:${createHash('sha256')
    .update([...body.keys].sort().join('\n'))
    .digest('hex')}`;
  const columns = body.columns.map((c) => `\`${c.replaceAll('`', '')}\``).join(', ');
  const result = await store.writer.exec({
    query: `INSERT INTO ${store.database}.${table} (${columns}) FORMAT JSONCompactEachRow`,
    values: Readable.from([Buffer.from(body.text)], { objectMode: false }),
    clickhouse_settings: insertSettings(token),
  });
  // Over HTTP the answer must be read for the connection to be reused.
  for await (const _ of result.stream);
}
