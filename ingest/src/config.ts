import { resolve } from 'node:path';

/**
 * Everything the service reads from the environment, in one place. The deploy
 * files are checked against this list (ENV_VARS), so a name lives only here.
 */
export interface Config {
  port: number;
  host: string;
  clickhouse: {
    /** Unset: embedded ClickHouse (chdb) at dataDir. */
    url: string | undefined;
    user: string;
    password: string;
    database: string;
    cluster: string | undefined;
    dataDir: string;
  };
  adminKey: string | undefined;
  ttlDays: number;
  batch: { maxRows: number; maxDelayMs: number };
  limits: { maxBodyBytes: number };
  logLevel: string;
}

export const ENV_VARS = [
  'PORT',
  'HOST',
  'CLICKHOUSE_URL',
  'CLICKHOUSE_USER',
  'CLICKHOUSE_PASSWORD',
  'CLICKHOUSE_DATABASE',
  'CLICKHOUSE_CLUSTER',
  'TOKENMETER_DATA_DIR',
  'TOKENMETER_ADMIN_KEY',
  'TOKENMETER_TTL_DAYS',
  'TOKENMETER_BATCH_MAX_ROWS',
  'TOKENMETER_BATCH_MAX_DELAY_MS',
  'TOKENMETER_MAX_BODY_BYTES',
  'LOG_LEVEL',
] as const;

export class ConfigError extends Error {}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const database = env.CLICKHOUSE_DATABASE || 'tokenmeter';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
    throw new ConfigError(`CLICKHOUSE_DATABASE must be a plain identifier, got ${JSON.stringify(database)}`);
  }
  const cluster = env.CLICKHOUSE_CLUSTER || undefined;
  if (cluster !== undefined && !/^[A-Za-z0-9_.-]+$/.test(cluster)) {
    throw new ConfigError(`CLICKHOUSE_CLUSTER must be a cluster name, got ${JSON.stringify(cluster)}`);
  }
  return {
    port: int(env, 'PORT', 4318, 0, 65535),
    host: env.HOST || '0.0.0.0',
    clickhouse: {
      url: env.CLICKHOUSE_URL || undefined,
      user: env.CLICKHOUSE_USER || 'default',
      password: env.CLICKHOUSE_PASSWORD || '',
      database,
      cluster,
      dataDir: resolve(env.TOKENMETER_DATA_DIR || './.tokenmeter'),
    },
    adminKey: env.TOKENMETER_ADMIN_KEY || undefined,
    ttlDays: int(env, 'TOKENMETER_TTL_DAYS', 90, 1, 36500),
    batch: {
      maxRows: int(env, 'TOKENMETER_BATCH_MAX_ROWS', 5000, 1, 1_000_000),
      maxDelayMs: int(env, 'TOKENMETER_BATCH_MAX_DELAY_MS', 200, 0, 60_000),
    },
    limits: { maxBodyBytes: int(env, 'TOKENMETER_MAX_BODY_BYTES', 8 * 1024 * 1024, 1024, 1024 ** 3) },
    logLevel: env.LOG_LEVEL || 'info',
  };
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}
