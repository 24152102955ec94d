import { describe, expect, it } from 'vitest';
import { compareDay, driftPercent } from './compare.ts';
import { centsToScaled, usdToScaled } from './money.ts';
import { type BilledDay, canonicalModel, type TrackedDay } from './types.ts';

const U = 10n ** 12n;

describe('billing amounts, exact', () => {
  it.each([
    [0.06, 60_000_000_000n],
    ['0.06', 60_000_000_000n],
    [1e-7, 100_000n],
    ['12.345678901234567', 12_345_678_901_235n],
    [123, 123n * U],
  ] as const)('OpenAI amount.value %j', (v, scaled) => {
    expect(usdToScaled(v, 'v')).toBe(scaled);
  });
  it.each([
    ['123.45', 1_234_500_000_000n],
    ['0.0001', 1_000_000n],
    ['100', U],
  ] as const)('Anthropic cents %j', (v, scaled) => {
    expect(centsToScaled(v, 'amount')).toBe(scaled);
  });
  it('refuses what is not an amount', () => {
    expect(() => usdToScaled(undefined, 'amount.value')).toThrow(/amount.value/);
    expect(() => centsToScaled('1,5', 'amount')).toThrow(/not a decimal/);
  });
});

describe('canonicalModel', () => {
  it.each([
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['claude-3-5-haiku-latest', 'claude-3-5-haiku'],
    ['GPT-4o', 'gpt-4o'],
  ])('%s → %s', (a, b) => expect(canonicalModel(a)).toBe(b));
});

describe('compareDay', () => {
  const billed = (total: bigint | undefined, byModel: [string, bigint][] = []): BilledDay => ({
    provider: 'openai',
    day: '2026-11-20',
    hasData: total !== undefined,
    total: total ?? 0n,
    byModel: new Map(byModel),
    byProject: new Map(),
    usageByModel: new Map(),
  });
  const tracked = (byModel: [string, bigint][], byService: [string, bigint][] = []): TrackedDay => ({
    byService: new Map(byService),
    total: byModel.reduce((a, [, c]) => a + c, 0n),
    byModel: new Map(
      byModel.map(([m, cost]) => [
        m,
        { cost, requests: 1, unpriced: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0 },
      ]),
    ),
  });
  const opts = { tenant: '*', thresholdPct: 2 };

  // Drift = (billed − tracked) / tracked, in percent (driftPercent): the one definition.
  it.each([
    ['equal', 100n * U, 100n * U, 'match', 0],
    ['bill 1.5 % above tracked, inside 2 %', 1000n * U, 1015n * U, 'match', 1.5],
    ['bill 5 % above tracked', 100n * U, 105n * U, 'drift', 5],
    ['bill 5 % below tracked', 100n * U, 95n * U, 'drift', -5],
    ['tracked 5 % above the bill', 105n * U, 100n * U, 'drift', -4.7619],
    ['no bill line: billed nothing', 100n * U, undefined, 'missing', -100],
    ['nothing tracked: drift has no value', 0n, 100n * U, 'missing', null],
    ['nothing anywhere', 0n, undefined, 'match', 0],
  ] as const)('%s', (_name, t, b, status, drift) => {
    const [total] = compareDay(billed(b), tracked(t ? [['gpt-4o', t]] : []), opts);
    expect(total).toMatchObject({ dimension: 'total', status, driftPct: drift });
  });

  it('driftPercent: +5 for a bill 5 % above tracked, null for an unknown bill', () => {
    expect(driftPercent(200n * U, 210n * U)).toBe(5);
    expect(driftPercent(200n * U, 190n * U)).toBe(-5);
    expect(driftPercent(200n * U, null)).toBeNull();
    expect(driftPercent(0n, 1n)).toBeNull();
    expect(driftPercent(0n, 0n)).toBe(0);
  });

  it('compares each model either side knows', () => {
    const rows = compareDay(
      billed(300n * U, [
        ['gpt-4o', 200n * U],
        ['gpt-4o-mini', 100n * U],
      ]),
      tracked([
        ['gpt-4o', 200n * U],
        ['o3', 5n * U],
      ]),
      opts,
    );
    expect(rows.map((r) => [r.dimension, r.key, r.status])).toEqual([
      ['total', '', 'drift'],
      ['model', 'gpt-4o', 'match'],
      ['model', 'gpt-4o-mini', 'missing'],
      ['model', 'o3', 'missing'],
    ]);
  });

  it('compares a project when TOKENMETER_BILLING_PROJECTS says which services it bills', () => {
    const b = billed(300n * U, [['gpt-4o', 300n * U]]);
    b.byProject.set('proj_chat', 200n * U);
    b.byProject.set('proj_batch', 100n * U);
    const t = tracked(
      [['gpt-4o', 300n * U]],
      [
        ['chat-api', 150n * U],
        ['search', 50n * U],
        ['batch-worker', 90n * U],
      ],
    );
    const rows = compareDay(b, t, {
      ...opts,
      projects: { proj_chat: ['chat-api', 'search'], proj_batch: ['batch-worker'] },
    }).filter((r) => r.dimension === 'project');
    expect(rows.map((r) => [r.key, r.status, r.driftPct])).toEqual([
      ['proj_batch', 'drift', 11.1111],
      ['proj_chat', 'match', 0],
    ]);
  });
});
