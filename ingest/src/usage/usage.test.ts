import { describe, expect, it } from 'vitest';
import { remainingUses } from './estimate.js';
import { exportWindows, formatRow } from './export.js';
import { moneyFound, withoutMoney } from './money.js';
import { projectSpend } from './projection.js';

describe('remainingUses', () => {
  it.each([
    [10, { p10: 0.01, p50: 0.02, p90: 0.05 }, 150, { min: 200, expected: 500, max: 1000, confidence: 'high' }],
    [10, { p10: 0.01, p50: 0.02, p90: 0.05 }, 30, { min: 200, expected: 500, max: 1000, confidence: 'medium' }],
    [0, { p10: 0.01, p50: 0.02, p90: 0.05 }, 5, { min: 0, expected: 0, max: 0, confidence: 'low' }],
  ])('%s USD left', (left, cost, calls, expected) => {
    expect(remainingUses(left, cost, calls)).toMatchObject(expected);
  });
  it('no calls: no estimate', () => {
    expect(remainingUses(10, { p10: 0, p50: 0, p90: 0 }, 0)).toBeNull();
  });
});

describe('projectSpend', () => {
  it('spent + daily mean × days left, band from the daily spread', () => {
    const p = projectSpend({
      spentUsd: 100,
      trailingDaily: [10, 10, 10, 10, 10, 10, 10],
      now: new Date('2026-11-21T00:00:00Z'),
      periodEnd: new Date('2026-12-01T00:00:00Z'),
    });
    expect(p).toMatchObject({ projectedUsd: 200, lowUsd: 200, highUsd: 200, daysRemaining: 10, basedOnDays: 7 });
    expect(p.method).toMatch(/run-rate/);
  });
});

describe('exportWindows', () => {
  it('groups whole hours into windows of about a page; a big hour stands alone', () => {
    const h = (i: number) => i * 3600;
    expect(
      exportWindows(
        [
          { hour: h(0), n: 40 },
          { hour: h(1), n: 40 },
          { hour: h(2), n: 500 },
          { hour: h(5), n: 10 },
        ],
        100,
        h(0) + 30,
        h(6),
      ),
    ).toEqual([
      { from: h(0) + 30, to: h(2) },
      { from: h(2), to: h(5) },
      { from: h(5), to: h(6) },
    ]);
  });
});

describe('user view', () => {
  it('strips every money key and dollar sign, and the scanner finds what is left', () => {
    const body = {
      a: { costUsd: '1', requests: 2, spendUsd: '3', note: 'is $5' },
      budget: { amountUsd: '9', percentUsed: 50 },
    };
    expect(moneyFound(body).length).toBe(4);
    expect(withoutMoney(body)).toEqual({ a: { requests: 2, note: 'is 5' }, budget: { percentUsed: 50 } });
    expect(moneyFound(withoutMoney(body))).toEqual([]);
  });
  it('CSV cells are quoted when they must be', () => {
    const row = { timestamp: 't', service: 'a,b', trace_id: 'x"y', priced: true, cost_usd: null } as never;
    expect(formatRow('csv', row, false).startsWith('t,"a,b","x""y",')).toBe(true);
  });
});
