import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../../ingest/src/config.ts';
import { type Running, startServer } from '../../ingest/src/server.ts';

export const ADMIN_KEY = 'web-admin-key-0123456789abcdef';

/** A real `tokenmeter serve` (startServer, as the CLI calls it) in this process, embedded ClickHouse in a temp dir. */
export async function startWebService(
  name: string,
  env: Record<string, string> = {},
): Promise<Running & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), `tm-web-${name}-`));
  const config = readConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    TOKENMETER_DATA_DIR: dataDir,
    CLICKHOUSE_DATABASE: `web_${name.replace(/[^a-z0-9_]/gi, '_')}`,
    TOKENMETER_ADMIN_KEY: ADMIN_KEY,
    TOKENMETER_DEMO: 'false',
    TOKENMETER_STATS_INTERVAL_MS: '0',
    // The seeded alert history is the fixture: no budget/anomaly evaluator adding to it.
    TOKENMETER_EVALUATE_INTERVAL_MS: '0',
    TOKENMETER_RATE_LIMIT_RPS: '0',
    LOG_LEVEL: 'warn',
    ...env,
  });
  const running = await startServer(config);
  const close = running.close.bind(running);
  return Object.assign(running, {
    dataDir,
    async close() {
      await close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/** Read-only SQL through the service's own query endpoint, as an operator. */
export async function sql<T = Record<string, unknown>>(svc: { url: string }, query: string): Promise<T[]> {
  const res = await fetch(`${svc.url}/api/v1/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql: query }),
  });
  const body = (await res.json()) as { data?: T[]; error?: string };
  if (!res.ok) throw new Error(`query failed ${res.status}: ${body.error}`);
  return body.data ?? [];
}

/** A key made through the keys API (what `tokenmeter keys create` does). */
export async function createKey(svc: { url: string }, tenant: string, role: string): Promise<string> {
  const res = await fetch(`${svc.url}/api/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenant, role, name: `web test ${role}` }),
  });
  const body = (await res.json()) as { key?: string; error?: string };
  if (!res.ok || !body.key) throw new Error(`key create failed ${res.status}: ${body.error}`);
  return body.key;
}
