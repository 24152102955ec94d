import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import type { Config } from '../config.js';

/**
 * The one way to ClickHouse: `@clickhouse/client`, over HTTP to a server when
 * CLICKHOUSE_URL is set, else on embedded chdb through its Connection adapter.
 *
 * Two clients, because embedded chdb keeps per-query settings in force for later
 * queries on the same connection (ARCHITECTURE.md, known pitfalls):
 * - `writer` runs migrations and inserts; every insert passes its complete settings
 *   (see insertSettings), so nothing left over from a previous query can change it;
 * - `reader` runs untrusted read-only SQL with `readonly = 2` and limits; on chdb
 *   that would stick and break writes, so it gets its own connection.
 */
export interface Store {
  writer: ClickHouseClient;
  reader: ClickHouseClient;
  database: string;
  cluster: string | undefined;
  embedded: boolean;
  close(): Promise<void>;
}

export async function openStore(cfg: Config['clickhouse']): Promise<Store> {
  if (cfg.url) {
    const make = () =>
      createClient({
        url: cfg.url,
        username: cfg.user,
        password: cfg.password,
        request_timeout: 30_000,
        compression: { request: false, response: true },
      });
    return finish(make(), make(), cfg, false);
  }
  let createChdbConnection: (opts: { path: string }) => unknown;
  try {
    ({ createChdbConnection } = (await import('chdb/connection')) as {
      createChdbConnection: (opts: { path: string }) => unknown;
    });
  } catch (err) {
    throw new Error(
      `CLICKHOUSE_URL is not set and embedded ClickHouse (the optional 'chdb' package) cannot load: ${(err as Error).message}`,
    );
  }
  const make = () => createClient({ connection: createChdbConnection({ path: cfg.dataDir }) as never });
  return finish(make(), make(), cfg, true);
}

async function finish(
  writer: ClickHouseClient,
  reader: ClickHouseClient,
  cfg: Config['clickhouse'],
  embedded: boolean,
): Promise<Store> {
  await writer.command({
    query: `CREATE DATABASE IF NOT EXISTS ${cfg.database}${cfg.cluster ? ` ON CLUSTER '${cfg.cluster}'` : ''}`,
  });
  return {
    writer,
    reader,
    database: cfg.database,
    cluster: cfg.cluster,
    embedded,
    async close() {
      await Promise.allSettled([writer.close(), reader.close()]);
    },
  };
}

/**
 * The complete settings of one insert. Every setting any insert uses is named here
 * with an explicit value, so a value left in force by an earlier query on the same
 * chdb connection can never apply (guarded by store/settings.test.ts).
 */
export function insertSettings(dedupToken: string): ClickHouseSettings {
  if (!dedupToken) throw new Error('every insert needs its deterministic deduplication token');
  return {
    insert_deduplication_token: dedupToken,
    insert_deduplicate: 1,
    deduplicate_blocks_in_dependent_materialized_views: 1,
    async_insert: 0,
    date_time_input_format: 'best_effort',
    input_format_skip_unknown_fields: 0,
  };
}

/** Settings for read-only SQL from operators and panels. */
export function readOnlySettings(limits: {
  maxExecutionSeconds: number;
  maxMemoryBytes: number;
  maxResultRows: number;
}): ClickHouseSettings {
  return {
    readonly: '2',
    max_execution_time: limits.maxExecutionSeconds,
    max_memory_usage: String(limits.maxMemoryBytes),
    max_result_rows: String(limits.maxResultRows),
    result_overflow_mode: 'throw',
  };
}
