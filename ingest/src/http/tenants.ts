import { Router } from 'express';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/client.js';
import { type KeyResolver, requireRole } from './auth.js';

/** Tenants with calls (the daily rollup) or budgets, by name; bounded like a dashboard variable. */
const TENANTS_SQL = `
SELECT tenant FROM (
  SELECT DISTINCT tenant FROM ai_rollup_daily
  UNION DISTINCT
  SELECT DISTINCT tenant FROM budgets
)
ORDER BY tenant
LIMIT 1000`;

/**
 * GET /api/v1/tenants: the key's tenant and the tenants it may act on — its own, or for an
 * operator key (tenant '*') every tenant in the store. The CLI picks the only tenant of a
 * one-tenant store for an operator key, and lists them when there are several.
 */
export function tenantsRouter(deps: { store: Store; keys: KeyResolver; metrics: Metrics }): Router {
  const router = Router();
  router.get('/api/v1/tenants', requireRole('user', deps.keys, deps.metrics), async (req, res, next) => {
    const p = req.principal!;
    if (p.tenant !== '*') {
      res.json({ tenant: p.tenant, tenants: [p.tenant] });
      return;
    }
    try {
      const rs = await deps.store.reader.query({ query: TENANTS_SQL, format: 'JSONEachRow' });
      const rows = await rs.json<{ tenant: string }>();
      res.json({ tenant: '*', tenants: rows.map((r) => r.tenant).filter((t) => t !== '') });
    } catch (err) {
      next(err);
    }
  });
  return router;
}
