import { Router } from 'express';
import type { Logger } from 'pino';
import { type KeyResolver, requireRole } from '../http/auth.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/client.js';
import { handle, HttpError, queryString, tenantOf } from '../usage/request.js';
import { listAlertEvents } from './events.js';

/** GET /api/v1/alerts: the tenant's alert history (alert_events), newest first. */
export function alertsRouter(deps: { store: Store; keys: KeyResolver; metrics: Metrics; log: Logger }): Router {
  const router = Router();
  router.get(
    '/api/v1/alerts',
    requireRole('read', deps.keys, deps.metrics),
    handle(deps.log, async (req, res) => {
      const raw = queryString(req, 'limit') || '500';
      const limit = Number(raw);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
        throw new HttpError(400, `limit must be a whole number from 1 to 10000, got '${raw}'`);
      }
      const tenant = tenantOf(req);
      res.json({ tenant, events: await listAlertEvents(deps.store, tenant, limit) });
    }),
  );
  return router;
}
