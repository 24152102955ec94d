import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { type KeyResolver, requireOperator, requireRole } from './http/auth.js';
import { healthRouter } from './http/health.js';
import { errorHandler } from './http/errors.js';
import { otlpRouter } from './http/otlp.js';
import { queryRouter } from './http/query.js';
import { tenantsRouter } from './http/tenants.js';
import { keysRouter } from './keys/http.js';
import type { KeyStore } from './keys/store.js';
import type { Metrics } from './metrics.js';
import type { IngestPricer } from './pipeline/pricing.js';
import type { BatchWriter } from './pipeline/writer.js';
import type { Store } from './store/client.js';
import { webRouter } from './web/router.js';
import { budgetRouter } from './budgets/router.js';
import { alertsRouter } from './alerts/router.js';
import { exportRouter } from './usage/export.js';
import { usageRouter } from './usage/router.js';
import { type CostJobs, costRouter } from './scheduler/jobs.js';

export interface AppDeps {
  config: Config;
  store: Store;
  writer: BatchWriter;
  pricer: IngestPricer;
  keys: KeyResolver;
  keyStore: KeyStore;
  metrics: Metrics;
  log: Logger;
  /** Prices, reprice, reconciliation, forget-user and advice (absent: those routes are not served). */
  costJobs?: CostJobs;
}

/** The HTTP surface. Every route but /healthz and /readyz needs a key. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Every answer, API JSON included: a browser must never guess a type we did not send.
  app.use((_req, res, next) => {
    res.set('X-Content-Type-Options', 'nosniff');
    next();
  });
  app.use(healthRouter({ ...deps, readyMaxFailingMs: deps.config.drain.readyMaxFailingMs }));
  // Counters of every tenant at once: operator keys only (a tenant-bound read key gets 403).
  app.get(
    '/metrics',
    requireRole('read', deps.keys, deps.metrics),
    requireOperator(deps.metrics),
    async (_req, res) => {
      res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    },
  );
  app.use(
    otlpRouter({
      ...deps,
      maxBodyBytes: deps.config.limits.maxBodyBytes,
      limits: deps.config.limits,
      retentionDays: deps.config.ttlDays,
    }),
  );
  app.use(keysRouter(deps));
  app.use(queryRouter(deps));
  app.use(tenantsRouter(deps));
  const budgets = { defaultUserBudget: deps.config.budgets.defaultUserBudget };
  app.use(budgetRouter({ ...deps, ...budgets, enforcementCacheMs: deps.config.budgets.enforcementCacheMs }));
  app.use(usageRouter({ ...deps, ...budgets }));
  app.use(exportRouter(deps));
  app.use(alertsRouter(deps));
  if (deps.costJobs) app.use(costRouter({ ...deps, jobs: deps.costJobs }));
  // The web view last: it serves the browser app at `/` after every API route.
  app.use(webRouter(deps));
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use(errorHandler(deps.log));
  return app;
}
