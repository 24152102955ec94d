import type { Logger } from 'pino';
import type { Clock } from './clock.js';

/** The first moment at hour:minute UTC strictly after `now`. */
export function nextRunAfter(now: Date, at: readonly [number, number]): Date {
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), at[0], at[1]));
  if (next.getTime() <= now.getTime()) next.setUTCDate(next.getUTCDate() + 1);
  return next;
}

/**
 * Runs a job once a day at a fixed UTC time, in process. One run at a time: a run still
 * going at the next slot makes that slot wait for it. A failing run is logged and the
 * schedule goes on. Several replicas each run it: the jobs it drives are idempotent.
 */
export class DailyScheduler {
  private handle: unknown;
  private stopped = true;
  private current: Promise<void> | undefined;

  constructor(
    private readonly opts: {
      name: string;
      at: readonly [number, number];
      clock: Clock;
      run: (slot: Date) => Promise<void>;
      log: Logger;
    },
  ) {}

  start(): void {
    this.stopped = false;
    this.arm();
  }

  /** When the next run is due. */
  next(): Date {
    return nextRunAfter(this.opts.clock.now(), this.opts.at);
  }

  private arm(): void {
    if (this.stopped) return;
    const slot = this.next();
    const wait = slot.getTime() - this.opts.clock.now().getTime();
    this.handle = this.opts.clock.setTimeout(() => {
      // A long timer may fire early (chained waits): re-arm until the slot is reached.
      if (this.opts.clock.now().getTime() < slot.getTime()) {
        this.arm();
        return undefined;
      }
      return this.fire(slot);
    }, wait);
  }

  private async fire(slot: Date): Promise<void> {
    await this.current;
    this.current = (async () => {
      try {
        this.opts.log.info({ job: this.opts.name, slot: slot.toISOString() }, 'scheduled job starting');
        await this.opts.run(slot);
      } catch (err) {
        this.opts.log.error({ job: this.opts.name, err: (err as Error).message }, 'scheduled job failed');
      }
    })();
    // Arm the next slot before waiting, so a long run never skips a day.
    this.arm();
    await this.current;
  }

  /** Stop scheduling; resolves when a run in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.handle !== undefined) this.opts.clock.clearTimeout(this.handle);
    this.handle = undefined;
    await this.current;
  }
}
