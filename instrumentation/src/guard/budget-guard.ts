import { type Counter, context, type MeterProvider, metrics } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { recordFault } from '../core/faults.js';
import { setCallGuard } from '../core/guard.js';
import { SCOPE_NAME, SCOPE_VERSION } from '../core/tracer.js';
import type { CallDescription } from '../types.js';
import { BudgetExceededError, BudgetUnavailableError, scopeLabel } from './errors.js';
import { type CompiledView, compileView, findScope, modelAlias } from './matcher.js';
import type { BudgetGuardOptions, BudgetGuardStats, EnforcementView } from './types.js';

const DEFAULT_REFRESH_MS = 15_000;
export const SOFT_BUDGET_EVENT = 'tokenmeter.budget.soft_limit';

/**
 * Hard budgets enforced inside the calling service. A timer fetches the tenant's enforcement
 * view from the tokenmeter service; `check` (run by the call lifecycle before the provider is
 * called) only reads that cached view: no I/O, no allocation on the common path.
 */
export class BudgetGuard {
  readonly stats: BudgetGuardStats = {
    blocked: 0,
    softWarnings: 0,
    failOpen: 0,
    failClosed: 0,
    refreshes: 0,
    refreshFailures: 0,
    lastRefreshAt: 0,
    lastError: undefined,
  };
  private view: CompiledView | undefined;
  /** Set off the hot path when the last good view is too old to count. */
  private isUnavailable = true;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<boolean> | undefined;
  private readonly url: string;
  private readonly key: string;
  private readonly failOpen: boolean;
  private readonly doFetch: typeof fetch;
  private refreshMs: number;

  constructor(private readonly opts: BudgetGuardOptions = {}) {
    const url = opts.url ?? process.env.TOKENMETER_URL;
    const key = opts.key ?? process.env.TOKENMETER_KEY;
    if (!url || !key) throw new Error('BudgetGuard needs url and key (or TOKENMETER_URL and TOKENMETER_KEY)');
    const q = opts.tenant ? `?tenant=${encodeURIComponent(opts.tenant)}` : '';
    this.url = `${url.replace(/\/+$/, '')}/api/v1/budgets/enforcement${q}`;
    this.key = key;
    this.failOpen = opts.failOpen ?? process.env.TOKENMETER_GUARD_FAIL_OPEN?.toLowerCase() !== 'false';
    this.doFetch = opts.fetch ?? fetch;
    this.refreshMs = opts.refreshMs ?? DEFAULT_REFRESH_MS;
  }

  /**
   * The pre-call check: throws BudgetExceededError when the call's usage context and model fall
   * in a scope over a hard budget; adds a span event for a soft budget past a threshold.
   */
  readonly check = (call: CallDescription): void => {
    const view = this.view;
    if (this.isUnavailable || view === undefined) {
      if (this.failOpen) {
        this.stats.failOpen++;
        this.count('fail_open');
        return;
      }
      this.stats.failClosed++;
      this.count('fail_closed');
      throw new BudgetUnavailableError(this.stats.lastError ?? 'no enforcement view fetched yet');
    }
    if (view.isEmpty) return;
    const ctx = call.context;
    if (ctx.tenant && ctx.tenant !== view.tenant) return;
    const model = call.requestModel;
    const key = {
      user: ctx.userId ?? '',
      team: ctx.team ?? '',
      feature: ctx.feature ?? '',
      model,
      alias: this.aliasOf(model),
    };
    const hit = findScope(view.hard, key);
    if (hit) {
      this.stats.blocked++;
      this.count('blocked');
      throw new BudgetExceededError(hit);
    }
    const soft = findScope(view.soft, key);
    if (soft) {
      this.stats.softWarnings++;
      this.count('soft_limit');
      call.span?.addEvent(SOFT_BUDGET_EVENT, {
        'tokenmeter.budget.id': soft.budgetId,
        'tokenmeter.budget.scope': scopeLabel(soft.scope),
        'tokenmeter.budget.percent': soft.percent,
        'tokenmeter.budget.spend_usd': soft.spendUsd,
        'tokenmeter.budget.limit_usd': soft.limitUsd,
      });
    }
  };

  private meterProvider: MeterProvider | undefined;
  private counter: Counter | undefined;

