import type { Logger } from 'pino';
import type { IngestPricer } from '../pipeline/pricing.js';
import type { Store } from '../store/client.js';
import { listOverrides } from './overrides.js';

/**
 * Keeps the ingest pricer's overrides equal to `price_overrides`: loaded at start, re-read
 * every `intervalMs` (so every replica picks up a change without a restart), and at once
 * after a change through this replica's API. A failed read keeps the overrides in force.
 */
export class OverrideRefresher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly deps: { store: Store; pricer: IngestPricer; log: Logger; intervalMs: number }) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.deps.intervalMs);
    this.timer.unref();
  }

  refresh(): Promise<void> {
    this.running ??= (async () => {
      try {
        const overrides = await listOverrides(this.deps.store);
        this.deps.pricer.setOverrides(overrides);
      } catch (err) {
        this.deps.log.warn({ err: (err as Error).message }, 'price overrides not refreshed; keeping the ones in force');
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
