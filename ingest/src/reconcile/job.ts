import type { Clock } from '../scheduler/clock.js';
import { DailyScheduler } from '../scheduler/daily.js';
import { configuredProviders, type ProviderOutcome, type ReconcileDeps, reconcileDay } from './run.js';
import { daysToCheck } from './store.js';

const MIN = 60_000;
/** Waits before each retry of a provider-day whose bill could not be read. */
export const RETRY_DELAYS_MS = [15 * MIN, 60 * MIN, 3 * 60 * MIN, 6 * 60 * MIN];
/** How far back the daily run looks for days never checked or whose last check failed. */
export const LOOKBACK_DAYS = 7;
/** After a start past the day's slot, the wait before catching up on unchecked days. */
export const CATCH_UP_DELAY_MS = 2 * MIN;

/**
 * The daily reconciliation: at TOKENMETER_RECONCILE_AT (UTC) it checks yesterday, and every
 * day of the last week never checked or whose latest check failed, for each configured
 * provider. A provider that is down is retried after 15 min, 1 h, 3 h and 6 h; after that the
 * next daily run picks the day up again (the 'error' row is the durable to-do). A service
 * started after the day's slot catches up two minutes later, so a restart loses nothing.
 */
export class ReconcileJob {
  private readonly scheduler: DailyScheduler;
  private readonly retries = new Map<string, unknown>();
  private readonly running = new Set<Promise<unknown>>();
  private catchUp: unknown;

  constructor(
    private readonly deps: ReconcileDeps & { clock: Clock },
    private readonly retryDelaysMs: readonly number[] = RETRY_DELAYS_MS,
  ) {
    this.scheduler = new DailyScheduler({
      name: 'reconcile',
      at: deps.config.reconcileAt,
      clock: deps.clock,
      log: deps.log,
      run: (slot) => this.runDaily(slot).then(() => undefined),
    });
  }

  start(): void {
    if (configuredProviders(this.deps.config).length === 0) {
      this.deps.log.info('reconciliation is off: no OPENAI_ADMIN_KEY or ANTHROPIC_ADMIN_KEY');
      return;
    }
    this.scheduler.start();
    const now = this.deps.clock.now();
    const [h, m] = this.deps.config.reconcileAt;
    const todaysSlot = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), h, m);
    if (now.getTime() >= todaysSlot) {
      this.catchUp = this.deps.clock.setTimeout(() => {
        this.catchUp = undefined;
        const p = this.runDaily().catch((err) =>
          this.deps.log.error({ err: (err as Error).message }, 'reconciliation catch-up failed'),
        );
        this.running.add(p);
        return p.finally(() => this.running.delete(p));
      }, CATCH_UP_DELAY_MS);
    }
  }

  nextRun(): Date {
    return this.scheduler.next();
  }

  /** One daily run, as of `now`. */
  async runDaily(now: Date = this.deps.clock.now()): Promise<ProviderOutcome[]> {
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    const yesterday = isoDay(today - 86_400_000);
    const outcomes: ProviderOutcome[] = [];
    for (const provider of configuredProviders(this.deps.config)) {
      const due = await daysToCheck(this.deps.store, {
        tenant: this.deps.config.billingTenant,
        provider,
        from: isoDay(today - LOOKBACK_DAYS * 86_400_000),
        to: yesterday,
      });
      for (const day of new Set([...due, yesterday])) {
        outcomes.push(...(await this.check(provider, day, 0)));
      }
    }
    return outcomes;
  }

  private async check(provider: string, day: string, attempt: number): Promise<ProviderOutcome[]> {
    const deps = { ...this.deps, now: () => this.deps.clock.now() };
    const outcomes = await reconcileDay(deps, day, { providers: [provider] });
    for (const o of outcomes) {
      if (o.status === 'error') this.scheduleRetry(provider, day, attempt);
      else this.retries.delete(`${provider}/${day}`);
    }
    return outcomes;
  }

  private scheduleRetry(provider: string, day: string, attempt: number): void {
    const key = `${provider}/${day}`;
    const delay = this.retryDelaysMs[attempt];
    const pending = this.retries.get(key);
    if (pending !== undefined) this.deps.clock.clearTimeout(pending);
    if (delay === undefined) {
      this.retries.delete(key);
      this.deps.log.warn(
        { provider, day },
        'billing still unavailable after every retry; the next daily run tries again',
      );
      return;
    }
    this.retries.set(
      key,
      this.deps.clock.setTimeout(() => {
        this.retries.delete(key);
        const p = this.check(provider, day, attempt + 1).catch((err) =>
          this.deps.log.error({ provider, day, err: (err as Error).message }, 'reconciliation retry failed'),
        );
        this.running.add(p);
        return p.finally(() => this.running.delete(p));
      }, delay),
    );
  }

  /** Pending retries, as "provider/day" (for status and tests). */
  pendingRetries(): string[] {
    return [...this.retries.keys()];
  }

  async stop(): Promise<void> {
    if (this.catchUp !== undefined) this.deps.clock.clearTimeout(this.catchUp);
    this.catchUp = undefined;
    for (const h of this.retries.values()) this.deps.clock.clearTimeout(h);
    this.retries.clear();
    await this.scheduler.stop();
    await Promise.allSettled([...this.running]);
  }
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
