import { describe, expect, it } from 'vitest';
import { budgetAlerts, severityOf } from './alerts.js';
import { enforcementView } from './enforcement.js';
import { parseBudgetInput } from './parse.js';
import { periodBounds, periodLabel } from './period.js';
import { budgetStatus } from './status.js';
import type { Budget } from './types.js';

const budget = (over: Partial<Budget> = {}): Budget => ({
  id: 'b1',
  tenant: 'acme',
  name: 'team',
  scope: { team: 'search', user: '', feature: '', model: '' },
  period: 'month',
  amountUsd: '100',
  mode: 'hard',
  thresholds: [75, 90, 100],
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-01T00:00:00.000Z',
  ...over,
});

describe('periodBounds (UTC)', () => {
  it.each([
    ['day', '2026-11-23T23:59:59Z', '2026-11-23T00:00:00.000Z', '2026-11-24T00:00:00.000Z'],
    ['week', '2026-11-23T10:00:00Z', '2026-11-23T00:00:00.000Z', '2026-11-30T00:00:00.000Z'], // a Monday
    ['week', '2026-11-29T23:00:00Z', '2026-11-23T00:00:00.000Z', '2026-11-30T00:00:00.000Z'], // its Sunday
    ['month', '2026-12-31T23:00:00Z', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['month', '2028-02-29T12:00:00Z', '2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
  ] as const)('%s containing %s', (period, now, start, end) => {
    const b = periodBounds(period, new Date(now));
    expect([b.start.toISOString(), b.end.toISOString()]).toEqual([start, end]);
  });
  it('labels', () => {
    expect(periodLabel('month', new Date('2026-11-01T00:00:00Z'))).toBe('2026-11');
    expect(periodLabel('day', new Date('2026-11-23T00:00:00Z'))).toBe('2026-11-23');
    expect(periodLabel('week', new Date('2026-11-23T00:00:00Z'))).toBe('week-2026-11-23');
  });
});

describe('budgetStatus: exact decimal thresholds', () => {
  it.each([
    ['74.999999999999', 74.99, []],
    ['75', 75, [75]],
    ['89.99', 89.99, [75]],
    ['90.000000000001', 90, [75, 90]],
    ['100', 100, [75, 90, 100]],
    ['250.5', 250.5, [75, 90, 100]],
    ['0', 0, []],
  ])('spend %s of 100 → %s %%, crossed %j', (spend, percent, crossed) => {
    const s = budgetStatus(budget(), spend, new Date('2026-11-23T12:00:00Z'));
    expect(s.percent).toBe(percent);
    expect(s.crossed).toEqual(crossed);
  });
});

describe('budgetStatus: a wrapped (negative) sum is spent through, never a credit', () => {
  it('crosses every threshold and puts a hard budget in the enforcement view', () => {
    const now = new Date('2026-11-23T12:00:00Z');
    const s = budgetStatus(budget(), '-142282366920938463463374607.43', now);
    expect(s.crossed).toEqual([75, 90, 100]);
    expect(s.percent).toBe(100);
    expect(enforcementView('acme', [s], now, 1000).hard.map((h) => h.budgetId)).toEqual(['b1']);
  });
});

describe('budgetAlerts', () => {
  const now = new Date('2026-11-23T12:00:00Z');
  it('one alert per crossed threshold, severity by threshold, stable labels', () => {
    const alerts = budgetAlerts([budgetStatus(budget(), '95', now)]);
    expect(alerts.map((a) => [a.labels.threshold, a.labels.severity])).toEqual([
      ['75', 'info'],
      ['90', 'warning'],
    ]);
    expect(alerts[0]?.labels).toMatchObject({
      alertname: 'BudgetThreshold',
      tenant: 'acme',
      scope: 'team=search',
      period: '2026-11',
    });
    expect(severityOf(100)).toBe('page');
  });
  it('fingerprints change with the period and the budget version, not with spend', () => {
    const fp = (b: Budget, spend: string, at: Date) => budgetAlerts([budgetStatus(b, spend, at)])[0]?.fingerprint;
    const a = fp(budget(), '80', now);
    expect(fp(budget(), '85', new Date('2026-11-30T00:00:00Z'))).toBe(a);
    expect(fp(budget(), '80', new Date('2026-12-01T00:00:00Z'))).not.toBe(a);
    expect(fp(budget({ updatedAt: '2026-11-20T00:00:00.000Z' }), '80', now)).not.toBe(a);
  });
});

describe('enforcementView', () => {
  it('hard budgets at 100 % or more, soft ones past a threshold, this tenant only', () => {
    const now = new Date('2026-11-23T12:00:00Z');
    const v = enforcementView(
      'acme',
      [
        budgetStatus(budget({ id: 'h-over' }), '100', now),
        budgetStatus(budget({ id: 'h-under' }), '99.99', now),
        budgetStatus(budget({ id: 's-warn', mode: 'soft' }), '76', now),
        budgetStatus(budget({ id: 's-low', mode: 'soft' }), '10', now),
        budgetStatus(budget({ id: 'other', tenant: 'other' }), '500', now),
      ],
      now,
      5000,
    );
    expect(v.hard.map((h) => h.budgetId)).toEqual(['h-over']);
    expect(v.soft.map((s) => [s.budgetId, s.percent])).toEqual([['s-warn', 76]]);
  });
});

describe('parseBudgetInput', () => {
  it('defaults and normalises', () => {
    expect(parseBudgetInput({ period: 'week', amountUsd: 12.5, thresholds: [100, 50, 50] })).toEqual({
      name: '',
      scope: { team: '', user: '', feature: '', model: '' },
      period: 'week',
      amountUsd: '12.5',
      mode: 'soft',
      thresholds: [50, 100],
    });
  });
  it.each([
    [null, /object/],
    [{ period: 'day' }, /amountUsd/],
    [{ period: 'day', amountUsd: '0' }, /amountUsd/],
    [{ period: 'day', amountUsd: '1.1234567890123' }, /amountUsd/],
    [{ period: 'day', amountUsd: '1', scope: { user: 'a\nb' } }, /scope\.user/],
  ])('%j is refused', (body, message) => {
    expect(() => parseBudgetInput(body)).toThrow(message);
  });
});
