import type { Clock } from '../../ingest/src/scheduler/clock.ts';

/** A clock for tests: time moves only by advance(), which runs due timers and awaits what they return. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => unknown }>();

  constructor(start: Date) {
    this.t = start.getTime();
  }

  now(): Date {
    return new Date(this.t);
  }

  setTimeout(fn: () => unknown, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers still waiting, as ISO times. */
  pending(): string[] {
    return [...this.timers.values()].map((t) => new Date(t.at).toISOString()).sort();
  }

  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      await due[1].fn();
    }
    this.t = end;
  }
}
