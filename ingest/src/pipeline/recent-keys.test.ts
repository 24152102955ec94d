import { describe, expect, it } from 'vitest';
import { compactKey, RecentKeys } from './recent-keys.js';
import { spanKey } from './rows.js';

const trace = (n: number) => n.toString(16).padStart(32, 'a');
const span = (n: number) => n.toString(16).padStart(16, 'b');

describe('the recent keys window', () => {
  it('keeps distinct keys distinct, hex ids compacted or not', () => {
    const keys = [
      spanKey('acme', trace(1), span(1)),
      spanKey('acme', trace(1), span(2)),
      spanKey('acme', trace(2), span(1)),
      spanKey('acm', `e/${trace(1)}`.slice(0, 32), span(1)),
      spanKey('a/b', trace(1), span(1)),
      spanKey('a', `b/${trace(1)}`.slice(0, 32), span(1)),
      spanKey('', trace(1), span(1)),
      spanKey('ü', trace(1), span(1)),
      spanKey('acme', 'not-hex', span(1)),
      spanKey('acme', trace(1).toUpperCase(), span(1)),
      `\u0001${spanKey('acme', trace(1), span(1))}`,
    ];
    const compact = keys.map(compactKey);
    expect(new Set(compact).size).toBe(keys.length);
    // Hex ids take their 24 bytes: the key is a third shorter than built.
    expect(compact[0]!.length).toBe(1 + 4 + 24);
    expect(compactKey(spanKey('acme', trace(1), span(1)))).toBe(compact[0]);
  });

  it('remembers keys up to its capacity and never vouches for a span older than what it evicted', () => {
    const recent = new RecentKeys(2);
    const at = (s: number) => BigInt(s) * 1_000_000_000n + 123n;
    recent.add(spanKey('t', trace(1), span(1)), at(100));
    recent.add(spanKey('t', trace(2), span(2)), at(200));
    expect(recent.has(spanKey('t', trace(1), span(1)))).toBe(true);
    expect(recent.evictedUpToNs).toBe(0n);
    recent.add(spanKey('t', trace(3), span(3)), at(150));
    expect(recent.has(spanKey('t', trace(1), span(1)))).toBe(false);
    expect(recent.has(spanKey('t', trace(2), span(2)))).toBe(true);
    // Rounded up, never down: every span at or before the evicted one's start is looked up.
    expect(recent.evictedUpToNs >= at(100)).toBe(true);
    expect(recent.evictedUpToNs <= at(100) + 3_000_000_000n).toBe(true);
  });
});
