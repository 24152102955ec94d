import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { insertSettings, openStore, type Store } from '../../ingest/src/store/client.ts';
import { migrate } from '../../ingest/src/store/migrate.ts';
import { buildSeedRows } from './seed.ts';

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

/**
 * Migrate while calls keep arriving: a tenant 'live' gets 5 calls of the current hour every
 * 100 ms (before a migration's cutover, after it, during its backfill) until `migrate` returns.
 * Returns the batches inserted and the backfill progress reported.
 */
export async function migrateWhileInserting(
  store: Store,
  opts: { ttlDays: number; seed: number; callsPerHour?: number },
): Promise<{ batches: number; progress: [number, number][] }> {
  const progress: [number, number][] = [];
  let batches = 0;
  let stop = false;
  const live = (async () => {
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    for (let i = 0; !stop; i++) {
      const { rows: calls } = buildSeedRows({
        tenant: 'live',
        days: 1,
        end: new Date(hour),
        seed: opts.seed + i,
        callsPerHour: opts.callsPerHour,
      });
      await store.writer.insert({
        table: `${store.database}.ai_calls`,
        format: 'JSONEachRow',
        values: calls.slice(-5),
        clickhouse_settings: insertSettings(`live-${i}`),
      });
      batches++;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    await migrate(store, { ttlDays: opts.ttlDays, settleMs: 1500, onProgress: (d, t) => progress.push([d, t]) });
  } finally {
    stop = true;
    await live;
  }
  return { batches, progress };
}
