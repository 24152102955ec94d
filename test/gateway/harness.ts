/**
 * The gateway suites' set-up: a real `tokenmeter serve` in this process with the gateway on its
 * own port, every route's upstream the replay server (test/replay), an ingest key of tenant
 * `acme`, and the service's log captured (to grep for keys). The SDKs under test are the real
 * packages with their base URL set to the gateway.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, expect } from 'vitest';
import { readConfig } from '../../ingest/src/config.ts';
import { type Running, startServer } from '../../ingest/src/server.ts';
import { engineCost as instrumentationEngineCost } from '../instrumentation/support.js';
import type { TokenUsage } from '../replay/fixtures.js';
import { type ReplayServer, startReplayServer } from '../replay/server.js';
import { type ClickHouseHttpHarness, startClickHouseHttp } from '../support/clickhouse-http.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { ADMIN_KEY, query as sql } from '../support/inprocess.ts';
import { createKey } from '../web/support.js';

export { ADMIN_KEY, sql };

/** A provider key as a caller would send it: it must reach the upstream and nowhere else. */
export const PROVIDER_KEY = 'sk-proj-GATEWAYSECRET-4f9c2a7e1b3d5f60';

export interface GatewayEnv {
  svc: Running;
  replay: ReplayServer;
  dataDir: string;
  /** http://127.0.0.1:<gateway port> */
  gw: string;
  /** An ingest key of tenant acme. */
  key: string;
  /** Everything the service logged. */
  logs: () => string;
  /** With `faults`: the TCP proxy between the service and ClickHouse (a chdb HTTP harness). */
  proxy: FaultProxy | undefined;
}

/** `faults`: the service talks HTTP to ClickHouse through a FaultProxy (test/support), to take the store down. */
export function useGateway(
  name: string,
  env: Record<string, string> = {},
  opts: { faults?: boolean } = {},
): GatewayEnv {
  const out = {} as GatewayEnv;
  let logText = '';
  let clickhouse: ClickHouseHttpHarness | undefined;
  beforeAll(async () => {
    out.replay = await startReplayServer();
    out.dataDir = mkdtempSync(join(tmpdir(), `tm-gw-${name}-`));
    if (opts.faults) {
      clickhouse = await startClickHouseHttp({ dataDir: join(out.dataDir, 'clickhouse') });
      out.proxy = await FaultProxy.start({ port: clickhouse.port });
      env = { CLICKHOUSE_URL: out.proxy.url, TOKENMETER_STATS_INTERVAL_MS: '0', ...env };
    }
    const config = readConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      TOKENMETER_DATA_DIR: out.dataDir,
      CLICKHOUSE_DATABASE: `gw_${name.replace(/[^a-z0-9_]/gi, '_')}`,
      TOKENMETER_ADMIN_KEY: ADMIN_KEY,
      TOKENMETER_BATCH_MAX_DELAY_MS: '20',
      TOKENMETER_SPOOL_DIR: join(out.dataDir, 'spool'),
      TOKENMETER_RATE_LIMIT_RPS: '0',
      TOKENMETER_GATEWAY_PORT: '0',
      TOKENMETER_GATEWAY_ROUTES: ['openai', 'anthropic', 'google', 'groq']
        .map((r) => `${r}=${out.replay.url}${r === 'groq' ? '/openai' : ''}`)
        .join(','),
      LOG_LEVEL: 'debug',
      ...env,
    });
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logText += chunk.toString();
        cb();
      },
    });
    out.svc = await startServer(config, { log: pino({ level: 'debug' }, sink) });
    out.gw = out.svc.gateway!.url!;
    out.logs = () => logText;
    out.key = await createKey(out.svc, 'acme', 'ingest');
  });
  afterAll(async () => {
    await out.svc?.close();
    await out.replay?.close();
    await out.proxy?.close();
    await clickhouse?.close();
    if (out.dataDir) rmSync(out.dataDir, { recursive: true, force: true });
  });
  return out;
}

export interface CallRowView {
  provider: string;
  request_model: string;
  tenant: string;
  user_id: string;
  team: string;
  feature: string;
  session_id: string;
  request_id: string;
  trace_id: string;
  parent_span_id: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_usd: string | null;
  estimated: number | boolean;
  is_streaming: number | boolean;
  status: string;
  error_type: string;
  response_id: string;
  properties: Record<string, string>;
}

const COLUMNS = `provider, request_model, tenant, user_id, team, feature, session_id, request_id, trace_id,
  parent_span_id, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
  toString(cost_usd) AS cost_usd, estimated, is_streaming, status, error_type, response_id, properties`;

/** The ai_calls rows of a request id (the x-tokenmeter-request-id each test sends), once `n` are there. */
export async function rowsOf(svc: { url: string }, requestId: string, n = 1): Promise<CallRowView[]> {
  let rows: CallRowView[] = [];
  await expect
    .poll(
      async () => {
        rows = await sql<CallRowView>(
          svc,
          `SELECT ${COLUMNS} FROM ai_calls WHERE request_id = '${requestId}' ORDER BY timestamp`,
        );
        return rows.length;
      },
      { timeout: 10_000, interval: 50 },
    )
    .toBe(n);
  return rows;
}

/** What the price engine says this usage costs, as ClickHouse prints a Decimal(38, 12). */
export function engineCost(provider: string, model: string, t: TokenUsage): string {
  return trimDecimal(instrumentationEngineCost(provider, model, t));
}

export function trimDecimal(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** Row tokens in the fixtures' shape. */
export function rowTokens(r: CallRowView): Partial<TokenUsage> {
  return {
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
    cacheReadTokens: Number(r.cache_read_tokens),
    reasoningTokens: Number(r.reasoning_tokens),
  };
}
