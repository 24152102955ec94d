import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../../ingest/src/config.ts';
import { type Running, startServer } from '../../ingest/src/server.ts';

export const ADMIN_KEY = 'test-admin-key-budgets-0123456789';

/** `tokenmeter serve` in this process on an ephemeral port, embedded ClickHouse in a temp dir. */
export async function startBudgetService(
  name: string,
  env: Record<string, string> = {},
): Promise<Running & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), `tm-bud-${name}-`));
  const config = readConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    TOKENMETER_DATA_DIR: dataDir,
    CLICKHOUSE_DATABASE: `bud_${name.replace(/[^a-z0-9_]/gi, '_')}`,
    TOKENMETER_ADMIN_KEY: ADMIN_KEY,
    TOKENMETER_BATCH_MAX_DELAY_MS: '20',
    TOKENMETER_STATS_INTERVAL_MS: '0',
    TOKENMETER_EVALUATE_INTERVAL_MS: '0',
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

/** Create an API key of `role` for `tenant` through the service's own API; returns the secret. */
export async function createKey(svc: { url: string }, tenant: string, role: string): Promise<string> {
  const res = await fetch(`${svc.url}/api/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenant, role, name: `test ${role}` }),
  });
  if (res.status !== 201) throw new Error(`key create failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { key: string }).key;
}
