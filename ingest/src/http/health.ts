import { Router } from 'express';
import type { Store } from '../store/client.js';
import { isMigrated } from '../store/migrate.js';
import type { Metrics } from '../metrics.js';

/** /healthz: the process answers. /readyz: ClickHouse answers and every migration is applied. /metrics: Prometheus. */
export function healthRouter(deps: { store: Store; metrics: Metrics }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    try {
      const ping = await deps.store.writer.ping();
      if (!ping.success) throw ping.error;
      if (!(await isMigrated(deps.store))) throw new Error('migrations pending');
      res.json({ status: 'ready' });
    } catch (err) {
      res.status(503).json({ status: 'not ready', reason: (err as Error).message });
    }
  });
  return router;
}
