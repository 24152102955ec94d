import { afterEach, describe, expect, it, vi } from 'vitest';

/**
 * register's bundle (scripts/bundle-register.mjs) carries its own copy of faults.ts beside the
 * package's file: a fault recorded by one copy is counted by the other.
 */
describe('fault counts', () => {
  afterEach(async () => (await import('./faults.js')).resetFaults());

  it('are one count per process, whichever copy of the module records or reads them', async () => {
    const first = await import('./faults.js');
    first.recordFault('bundle.start', new Error('x'));
    vi.resetModules();
    const second = await import('./faults.js');
    expect(second).not.toBe(first);
    second.recordFault('bundle.start', new Error('y'));
    second.recordFault('package.call', new Error('z'));
    expect(first.faultCounts()).toEqual({ 'bundle.start': 2, 'package.call': 1 });
    expect(second.faultCounts()).toEqual(first.faultCounts());
  });
});
