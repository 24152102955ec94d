import { Router } from 'express';
import type { Store } from '../store/client.js';
import { isMigrated } from '../store/migrate.js';
import type { Metrics } from '../metrics.js';

/**
 * /healthz: the process answers. /readyz: every migration is applied and spans can be
 * taken: ClickHouse answers, or — while it does not — the spool still has room (a replica
 * that left the load balancer during a ClickHouse outage would make its spool useless).
 * But once every insert has failed for longer than `readyMaxFailingMs` the replica is not
 * ready (503 with the reason): what it takes in is no longer reaching ClickHouse.
 */
export function healthRouter(deps: {
  store: Store;
  metrics: Metrics;
  writer?: { spoolHasRoom: boolean; isDegraded: boolean; failing(): { forMs: number; error: string | undefined } };
  readyMaxFailingMs?: number;
}): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  let migrated = false;
  router.get('/readyz', async (_req, res) => {
    const failing = deps.writer?.failing();
    if (failing && deps.readyMaxFailingMs !== undefined && failing.forMs > deps.readyMaxFailingMs) {
      res.status(503).json({
        status: 'not ready',
        reason: `ClickHouse writes failing for ${Math.round(failing.forMs / 1000)} s (bound ${deps.readyMaxFailingMs} ms): ${failing.error ?? 'unknown error'}`,
      });
      return;
    }
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
