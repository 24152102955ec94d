import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../ingest/src/store/client.ts';
import { migrate } from '../../ingest/src/store/migrate.ts';

/**
 * A migrated store on embedded ClickHouse for one test file: its own data
 * directory and its own database name (chdb binds one data directory per process,
 * and vitest runs each file in its own process with pool 'forks').
 */
export async function openTestStore(
  name: string,
  /** `migrate: false`: an empty database, for tests that migrate themselves (older schemas). */
  opts: { ttlDays?: number; migrate?: boolean } = {},
): Promise<Store & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), `tm-${name}-`));
  const database = `t_${name.replace(/[^a-z0-9_]/gi, '_')}`;
  const store = await openStore({
    url: undefined,
    user: 'default',
    password: '',
    database,
    cluster: undefined,
    dataDir,
  });
  if (opts.migrate !== false) await migrate(store, { ttlDays: opts.ttlDays ?? 90 });
  const close = store.close.bind(store);
  return Object.assign(store, {
    dataDir,
    async close() {
      await close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/** Run a query on the writer connection and return its rows. */
export async function rows<T = Record<string, unknown>>(
  store: Store,
  query: string,
  params: Record<string, unknown> = {},
): Promise<T[]> {
  const rs = await store.writer.query({ query, format: 'JSONEachRow', query_params: params });
  return rs.json<T>();
}
