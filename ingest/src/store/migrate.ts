import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backfillRollups, type BackfillProgress } from './backfill.js';
import type { Store } from './client.js';
import { backfillUserCalls } from './user-calls-backfill.js';

/** ingest/migrations: numbered .sql files, applied in order, each recorded once. */
export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateOptions {
  ttlDays: number;
  dir?: string;
  log?: (msg: string) => void;
  /** Progress of long data steps (the rollup and user-call backfills), for a progress bar. */
  onProgress?: BackfillProgress;
  /**
   * How long after the cutover of a new materialized view the backfill waits before reading
   * what was inserted before it (inserts already under way when the cutover passed). 1000 ms.
   */
  settleMs?: number;
}

/**
 * Data steps that run right after a migration's SQL and before it is recorded: if one fails,
 * `migrate` stops and the next run applies the SQL again (IF NOT EXISTS) and resumes the step.
 */
const STEPS: Record<number, (store: Store, ctx: RenderContext, opts: MigrateOptions) => Promise<void>> = {
  21: (store, ctx, opts) =>
    backfillRollups(store, { settleMs: opts.settleMs ?? 1000, onProgress: opts.onProgress, log: opts.log }),
  52: (store, ctx, opts) =>
    backfillUserCalls(store, { settleMs: opts.settleMs ?? 1000, onProgress: opts.onProgress, log: opts.log }),
};

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8');
      return {
        version: Number(file.slice(0, 3)),
        name: file.replace(/\.sql$/, ''),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex').slice(0, 16),
      };
    });
}

export interface RenderContext {
  database: string;
  cluster: string | undefined;
  ttlDays: number;
}

/**
 * Expand one migration's placeholders into statements.
 * - `{db}`: the database; `{on_cluster}`: `ON CLUSTER '<c>'` or nothing;
 * - `{local:NAME}`: NAME, or NAME_local on a cluster (the shard-local table);
 * - `{engine:Kind(args)}`: Kind(args), or ReplicatedKind('/clickhouse/tables/{shard}/db/NAME', '{replica}', args);
 * - `{ttl_days}`: raw data retention;
 * - `{engine_everywhere:Kind(args)}`: as `{engine:…}`, but on a cluster one replication path for
 *   every shard, so that each node holds the rows (small tables the views read locally);
 * - `-- @distributed NAME sharding_key`: on a cluster, a Distributed table NAME over NAME_local.
 * - `-- @distributed-alter NAME clause`: on a cluster, `ALTER TABLE NAME … clause` for that
 *   Distributed table (a column added to NAME_local must be added to it too).
 */
export function renderMigration(sql: string, ctx: RenderContext): string[] {
  const cluster = ctx.cluster;
  const statements: string[] = [];
  const body = sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  for (const raw of body.split(/;\s*(?:\n|$)/)) {
    const stmt = raw.trim();
    if (!stmt) continue;
    const table = /\{local:([a-z0-9_]+)\}/.exec(stmt)?.[1] ?? '';
    statements.push(
      stmt
        .replaceAll('{db}', ctx.database)
        .replaceAll('{on_cluster}', cluster ? `ON CLUSTER '${cluster}'` : '')
        .replaceAll('{ttl_days}', String(ctx.ttlDays))
        .replace(/\{local:([a-z0-9_]+)\}/g, (_, name: string) => (cluster ? `${name}_local` : name))
        .replace(
          /\{engine(_everywhere)?:([A-Za-z]+)(?:\(([^)]*)\))?\}/g,
          (_, everywhere: string | undefined, kind: string, args: string | undefined) => {
            if (!cluster) return args !== undefined ? `${kind}(${args})` : kind;
            const path = `'/clickhouse/tables/${everywhere ? 'all' : '{shard}'}/${ctx.database}/${table}_local'`;
            return `Replicated${kind}(${[path, "'{replica}'", ...(args ? [args] : [])].join(', ')})`;
          },
        ),
    );
  }
  if (cluster) {
    for (const m of sql.matchAll(/^-- @distributed ([a-z0-9_]+) (.+)$/gm)) {
      const [, name, key] = m;
      statements.push(
        `CREATE TABLE IF NOT EXISTS ${ctx.database}.${name} ON CLUSTER '${cluster}' AS ${ctx.database}.${name}_local ` +
          `ENGINE = Distributed('${cluster}', '${ctx.database}', '${name}_local', ${key})`,
      );
    }
    for (const m of sql.matchAll(/^-- @distributed-alter ([a-z0-9_]+) (.+)$/gm)) {
      const [, name, clause] = m;
      statements.push(`ALTER TABLE ${ctx.database}.${name} ON CLUSTER '${cluster}' ${clause}`);
    }
  }
  return statements;
}

/** Apply every migration not yet recorded. Safe to run again and from several replicas. */
export async function migrate(store: Store, opts: MigrateOptions): Promise<{ applied: string[]; skipped: string[] }> {
  const ctx: RenderContext = { database: store.database, cluster: store.cluster, ttlDays: opts.ttlDays };
  const onCluster = store.cluster ? ` ON CLUSTER '${store.cluster}'` : '';
  const engine = store.cluster
    ? `ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/${store.database}/schema_migrations', '{replica}', applied_at)`
    : 'ReplacingMergeTree(applied_at)';
  await store.writer.command({
    query: `CREATE TABLE IF NOT EXISTS ${store.database}.schema_migrations${onCluster} (
      version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC')
    ) ENGINE = ${engine} ORDER BY version`,
  });
  const done = await store.writer.query({
    query: `SELECT version, any(checksum) AS checksum FROM ${store.database}.schema_migrations GROUP BY version`,
    format: 'JSONEachRow',
  });
  const applied = new Map(
    (await done.json<{ version: number; checksum: string }>()).map((r) => [Number(r.version), r.checksum]),
  );
  const result = { applied: [] as string[], skipped: [] as string[] };
  for (const m of loadMigrations(opts.dir)) {
    if (applied.has(m.version)) {
      if (applied.get(m.version) !== m.checksum) {
        opts.log?.(
          `migration ${m.name} changed after it was applied (recorded ${applied.get(m.version)}, now ${m.checksum})`,
        );
      }
      result.skipped.push(m.name);
      continue;
    }
    for (const statement of renderMigration(m.sql, ctx)) {
      await store.writer.command({ query: statement });
    }
    await STEPS[m.version]?.(store, ctx, opts);
    await store.writer.insert({
      table: `${store.database}.schema_migrations`,
      values: [{ version: m.version, name: m.name, checksum: m.checksum, applied_at: Date.now() }],
      format: 'JSONEachRow',
      clickhouse_settings: {
        insert_deduplication_token: `migration-${m.version}-${m.checksum}`,
        insert_deduplicate: 1,
      },
    });
    opts.log?.(`applied migration ${m.name}`);
    result.applied.push(m.name);
  }
  return result;
}

/** True when every migration on disk is recorded: what /readyz checks. */
export async function isMigrated(store: Store): Promise<boolean> {
  const rs = await store.writer.query({
    query: `SELECT count() AS n FROM ${store.database}.schema_migrations`,
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ n: string }>();
  return Number(row?.n ?? 0) >= loadMigrations().length;
}
