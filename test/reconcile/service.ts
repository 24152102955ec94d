import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../../ingest/src/config.ts';
import type { Clock } from '../../ingest/src/scheduler/clock.ts';
import { type Running, startServer } from '../../ingest/src/server.ts';

export const ADMIN_KEY = 'test-admin-key-cost-0123456789';

/** A real `tokenmeter serve` in this process (its store reachable for seeding), embedded ClickHouse in a temp dir. */
export async function startCostService(
  name: string,
  env: Record<string, string> = {},
  clock?: Clock,
): Promise<Running & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), `tm-cost-${name}-`));
  const config = readConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    TOKENMETER_DATA_DIR: dataDir,
    CLICKHOUSE_DATABASE: `cost_${name.replace(/[^a-z0-9_]/gi, '_')}`,
    TOKENMETER_ADMIN_KEY: ADMIN_KEY,
    TOKENMETER_BATCH_MAX_DELAY_MS: '20',
    TOKENMETER_STATS_INTERVAL_MS: '0',
    LOG_LEVEL: 'warn',
    ...env,
  });
  const running = await startServer(config, clock ? { clock } : {});
  const close = running.close.bind(running);
  return Object.assign(running, {
    dataDir,
    async close() {
      await close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}
