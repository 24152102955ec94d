import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ClickHouseLogLevel,
  createClient,
  parseError,
  type ClickHouseClient,
  type ClickHouseSettings,
} from '@clickhouse/client';
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
  /**
   * Embedded only: `into` (`INSERT INTO t (columns)`) with `data`, the chunks of a
   * RowBinaryWithNamesAndTypes body, as its rows (rowBinaryInserter). Over HTTP, `writer.exec` streams a binary body as it
   * is, so it needs no such thing.
   */
  insertRowBinary?: (into: string, settings: ClickHouseSettings, data: Buffer[]) => Promise<void>;
  close(): Promise<void>;
}

/** Embedded ClickHouse could not open its data directory: another process holds it (or it is not writable). */
export class DataDirInUseError extends Error {
  constructor(dir: string, cause: unknown) {
    super(
      `embedded ClickHouse cannot open ${dir}: another process holds it (is 'tokenmeter serve' running on it? ` +
        `one process a data directory) or it is not writable; stop that process, or set TOKENMETER_DATA_DIR ` +
        `or CLICKHOUSE_URL (${(cause as Error)?.message ?? String(cause)})`,
      { cause },
    );
    this.name = 'DataDirInUseError';
  }
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
  let writer: ReturnType<typeof make>;
  try {
    writer = make();
  } catch (err) {
    // chdb locks its data directory (its `status` file) for one process at a time.
    throw new DataDirInUseError(cfg.dataDir, err);
  }
  const reader = make();
  await writer.command({ query: `CREATE DATABASE IF NOT EXISTS ${cfg.database}` });
  // chdb's connection ignores the client's database option; USE stays in force per connection.
  await writer.command({ query: `USE ${cfg.database}` });
  await reader.command({ query: `USE ${cfg.database}` });
  const raw = await rowBinaryInserter(cfg.dataDir);
  const opened = store(writer, reader, cfg, true);
  return {
    ...opened,
    insertRowBinary: raw.insert,
    async close() {
      await raw.close();
      await opened.close();
    },
  };
}

/**
 * RowBinary inserts on embedded ClickHouse, on a chdb session of their own.
 *
 * chdb's `@clickhouse/client` connection turns an insert body into a UTF-8 string inside one SQL
 * text, so binary bytes would be corrupted; and an insert body handed to chdb inline (its raw
 * insert, chdb 3.4) loses bytes wherever two 0x0A bytes follow each other — harmless for text
 * formats, whose rows never hold an empty line, fatal for RowBinary, where any number may
 * (a cost of 0.01716375 does). So the body is written to a file and the engine reads it with
 * `INSERT … SELECT * FROM file(…, 'RowBinaryWithNamesAndTypes')`: bytes as they are, on a libuv
 * thread (the event loop is free meanwhile). The file is a transport, not the durable copy (that
 * is the spool record): it is deleted once the insert returns, and whatever a crash leaves is
 * cleared at the next start. Settings travel in the statement's SETTINGS clause, so nothing stays
 * in force on this session.
 */
async function rowBinaryInserter(dataDir: string): Promise<{
  insert: (into: string, settings: ClickHouseSettings, data: Buffer[]) => Promise<void>;
  close(): Promise<void>;
}> {
  const { Session } = (await import('chdb')) as unknown as {
    Session: new (path: string) => { queryAsync(sql: string): Promise<unknown>; close(): void };
  };
  const dir = join(dataDir, 'insert-bodies');
  // What a crash left is cleared once per process (several stores of one process share the directory).
  if (!clearedBodyDirs.has(dir)) {
    clearedBodyDirs.add(dir);
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
  const session = new Session(dataDir);
  // The engine must not lose a session an insert still runs on: close waits for them.
  const pending = new Set<Promise<unknown>>();
  return {
    async insert(into, settings, data) {
      const file = join(dir, `${process.pid}-${++bodyFiles}.bin`);
      await writeFile(file, data);
      const p = session.queryAsync(
        `${into} SETTINGS ${settingsClause(settings)} SELECT * FROM file(${quote(file)}, 'RowBinaryWithNamesAndTypes')`,
      );
      pending.add(p);
      try {
        await p;
      } catch (err) {
        // The engine's "Code: N. DB::Exception: … (NAME)" as @clickhouse/client reports it, so
        // insert errors are classified alike on chdb and on a server (insert-errors.ts).
        const mapped = parseError((err as Error).message ?? String(err));
        if (mapped !== err) (mapped as Error).cause = err;
        throw mapped;
      } finally {
        pending.delete(p);
        await rm(file, { force: true });
      }
    },
    async close() {
      await Promise.allSettled([...pending]);
      session.close();
    },
  };
}

const clearedBodyDirs = new Set<string>();
let bodyFiles = 0;

const quote = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** Settings as a SETTINGS clause: numbers and booleans as they are, strings quoted. */
function settingsClause(settings: ClickHouseSettings): string {
  return Object.entries(settings)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`invalid setting name ${k}`);
      if (typeof v === 'number') return `${k} = ${v}`;
      if (typeof v === 'boolean') return `${k} = ${v ? 1 : 0}`;
      return `${k} = ${quote(String(v))}`;
    })
    .join(', ');
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
