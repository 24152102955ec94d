import { Router } from 'express';
import { type KeyResolver, requireRole } from '../http/auth.js';
import type { Metrics } from '../metrics.js';
import type { IngestPricer } from '../pipeline/pricing.js';
import type { Store } from '../store/client.js';
import { readTraffic } from './read.js';
import { adviseAll } from './rules.js';

/**
 * GET /api/v1/advice?days=30&min_usd=1: savings advice from the tenant's own rollups (read).
 * The installation admin key names the tenant with ?tenant=.
 */
export function adviceRouter(deps: {
  store: Store;
  keys: KeyResolver;
  metrics: Metrics;
  pricer?: IngestPricer;
}): Router {
  const router = Router();
  router.get('/api/v1/advice', requireRole('read', deps.keys, deps.metrics), async (req, res) => {
    const days = req.query.days === undefined ? 30 : Number(req.query.days);
    if (!Number.isInteger(days) || days < 1 || days > 365) {
      res.status(400).json({ error: `days must be an integer from 1 to 365, got ${JSON.stringify(req.query.days)}` });
      return;
    }
    const minUsd = req.query.min_usd === undefined ? 0 : Number(req.query.min_usd);
    if (!Number.isFinite(minUsd) || minUsd < 0) {
      res.status(400).json({ error: 'min_usd must be a non-negative number' });
      return;
    }
    let tenant = req.principal!.tenant;
    if (tenant === '*') {
      if (typeof req.query.tenant !== 'string' || req.query.tenant === '') {
        res.status(400).json({ error: 'advice is per tenant: add ?tenant=<tenant>' });
        return;
      }
      tenant = req.query.tenant;
    }
    const now = new Date();
    const traffic = await readTraffic(deps.store, { tenant, days, end: now });
    res.json({
      tenant,
      window: { from: traffic.from, to: traffic.to, daysObserved: traffic.daysObserved },
      advice: adviseAll(
        traffic.groups,
        { daysObserved: traffic.daysObserved, at: now, tenant, overrides: deps.pricer?.getOverrides() },
        minUsd,
      ),
    });
  });
  return router;
}
