import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/reconcile/fake-clock.ts';
import { readCostConfig } from '../reconcile/config.ts';
import { DailyScheduler, nextRunAfter } from './daily.ts';

const log = pino({ level: 'silent' });

describe('nextRunAfter', () => {
  it.each([
    ['2026-11-23T01:59:59.999Z', [2, 0], '2026-11-23T02:00:00.000Z'],
    ['2026-11-23T02:00:00.000Z', [2, 0], '2026-11-24T02:00:00.000Z'],
    ['2026-11-23T23:30:00.000Z', [2, 0], '2026-11-24T02:00:00.000Z'],
    ['2026-12-31T05:31:00.000Z', [5, 30], '2027-01-01T05:30:00.000Z'],
    ['2028-02-28T12:00:00.000Z', [0, 0], '2028-02-29T00:00:00.000Z'],
  ] as const)('after %s at %j is %s', (now, at, next) => {
    expect(nextRunAfter(new Date(now), at).toISOString()).toBe(next);
  });
});

describe('DailyScheduler with an injected clock', () => {
  it('runs at the configured UTC time every day, goes on after a failing run, and stops', async () => {
    const clock = new FakeClock(new Date('2026-11-23T10:00:00Z'));
    const runs: string[] = [];
    const at = readCostConfig({ TOKENMETER_RECONCILE_AT: '05:30' }).reconcileAt;
    const s = new DailyScheduler({
      name: 'test',
      at,
      clock,
      log,
      run: async (slot) => {
        runs.push(`${slot.toISOString()} @ ${clock.now().toISOString()}`);
        if (runs.length === 1) throw new Error('the first run fails');
      },
    });
    s.start();
    expect(s.next().toISOString()).toBe('2026-11-24T05:30:00.000Z');
    await clock.advance(19.5 * 3_600_000 - 1);
    expect(runs).toEqual([]);
    await clock.advance(1);
    await clock.advance(2 * 86_400_000);
    expect(runs).toEqual([
      '2026-11-24T05:30:00.000Z @ 2026-11-24T05:30:00.000Z',
      '2026-11-25T05:30:00.000Z @ 2026-11-25T05:30:00.000Z',
      '2026-11-26T05:30:00.000Z @ 2026-11-26T05:30:00.000Z',
    ]);
    await s.stop();
    expect(clock.pending()).toEqual([]);
    await clock.advance(2 * 86_400_000);
    expect(runs).toHaveLength(3);
  });

  it('defaults to 02:00 UTC and refuses a malformed time', () => {
    expect(readCostConfig({}).reconcileAt).toEqual([2, 0]);
    expect(() => readCostConfig({ TOKENMETER_RECONCILE_AT: '2am' })).toThrow(/TOKENMETER_RECONCILE_AT must be HH:MM/);
    expect(() => readCostConfig({ TOKENMETER_DRIFT_THRESHOLD_PCT: '0' })).toThrow(/TOKENMETER_DRIFT_THRESHOLD_PCT/);
    expect(
      readCostConfig({ TOKENMETER_BILLING_PROJECTS: 'proj_a=chat-api|search, wrkspc_1=jobs' }).billingProjects,
    ).toEqual({
      proj_a: ['chat-api', 'search'],
      wrkspc_1: ['jobs'],
    });
    expect(() => readCostConfig({ TOKENMETER_BILLING_PROJECTS: 'proj_a' })).toThrow(/TOKENMETER_BILLING_PROJECTS/);
  });
});
