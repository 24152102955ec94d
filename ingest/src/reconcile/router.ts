import { Router } from 'express';
import type { Logger } from 'pino';
import { formatScaled } from '@tokenmeter/instrumentation/prices';
import { type KeyResolver, requireRole } from '../http/auth.js';
import { jsonBody } from '../http/errors.js';
import { queryDay } from '../usage/request.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/client.js';
import type { ReconcileJob } from './job.js';
import { type ReconcileDeps, ReconcileError, reconcileDay } from './run.js';
import { readReconciliation } from './store.js';
import { streamJob } from './stream.js';

/**
 * POST /api/v1/reconcile {date, provider?}: reconcile one day now (admin), progress as NDJSON.
 * GET /api/v1/reconciliation?from&to&provider: the latest results (read; a tenant's key sees its own).
 */
export function reconcileRouter(
  deps: ReconcileDeps & { keys: KeyResolver; metrics: Metrics; log: Logger; store: Store; job: ReconcileJob },
): Router {
  const router = Router();
  router.post(
    '/api/v1/reconcile',
    requireRole('admin', deps.keys, deps.metrics),
    jsonBody('16kb'),
    async (req, res) => {
      const b = (req.body ?? {}) as { date?: unknown; provider?: unknown };
      if (typeof b.date !== 'string') {
        res.status(400).json({ error: 'date must be YYYY-MM-DD' });
        return;
      }
      if (b.provider !== undefined && typeof b.provider !== 'string') {
        res.status(400).json({ error: 'provider must be openai or anthropic' });
        return;
      }
      const tenant = req.principal!.tenant;
      if (tenant !== '*' && tenant !== deps.config.billingTenant) {
        res.status(403).json({ error: `the provider bills are compared with tenant ${deps.config.billingTenant}` });
        return;
      }
      await streamJob(
        res,
        deps.log,
        async (progress) => {
          const outcomes = await reconcileDay(deps, b.date as string, {
            providers: b.provider ? [b.provider as string] : undefined,
            onProgress: progress,
          });
          return outcomes.map((o) => ({
            provider: o.provider,
            day: o.day,
            status: o.status,
            ...(o.error ? { error: o.error } : {}),
            rows: o.rows.map((r) => ({
              dimension: r.dimension,
              key: r.key,
              trackedUsd: formatScaled(r.trackedUsd),
              billedUsd: r.billedUsd === null ? null : formatScaled(r.billedUsd),
              driftPct: r.driftPct,
              status: r.status,
            })),
          }));
        },
        (err) => (err instanceof ReconcileError ? { status: 400, message: err.message } : undefined),
      );
    },
  );
  router.get('/api/v1/reconciliation', requireRole('read', deps.keys, deps.metrics), async (req, res) => {
    // An HttpError (a malformed or out-of-range day) is answered 400 by the app's error handler.
    const toDay = queryDay(req, 'to') ?? new Date(Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`));
    const fromDay = queryDay(req, 'from') ?? new Date(Math.max(0, toDay.getTime() - 30 * 86_400_000));
    const [from, to] = [fromDay, toDay].map((d) => d.toISOString().slice(0, 10)) as [string, string];
    const provider = typeof req.query.provider === 'string' ? req.query.provider : undefined;
    const rows = await readReconciliation(deps.store, { tenant: req.principal!.tenant, from, to, provider });
    res.json({
      from,
      to,
      nextRun: deps.job.nextRun().toISOString(),
      pendingRetries: deps.job.pendingRetries(),
      rows: rows.map((r) => ({ ...r, details: JSON.parse(r.details) })),
    });
  });
  return router;
}