  /**
   * `tokenmeter.budget_guard.calls{outcome}`: calls stopped, warned, or let through without a view.
   * Only on those paths (never for a call that simply passes); follows the global meter provider.
   */
  private count(outcome: 'blocked' | 'soft_limit' | 'fail_open' | 'fail_closed'): void {
    try {
      const provider = metrics.getMeterProvider();
      if (provider !== this.meterProvider || !this.counter) {
        this.meterProvider = provider;
        this.counter = provider.getMeter(SCOPE_NAME, SCOPE_VERSION).createCounter('tokenmeter.budget_guard.calls', {
          description: 'AI calls the budget guard stopped, warned about, or let through without a budget view',
          unit: '{call}',
        });
      }
      this.counter.add(1, { outcome });
    } catch (err) {
      recordFault('budget-guard.metrics', err);
    }
  }

  /** Model aliases seen, so that the regex runs once per model name, not per call. */
  private readonly aliases = new Map<string, string>();

  private aliasOf(model: string): string {
    let alias = this.aliases.get(model);
    if (alias === undefined) {
      alias = modelAlias(model);
      if (this.aliases.size < 10_000) this.aliases.set(model, alias);
    }
    return alias;
  }

  /** Fetch the view now and keep refreshing it. Resolves once the first fetch is done (good or not). */
  async start(): Promise<boolean> {
    const ok = await this.refresh();
    this.schedule();
    return ok;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Fetch the view once (concurrent calls share one request). True when a view was received. */
  refresh(): Promise<boolean> {
    this.inFlight ??= this.fetchView().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** The view in force (for health checks and tests). */
  current(): CompiledView | undefined {
    return this.view;
  }

  private schedule(): void {
    this.stop();
    this.timer = setTimeout(() => {
      this.refresh().finally(() => this.schedule());
    }, this.refreshMs);
    this.timer.unref();
  }

  private async fetchView(): Promise<boolean> {
    this.stats.refreshes++;
    try {
      // Our own polling is not the app's traffic: no spans for it.
      const res = await context.with(suppressTracing(context.active()), () =>
        this.doFetch(this.url, {
          headers: { authorization: `Bearer ${this.key}`, accept: 'application/json' },
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5_000),
        }),
      );
      if (!res.ok) throw new Error(`enforcement view answered ${res.status}`);
      const view = (await res.json()) as EnforcementView;
      if (!Array.isArray(view.hard) || !Array.isArray(view.soft) || typeof view.tenant !== 'string') {
        throw new Error('enforcement view has an unexpected shape');
      }
      this.view = compileView(view);
      this.isUnavailable = false;
      this.stats.lastRefreshAt = Date.now();
      this.stats.lastError = undefined;
      if (this.opts.refreshMs === undefined && view.refreshAfterMs > 0) this.refreshMs = view.refreshAfterMs;
      return true;
    } catch (err) {
      this.stats.refreshFailures++;
      this.stats.lastError = err instanceof Error ? err.message : String(err);
      recordFault('budget-guard.refresh', err);
      const staleAfter = this.opts.staleAfterMs ?? 5 * this.refreshMs;
      if (this.stats.lastRefreshAt === 0 || Date.now() - this.stats.lastRefreshAt > staleAfter) {
        this.isUnavailable = true;
      }
      return false;
    }
  }
}

let installed: BudgetGuard | undefined;

/**
 * Create a budget guard, make it the call guard of every instrumented SDK, and start refreshing.
 * Resolves after the first fetch; with `failOpen` (default) calls go through until a view arrives.
 */
export async function installBudgetGuard(opts: BudgetGuardOptions = {}): Promise<BudgetGuard> {
  installed?.stop();
  const guard = new BudgetGuard(opts);
  installed = guard;
  setCallGuard(guard.check);
  await guard.start();
  return guard;
}

/** Stop the installed guard and remove it from the call path. */
export function uninstallBudgetGuard(): void {
  installed?.stop();
  installed = undefined;
  setCallGuard(undefined);
}

/**
 * What `register`/`start` run: with TOKENMETER_BUDGET_GUARD=true (and TOKENMETER_URL,
 * TOKENMETER_KEY), install the guard. Never throws; until the first view arrives calls fail open.
 */
export function budgetGuardFromEnv(env: NodeJS.ProcessEnv = process.env): void {
  if (env.TOKENMETER_BUDGET_GUARD?.toLowerCase() !== 'true') return;
  try {
    installBudgetGuard({
      url: env.TOKENMETER_URL,
      key: env.TOKENMETER_KEY,
      tenant: env.TOKENMETER_TENANT || undefined,
    }).catch((err: unknown) => recordFault('budget-guard.start', err));
  } catch (err) {
    recordFault('budget-guard.start', err);
  }
}
