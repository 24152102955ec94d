/**
 * The one insert of spooled rows into a table: the body as spooled (RowBinary, or
 * JSONCompactEachRow text: spool-record.ts) and a deterministic deduplication token derived from
 * the rows' span keys, so a retried or replayed insert of the same rows is the same insert
 * (spool-drainer.ts).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { insertSettings, type Store } from '../store/client.js';
import { namesAndTypesHeader } from './rowbinary.js';
import type { TableBody } from './spool-record.js';

/**
 * The body goes as the bytes it was spooled in, nothing decoded or encoded on the way. RowBinary
 * goes as RowBinaryWithNamesAndTypes (a short header naming every column and its type, which the
 * engine checks against the table): the engine reads it for a fraction of what JSON text costs it
 * (bench/ingest/README.md). On embedded chdb through the store's RowBinary insert, over HTTP
 * through `exec`, which streams the body as it is. JSON text (records spooled before RowBinary,
 * rows with a value that has no exact binary form) goes through `exec` as it always did.
 */
export async function insertBody(store: Store, table: string, body: TableBody): Promise<void> {
  if (body.keys.length === 0) return;
  const token = `${table}:${createHash('sha256')
    .update([...body.keys].sort().join('\n'))
    .digest('hex')}`;
  const columns = body.columns.map((c) => `\`${c.replaceAll('`', '')}\``).join(', ');
  const into = `INSERT INTO ${store.database}.${table} (${columns})`;
  const binary = body.format === 'RowBinary';
  // The header and the rows as two chunks: a group's body can be a hundred megabytes, not copied again.
  const chunks = binary ? [headerOf(body), body.data] : [body.data];
  if (binary && store.insertRowBinary) {
    await store.insertRowBinary(into, insertSettings(token), chunks);
    return;
  }
  const result = await store.writer.exec({
    query: `${into} FORMAT ${binary ? 'RowBinaryWithNamesAndTypes' : 'JSONCompactEachRow'}`,
    values: Readable.from(chunks, { objectMode: false }),
    clickhouse_settings: insertSettings(token),
  });
  // Over HTTP the answer must be read for the connection to be reused.
  for await (const _ of result.stream);
}

const headers = new Map<string, Buffer>();
function headerOf(body: TableBody): Buffer {
  const key = `${body.columns.join(',')}\n${(body.types ?? []).join(',')}`;
  let header = headers.get(key);
  if (!header) headers.set(key, (header = namesAndTypesHeader(body.columns, body.types ?? [])));
  return header;
}
