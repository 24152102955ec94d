import { Router } from 'express';
import type { Logger } from 'pino';
import { adviceRouter } from '../advice/router.js';
import { type AlertSink, createAlertmanagerClient } from '../alerts/alertmanager.js';
import type { Config } from '../config.js';
import type { KeyResolver } from '../http/auth.js';
import type { Metrics } from '../metrics.js';
import type { IngestPricer } from '../pipeline/pricing.js';
import { OverrideRefresher } from '../prices/refresh.js';
import { pricesRouter } from '../prices/router.js';
import { ReconcileJob } from '../reconcile/job.js';
import type { ReconcileDeps } from '../reconcile/run.js';
import { reconcileRouter } from '../reconcile/router.js';
import { retentionRouter } from '../retention/router.js';
import { syncRetention } from '../retention/ttl.js';
import type { Store } from '../store/client.js';
import { type Clock, systemClock } from './clock.js';
import { Counter } from 'prom-client';

/** What keeps cost true over time, running inside the service: prices, reconciliation, retention. */
export interface CostJobs {
  refresher: OverrideRefresher;
  reconcile: ReconcileJob;
  sink: AlertSink | undefined;
  /** What manual checks report too (metrics). */
  hooks: Pick<ReconcileDeps, 'onOutcome' | 'onAlertDeliveryFailure'>;
  close(): Promise<void>;
}

/**
 * At start: the raw TTL follows TOKENMETER_TTL_DAYS, price overrides are loaded (then
 * refreshed every TOKENMETER_PRICES_REFRESH_SECONDS), and the daily reconciliation is armed.
 */
export async function startCostJobs(deps: {
  config: Config;
  store: Store;
  pricer: IngestPricer;
  log: Logger;
  clock?: Clock;
  sink?: AlertSink;
  metrics?: Metrics;
}): Promise<CostJobs> {
  const { config, store, log } = deps;
  // A TTL that cannot be changed (permissions on a managed server) must not stop ingest.
  await syncRetention(store, config.ttlDays, log).catch((err) =>
    log.error(
      { err: (err as Error).message, ttlDays: config.ttlDays },
      'raw retention not synced; the TTL in force stays',
    ),
  );
  const refresher = new OverrideRefresher({ store, pricer: deps.pricer, log, intervalMs: config.cost.pricesRefreshMs });
  await refresher.start();
  const sink =
    deps.sink ??
    (config.budgets.alertmanagerUrl ? createAlertmanagerClient({ url: config.budgets.alertmanagerUrl }) : undefined);
  const counters = deps.metrics ? costCounters(deps.metrics) : undefined;
  const hooks: CostJobs['hooks'] = {
    onOutcome: (provider, status) => counters?.reconciliations.inc({ provider, status }),
    onAlertDeliveryFailure: () => counters?.alertDeliveryFailures.inc(),
  };
  const reconcile = new ReconcileJob({
    store,
    config: config.cost,
    sink,
    log,
    clock: deps.clock ?? systemClock,
    ...hooks,
  });
  reconcile.start();
  return {
    refresher,
    reconcile,
    sink,
    hooks,
    async close() {
      refresher.stop();
      await reconcile.stop();
    },
  };
}

/** The HTTP surface of prices, reprice, reconciliation, forget-user and advice. */
export function costRouter(deps: {
  config: Config;
  store: Store;
  pricer: IngestPricer;
  keys: KeyResolver;
  metrics: Metrics;
  log: Logger;
  jobs: CostJobs;
}): Router {
  const router = Router();
  router.use(pricesRouter({ ...deps, refresher: deps.jobs.refresher, ttlDays: deps.config.ttlDays }));
  router.use(
    reconcileRouter({
      ...deps,
      ...deps.jobs.hooks,
      config: deps.config.cost,
      sink: deps.jobs.sink,
      job: deps.jobs.reconcile,
    }),
  );
  router.use(retentionRouter(deps));
  router.use(adviceRouter(deps));
  return router;
}

/** The cost jobs' counters, on the service's registry (exposed at /metrics). */
function costCounters(metrics: Metrics) {
  return {
    reconciliations: new Counter({
      name: 'tokenmeter_reconciliations_total',
      help: 'Provider-days reconciled, by provider and status (match, drift, missing, error)',
      labelNames: ['provider', 'status'] as const,
      registers: [metrics.registry],
    }),
    alertDeliveryFailures: new Counter({
      name: 'tokenmeter_drift_alert_delivery_failures_total',
      help: 'Drift alerts Alertmanager did not take (kept in alert_events)',
      registers: [metrics.registry],
    }),
  };
}
