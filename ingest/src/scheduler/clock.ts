/** Time and timers, injected so that schedules can be tested without waiting. */
export interface Clock {
  now(): Date;
  /** Run `fn` after `ms`; the handle cancels it. `fn` may return a promise (awaited by test clocks). */
  setTimeout(fn: () => unknown, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The longest single wait; longer ones are chained (setTimeout's limit is 2^31 − 1 ms). */
const MAX_WAIT_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => new Date(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.min(Math.max(ms, 0), MAX_WAIT_MS));
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
