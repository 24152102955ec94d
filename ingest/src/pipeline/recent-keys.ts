/**
 * The span keys written most recently, bounded. Remembers the newest start time it
 * has evicted, so the writer knows which older spans it can no longer vouch for.
 *
 * A million keys live here for as long as the process runs, so each is kept small: a key of
 * hex ids (`tenant/<32 hex>/<16 hex>`, every key OTLP gives) as one flat string of the tenant and
 * the ids' 24 bytes (about a third of the key as built, and one object instead of a tree of
 * concatenations), and its start time as whole seconds rounded up (a small integer, no BigInt).
 * Rounding up can only move `evictedUpToNs` later, so more spans are looked up in ClickHouse,
 * never fewer: the window vouches for exactly what it did.
 */
export class RecentKeys {
  private readonly keys = new Map<string, number>();
  evictedUpToNs = 0n;

  constructor(private readonly capacity: number) {}

  has(key: string): boolean {
    return this.keys.has(compactKey(key));
  }

  add(key: string, startNs: bigint): void {
    // +1: Number(startNs) may round down by a few hundred nanoseconds.
    this.keys.set(compactKey(key), Math.ceil(Number(startNs) / 1e9) + 1);
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.keys().next().value as string;
      const ns = BigInt(this.keys.get(oldest) ?? 0) * 1_000_000_000n;
      this.keys.delete(oldest);
      if (ns > this.evictedUpToNs) this.evictedUpToNs = ns;
    }
  }
}

/**
 * One key as a flat one-byte string: 0x01, the tenant (printable ASCII), the ids' 24 bytes (from
 * lower-case hex only, so no two spellings of an id meet); any other key (rare) as 0x02 and the
 * key as it is. The two kinds never meet (first character), and within the first the ids have a
 * fixed length at the end: distinct keys stay distinct.
 */
export function compactKey(key: string): string {
  const n = key.length;
  const tenantEnd = n - 50;
  if (tenantEnd < 0 || tenantEnd > 1000 || key.charCodeAt(tenantEnd) !== 0x2f || key.charCodeAt(n - 17) !== 0x2f) {
    return `\u0002${key}`;
  }
  const out = scratch;
  out[0] = 1;
  for (let i = 0; i < tenantEnd; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return `\u0002${key}`;
    out[1 + i] = c;
  }
  let o = 1 + tenantEnd;
  for (let i = tenantEnd + 1; i < n; i += 2) {
    if (i === n - 17) i++;
    const hi = hex(key.charCodeAt(i));
    const lo = hex(key.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) return `\u0002${key}`;
    out[o++] = (hi << 4) | lo;
  }
  return out.toString('latin1', 0, o);
}

const scratch = Buffer.alloc(1 + 1000 + 24);

function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}
