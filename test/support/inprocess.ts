import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../../ingest/src/config.ts';
import { type Running, startServer } from '../../ingest/src/server.ts';

export const ADMIN_KEY = 'test-admin-key-0123456789';

/** A real `tokenmeter serve` in this process, on an ephemeral port, embedded ClickHouse in a temp dir. */
export async function startTestService(
  name: string,
  env: Record<string, string> = {},
): Promise<Running & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), `tm-svc-${name}-`));
  const config = readConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    TOKENMETER_DATA_DIR: dataDir,
    CLICKHOUSE_DATABASE: `svc_${name.replace(/[^a-z0-9_]/gi, '_')}`,
    TOKENMETER_ADMIN_KEY: ADMIN_KEY,
    TOKENMETER_BATCH_MAX_DELAY_MS: '20',
    TOKENMETER_SPOOL_DIR: join(dataDir, 'spool'),
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

/** Read-only SQL through the service's own query endpoint (what `tokenmeter query` does). */
export async function query<T = Record<string, unknown>>(svc: { url: string }, sql: string): Promise<T[]> {
  const res = await fetch(`${svc.url}/api/v1/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql }),
  });
  const body = (await res.json()) as { data?: T[]; error?: string };
  if (!res.ok) throw new Error(`query failed ${res.status}: ${body.error}`);
  return body.data ?? [];
}
