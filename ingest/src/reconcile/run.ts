import type { Logger } from 'pino';
import type { AlertSink } from '../alerts/alertmanager.js';
import type { Store } from '../store/client.js';
import { fetchAnthropicDay } from './anthropic.js';
import { alertOnDrift } from './alerts.js';
import { compareDay } from './compare.js';
import type { CostConfig } from './config.js';
import type { Fetch } from './http.js';
import { fetchOpenAiDay } from './openai.js';
import { writeReconciliation } from './store.js';
import { trackedDay } from './tracked.js';
import { type BilledDay, BillingUnavailable, type ReconciliationRow, type Status } from './types.js';

export const PROVIDERS = ['openai', 'anthropic'] as const;
export type BillingProvider = (typeof PROVIDERS)[number];

export interface ReconcileDeps {
  store: Store;
  config: CostConfig;
  sink: AlertSink | undefined;
  log: Logger;
  fetch?: Fetch;
  now?: () => Date;
  /** Told of every provider-day checked (for metrics). */
  onOutcome?: (provider: string, status: Status) => void;
  /** Told when Alertmanager did not take a drift alert (it stays in alert_events). */
  onAlertDeliveryFailure?: () => void;
}

export interface ProviderOutcome {
  provider: BillingProvider;
  day: string;
  status: Status;
  /** Present when status is 'error': why, and whether trying again later can help. */
  error?: string;
  rows: ReconciliationRow[];
}

export class ReconcileError extends Error {}

/** Providers with an admin key configured. */
export function configuredProviders(config: CostConfig): BillingProvider[] {
  return PROVIDERS.filter((p) => config[p].adminKey);
}

/**
 * Reconcile one UTC day for the given providers (default: every configured one): pull the
 * bill, compare it with the daily rollup, write the rows, alert on drift. A provider that
 * cannot answer gets an 'error' total row (billed unknown, never $0) for the retry to replace.
 */
export async function reconcileDay(
  deps: ReconcileDeps,
  day: string,
  opts: { providers?: readonly string[]; onProgress?: (done: number, total: number, label: string) => void } = {},
): Promise<ProviderOutcome[]> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) {
    throw new ReconcileError(`date must be YYYY-MM-DD, got ${JSON.stringify(day)}`);
  }
  const now = deps.now ?? (() => new Date());
  if (Date.parse(`${day}T00:00:00Z`) + 86_400_000 > now().getTime()) {
    throw new ReconcileError(`${day} has not ended yet (UTC): bills cover whole days`);
  }
  const configured = configuredProviders(deps.config);
  const providers = (opts.providers?.length ? opts.providers : configured) as BillingProvider[];
  for (const p of providers) {
    if (!(PROVIDERS as readonly string[]).includes(p)) {
      throw new ReconcileError(`provider must be one of ${PROVIDERS.join(', ')}, got ${JSON.stringify(p)}`);
    }
    if (!configured.includes(p)) {
      throw new ReconcileError(`no admin key for ${p}: set ${p === 'openai' ? 'OPENAI' : 'ANTHROPIC'}_ADMIN_KEY`);
    }
  }
  if (providers.length === 0) {
    throw new ReconcileError('no provider billing is configured: set OPENAI_ADMIN_KEY and/or ANTHROPIC_ADMIN_KEY');
  }
  const steps = providers.length * 3;
  let done = 0;
  const step = (label: string) => opts.onProgress?.(++done, steps, label);
  const tenant = deps.config.billingTenant;
  const threshold = deps.config.driftThresholdPct;
  const outcomes: ProviderOutcome[] = [];
  for (const provider of providers) {
    const tracked = await trackedDay(deps.store, day, provider, tenant);
    let billed: BilledDay;
    try {
      billed = await fetchBill(deps, provider, day);
      step(`${provider}: bill read`);
    } catch (err) {
      const message = (err as Error).message;
      const retryable = err instanceof BillingUnavailable;
      deps.log.warn({ provider, day, err: message, retryable }, 'provider billing unavailable; will retry');
      const row: ReconciliationRow = {
        day,
        tenant,
        provider,
        dimension: 'total',
        key: '',
        trackedUsd: tracked.total,
        billedUsd: null,
        driftPct: null,
        status: 'error',
        details: { error: message, billed: 'unknown', retryable },
      };
      await writeReconciliation(deps.store, [row], now());
      done += 2;
      step(`${provider}: unavailable`);
      outcomes.push({ provider, day, status: 'error', error: message, rows: [row] });
      deps.onOutcome?.(provider, 'error');
      continue;
    }
    const rows = compareDay(billed, tracked, {
      tenant,
      thresholdPct: threshold,
      projects: deps.config.billingProjects,
    });
    const checkedAt = now();
    await writeReconciliation(deps.store, rows, checkedAt);
    step(`${provider}: compared`);
    await alertOnDrift(
      { store: deps.store, sink: deps.sink, log: deps.log, onDeliveryFailure: deps.onAlertDeliveryFailure },
      rows,
      {
        thresholdPct: threshold,
        now: checkedAt,
      },
    );
    step(`${provider}: ${rows[0]!.status}`);
    outcomes.push({ provider, day, status: rows[0]!.status, rows });
    deps.onOutcome?.(provider, rows[0]!.status);
  }
  return outcomes;
}

function fetchBill(deps: ReconcileDeps, provider: BillingProvider, day: string): Promise<BilledDay> {
  const cfg = deps.config[provider];
  const key = cfg.adminKey!;
  return provider === 'openai'
    ? fetchOpenAiDay({ adminKey: key, baseUrl: cfg.baseUrl }, day, deps.fetch)
    : fetchAnthropicDay({ adminKey: key, baseUrl: cfg.baseUrl }, day, deps.fetch);
}
