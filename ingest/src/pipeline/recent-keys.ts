/**
 * The span keys written most recently, bounded. Remembers the newest start time it
 * has evicted, so the writer knows which older spans it can no longer vouch for.
 */
export class RecentKeys {
  private readonly keys = new Map<string, bigint>();
  evictedUpToNs = 0n;

  constructor(private readonly capacity: number) {}

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(key: string, startNs: bigint): void {
    this.keys.set(key, startNs);
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.keys().next().value as string;
      const ns = this.keys.get(oldest) ?? 0n;
      this.keys.delete(oldest);
      if (ns > this.evictedUpToNs) this.evictedUpToNs = ns;
    }
  }
}
