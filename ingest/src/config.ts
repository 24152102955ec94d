import { resolve } from 'node:path';
import { DEFAULT_PROPERTY_LIMITS } from './pipeline/properties.js';
import { type CostConfig, readCostConfig } from './reconcile/config.js';
import { DEFAULT_RETENTION_DAYS } from './pipeline/build.js';
import { type CostBounds, DEFAULT_COST_BOUNDS } from './pipeline/span-cost.js';
import { type GatewayConfig, GatewayConfigError, readGatewayConfig } from './gateway/config.js';

/**
 * Everything the service reads from the environment, in one place. The deploy
 * files are checked against this list (ENV_VARS), so a name lives only here.
 */
export interface Config {
  port: number;
  host: string;
  /**
   * How long a client may take to send a request: its headers, and its headers and body (408 past
   * either); and how long a shutdown waits for requests in flight before it closes their connections.
   */
  http: { headersTimeoutMs: number; requestTimeoutMs: number; shutdownGraceMs: number };
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
  limits: {
    maxBodyBytes: number;
    /** Spans in one OTLP request; more → 413. */
    maxSpansPerRequest: number;
    /** Attributes on one span (span + resource + event attributes are counted apart); more → the span is rejected. */
    maxAttributesPerSpan: number;
    /** Characters in one attribute value; longer → the span is rejected. */
    maxAttributeLength: number;
    /** OTLP requests being handled at once; more → 503 + Retry-After before the body is read. */
    maxInflightRequests: number;
    /** Custom properties kept per call, and their name and value lengths; the rest are dropped and counted. */
    maxProperties: number;
    maxPropertyNameLength: number;
    maxPropertyValueLength: number;
  };
  /** How far a cost that arrives on a span is believed, and the most one call may cost (ingest/src/pipeline/span-cost.ts). */
  spanCost: CostBounds;
  /** The local write-ahead spool: a batch is acknowledged once fsynced here (ingest/README.md). */
  spool: { dir: string; maxBytes: number };
  /** How the drainer treats failing inserts (ingest/src/pipeline/spool-drainer.ts). */
  drain: {
    /** Times a single span ClickHouse refuses as data is tried again before it is quarantined. */
    insertMaxRetries: number;
    /** /readyz answers 503 once every insert has failed for longer than this. */
    readyMaxFailingMs: number;
  };
  /** Requests per second per API key (token bucket), and the burst it allows. */
  rateLimit: { perSecond: number; burst: number };
  /** How long a resolved API key is cached before it is looked up again (revocation delay on other replicas). */
  keyCacheMs: number;
  /** How often the service's counters are written to ingest_stats; 0 turns it off. */
  statsIntervalMs: number;
  /** Budgets, alert evaluation and Alertmanager (ingest/src/budgets, ingest/src/alerts). */
  budgets: BudgetConfig;
  /** Reconciliation with provider bills, price overrides (ingest/src/reconcile, ingest/src/prices). */
  cost: CostConfig;
  logLevel: string;
  /** The gateway (ingest/src/gateway): on with a port or a path of its own. */
  gateway: GatewayConfig;
  /** Demo traffic on an empty store (tenant `demo`, ingest/src/demo/start.ts): on, off, or auto (`npm start` only). */
  demo: 'on' | 'off' | 'auto';
}

export interface BudgetConfig {
  /** Alertmanager's base URL; unset: alerts are recorded in alert_events only. */
  alertmanagerUrl: string | undefined;
  /** How often budgets and anomalies are evaluated; 0 turns the evaluator off. */
  evaluateIntervalMs: number;
  /** A budget for every user without one of their own; unset: none. */
  defaultUserBudget:
    { amountUsd: string; period: 'day' | 'week' | 'month'; mode: 'soft' | 'hard'; thresholds: number[] } | undefined;
  /** How long the enforcement view (polled by the instrumentation's guard) is reused per tenant. */
  enforcementCacheMs: number;
  /** An hour costing less than this never pages as a cost spike. */
  spikeMinHourlyUsd: number;
}

