/**
 * A token bucket per API key: `perSecond` requests a second on average, up to
 * `burst` at once. `admit` answers 0 when the request may go, else the seconds to
 * wait (the Retry-After of a 429). perSecond = 0 turns the limit off.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  admit(keyId: string, now = performance.now()): number {
    if (this.perSecond <= 0) return 0;
    let b = this.buckets.get(keyId);
    if (!b) {
      b = { tokens: this.burst, at: now };
      this.buckets.set(keyId, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
  }
}
