import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
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
  const onCluster = cfg.cluster ? ` ON CLUSTER '${cfg.cluster}'` : '';
  if (cfg.url) {
    const make = (database?: string) =>
      createClient({
        url: cfg.url,
        username: cfg.user,
        password: cfg.password,
        ...(database ? { database } : {}),
        request_timeout: 30_000,
        compression: { request: false, response: true },
        // The writer logs a failed insert once, with context; the client would log every retry.
        log: { level: ClickHouseLogLevel.OFF },
      });
    // The database must exist before a client can name it as its default.
    const bootstrap = make();
    try {
      await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${cfg.database}${onCluster}` });
    } finally {
      await bootstrap.close();
    }
    return store(make(cfg.database), make(cfg.database), cfg, false);
  }
  let createChdbConnection: (opts: { path: string }) => unknown;
  try {
    ({ createChdbConnection } = (await import('chdb/connection')) as {
      createChdbConnection: (opts: { path: string }) => unknown;
    });
  } catch (err) {
    throw new Error(
      `CLICKHOUSE_URL is not set and embedded ClickHouse (the optional 'chdb' package) cannot load: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const make = () => createClient({ connection: createChdbConnection({ path: cfg.dataDir }) as never });
  const writer = make();
  const reader = make();
  await writer.command({ query: `CREATE DATABASE IF NOT EXISTS ${cfg.database}` });
  // chdb's connection ignores the client's database option; USE stays in force per connection.
  await writer.command({ query: `USE ${cfg.database}` });
  await reader.command({ query: `USE ${cfg.database}` });
  return store(writer, reader, cfg, true);
}

function store(
  writer: ClickHouseClient,
  reader: ClickHouseClient,
  cfg: Config['clickhouse'],
  embedded: boolean,
): Store {
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