export const ENV_VARS = [
  'PORT',
  'HOST',
  'TOKENMETER_HEADERS_TIMEOUT_MS',
  'TOKENMETER_REQUEST_TIMEOUT_MS',
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
  'TOKENMETER_MAX_SPANS_PER_REQUEST',
  'TOKENMETER_MAX_ATTRIBUTES_PER_SPAN',
  'TOKENMETER_MAX_ATTRIBUTE_LENGTH',
  'TOKENMETER_MAX_INFLIGHT_REQUESTS',
  'TOKENMETER_MAX_PROPERTIES',
  'TOKENMETER_MAX_PROPERTY_NAME_LENGTH',
  'TOKENMETER_MAX_PROPERTY_VALUE_LENGTH',
  'TOKENMETER_SPAN_COST_FACTOR',
  'TOKENMETER_MAX_CALL_COST_USD',
  'TOKENMETER_SPOOL_DIR',
  'TOKENMETER_SPOOL_MAX_BYTES',
  'TOKENMETER_INSERT_MAX_RETRIES',
  'TOKENMETER_READY_MAX_FAILING_MS',
  'TOKENMETER_RATE_LIMIT_RPS',
  'TOKENMETER_RATE_LIMIT_BURST',
  'TOKENMETER_KEY_CACHE_MS',
  'TOKENMETER_STATS_INTERVAL_MS',
  'ALERTMANAGER_URL',
  'TOKENMETER_EVALUATE_INTERVAL_MS',
  'TOKENMETER_DEFAULT_USER_BUDGET_USD',
  'TOKENMETER_DEFAULT_USER_BUDGET_PERIOD',
  'TOKENMETER_DEFAULT_USER_BUDGET_MODE',
  'TOKENMETER_ENFORCEMENT_CACHE_MS',
  'TOKENMETER_SPIKE_MIN_HOURLY_USD',
  'TOKENMETER_RECONCILE_AT',
  'TOKENMETER_DRIFT_THRESHOLD_PCT',
  'TOKENMETER_BILLING_TENANT',
  'TOKENMETER_PRICES_REFRESH_SECONDS',
  'TOKENMETER_BILLING_PROJECTS',
  'OPENAI_ADMIN_KEY',
  'OPENAI_BILLING_BASE_URL',
  'ANTHROPIC_ADMIN_KEY',
  'ANTHROPIC_BILLING_BASE_URL',
  'LOG_LEVEL',
  'TOKENMETER_DEMO',
  'TOKENMETER_GATEWAY_PORT',
  'TOKENMETER_GATEWAY_PATH',
  'TOKENMETER_GATEWAY_ROUTES',
  'TOKENMETER_GATEWAY_CONFIG',
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
  const headersTimeoutMs = int(env, 'TOKENMETER_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const requestTimeoutMs = int(env, 'TOKENMETER_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(
      `TOKENMETER_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not exceed TOKENMETER_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`,
    );
  }
  return {
    port: int(env, 'PORT', 4318, 0, 65535),
    host: env.HOST || '0.0.0.0',
    http: {
      headersTimeoutMs,
      requestTimeoutMs,
      shutdownGraceMs: int(env, 'TOKENMETER_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    },
    clickhouse: {
      url: env.CLICKHOUSE_URL || undefined,
      user: env.CLICKHOUSE_USER || 'default',
      password: env.CLICKHOUSE_PASSWORD || '',
      database,
      cluster,
      dataDir: resolve(env.TOKENMETER_DATA_DIR || './.tokenmeter'),
    },
    adminKey: env.TOKENMETER_ADMIN_KEY || undefined,
    ttlDays: int(env, 'TOKENMETER_TTL_DAYS', DEFAULT_RETENTION_DAYS, 1, 36500),
    batch: {
      maxRows: int(env, 'TOKENMETER_BATCH_MAX_ROWS', 5000, 1, 1_000_000),
      maxDelayMs: int(env, 'TOKENMETER_BATCH_MAX_DELAY_MS', 200, 0, 60_000),
    },
    limits: {
      maxBodyBytes: int(env, 'TOKENMETER_MAX_BODY_BYTES', 8 * 1024 * 1024, 1024, 1024 ** 3),
      maxSpansPerRequest: int(env, 'TOKENMETER_MAX_SPANS_PER_REQUEST', 10_000, 1, 1_000_000),
      maxAttributesPerSpan: int(env, 'TOKENMETER_MAX_ATTRIBUTES_PER_SPAN', 256, 1, 100_000),
      maxAttributeLength: int(env, 'TOKENMETER_MAX_ATTRIBUTE_LENGTH', 256 * 1024, 16, 64 * 1024 * 1024),
      maxInflightRequests: int(env, 'TOKENMETER_MAX_INFLIGHT_REQUESTS', 256, 1, 1_000_000),
      maxProperties: int(env, 'TOKENMETER_MAX_PROPERTIES', DEFAULT_PROPERTY_LIMITS.maxProperties, 0, 256),
      maxPropertyNameLength: int(
        env,
        'TOKENMETER_MAX_PROPERTY_NAME_LENGTH',
        DEFAULT_PROPERTY_LIMITS.maxPropertyNameLength,
        1,
        256,
      ),
      maxPropertyValueLength: int(
        env,
        'TOKENMETER_MAX_PROPERTY_VALUE_LENGTH',
        DEFAULT_PROPERTY_LIMITS.maxPropertyValueLength,
        1,
        4096,
      ),
    },
    spanCost: readSpanCostBounds(env),
    spool: {
      dir: resolve(env.TOKENMETER_SPOOL_DIR || resolve(env.TOKENMETER_DATA_DIR || './.tokenmeter', 'spool')),
      maxBytes: int(env, 'TOKENMETER_SPOOL_MAX_BYTES', 1024 ** 3, 1024, 1024 ** 4),
    },
    drain: {
      insertMaxRetries: int(env, 'TOKENMETER_INSERT_MAX_RETRIES', 3, 0, 100),
      readyMaxFailingMs: int(env, 'TOKENMETER_READY_MAX_FAILING_MS', 300_000, 1, 86_400_000),
    },
    rateLimit: {
      perSecond: int(env, 'TOKENMETER_RATE_LIMIT_RPS', 1000, 0, 1_000_000),
      burst: int(env, 'TOKENMETER_RATE_LIMIT_BURST', 2000, 1, 10_000_000),
    },
    keyCacheMs: int(env, 'TOKENMETER_KEY_CACHE_MS', 10_000, 0, 3_600_000),
    statsIntervalMs: int(env, 'TOKENMETER_STATS_INTERVAL_MS', 60_000, 0, 86_400_000),
    budgets: readBudgetConfig(env),
    cost: readCostConfig(env),
    logLevel: env.LOG_LEVEL || 'info',
    demo: demoMode(env.TOKENMETER_DEMO),
    gateway: gatewayConfig(env),
  };
}

function gatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  try {
    return readGatewayConfig(env);
  } catch (err) {
    if (err instanceof GatewayConfigError) throw new ConfigError(err.message);
    throw err;
  }
}

function readSpanCostBounds(env: NodeJS.ProcessEnv): CostBounds {
  const cap = env.TOKENMETER_MAX_CALL_COST_USD || DEFAULT_COST_BOUNDS.maxCallUsd;
  // At most 1e9 a call: sums of Decimal(38, 12) then hold 1e17 calls (span-cost.ts).
  if (!/^\d{1,10}(\.\d{1,12})?$/.test(cap) || Number(cap) <= 0 || Number(cap) > 1e9) {
    throw new ConfigError(
      `TOKENMETER_MAX_CALL_COST_USD must be a USD amount above 0 and at most 1000000000, got ${JSON.stringify(cap)}`,
    );
  }
  return {
    factor: int(env, 'TOKENMETER_SPAN_COST_FACTOR', DEFAULT_COST_BOUNDS.factor, 1, 1000),
    maxCallUsd: cap,
  };
}

function readBudgetConfig(env: NodeJS.ProcessEnv): BudgetConfig {
  const url = env.ALERTMANAGER_URL || undefined;
  if (url !== undefined && !/^https?:\/\/[^\s]+$/.test(url)) {
    throw new ConfigError(`ALERTMANAGER_URL must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  const amount = env.TOKENMETER_DEFAULT_USER_BUDGET_USD || undefined;
  if (amount !== undefined && (!/^\d{1,16}(\.\d{1,12})?$/.test(amount) || Number(amount) <= 0)) {
    throw new ConfigError(
      `TOKENMETER_DEFAULT_USER_BUDGET_USD must be a positive USD amount, got ${JSON.stringify(amount)}`,
    );
  }
  const period = oneOf(env, 'TOKENMETER_DEFAULT_USER_BUDGET_PERIOD', ['month', 'week', 'day'] as const);
  const mode = oneOf(env, 'TOKENMETER_DEFAULT_USER_BUDGET_MODE', ['soft', 'hard'] as const);
  const floor = env.TOKENMETER_SPIKE_MIN_HOURLY_USD || '1';
  if (!/^\d+(\.\d+)?$/.test(floor)) {
    throw new ConfigError(`TOKENMETER_SPIKE_MIN_HOURLY_USD must be a USD amount, got ${JSON.stringify(floor)}`);
  }
  return {
    alertmanagerUrl: url?.replace(/\/+$/, ''),
    evaluateIntervalMs: int(env, 'TOKENMETER_EVALUATE_INTERVAL_MS', 60_000, 0, 86_400_000),
    defaultUserBudget: amount ? { amountUsd: amount, period, mode, thresholds: [75, 90, 100] } : undefined,
    enforcementCacheMs: int(env, 'TOKENMETER_ENFORCEMENT_CACHE_MS', 5_000, 0, 3_600_000),
    spikeMinHourlyUsd: Number(floor),
  };
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return allowed[0]!;
  if (!allowed.includes(raw as T))
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
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

function demoMode(raw: string | undefined): Config['demo'] {
  if (raw === undefined || raw === '') return 'auto';
  if (/^(true|1|on|yes)$/i.test(raw)) return 'on';
  if (/^(false|0|off|no)$/i.test(raw)) return 'off';
  throw new ConfigError(`TOKENMETER_DEMO must be true or false, got ${JSON.stringify(raw)}`);
}
