import { Router } from 'express';
import type { Store } from '../store/client.js';
import { isMigrated } from '../store/migrate.js';
import type { Metrics } from '../metrics.js';

/**
 * /healthz: the process answers. /readyz: every migration is applied and spans can be
 * taken: ClickHouse answers, or — while it does not — the spool still has room (a replica
 * that left the load balancer during a ClickHouse outage would make its spool useless).
 */
export function healthRouter(deps: {
  store: Store;
  metrics: Metrics;
  writer?: { spoolHasRoom: boolean; isDegraded: boolean };
}): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  let migrated = false;
  router.get('/readyz', async (_req, res) => {
    try {
      const ping = await deps.store.writer.ping();
      if (!ping.success) {
        if (migrated && deps.writer?.spoolHasRoom) {
          res.json({ status: 'ready', degraded: 'ClickHouse unreachable: spooling' });
          return;
        }
        throw ping.error;
      }
      if (!(await isMigrated(deps.store))) throw new Error('migrations pending');
      migrated = true;
      res.json({
        status: 'ready',
        ...(deps.writer?.isDegraded ? { degraded: 'ClickHouse writes failing: spooling' } : {}),
      });
    } catch (err) {
      res.status(503).json({ status: 'not ready', reason: (err as Error).message });
    }
  });
  return router;
}
