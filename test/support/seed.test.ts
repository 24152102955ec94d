import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSeedRows, type SeedSummary, seedCalls } from './seed.ts';
import { openTestStore, rows } from './store.ts';

const END = new Date('2026-11-20T00:00:00Z');

describe('seedCalls', () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  let summary: SeedSummary;

  beforeAll(async () => {
    store = await openTestStore('seed');
    summary = await seedCalls(store, {
      days: 3,
      end: END,
      seed: 7,
      spike: { at: new Date('2026-11-19T12:30:00Z'), factor: 10 },
    });
  });
  afterAll(() => store.close());

  it('is deterministic given the seed, and differs with another seed', () => {
    const a = buildSeedRows({ days: 1, end: END, seed: 3 });
    const b = buildSeedRows({ days: 1, end: END, seed: 3 });
    const c = buildSeedRows({ days: 1, end: END, seed: 4 });
    expect(JSON.stringify(a.rows)).toBe(JSON.stringify(b.rows));
    expect(a.summary.costUsd).toBe(b.summary.costUsd);
    expect(JSON.stringify(c.rows)).not.toBe(JSON.stringify(a.rows));
  });

  it('inserts what the summary says, with exact decimal cost', async () => {
    const [raw] = await rows<{ n: string; cost: string; savings: string; unpriced: string; errors: string }>(
      store,
      `SELECT count() AS n, toString(sum(cost_usd)) AS cost, toString(sum(cache_savings_usd)) AS savings,
              countIf(NOT priced) AS unpriced, countIf(status = 'error') AS errors
       FROM ${store.database}.ai_calls WHERE tenant = {t:String}`,
      { t: 'acme' },
    );
    expect(Number(raw?.n)).toBe(summary.calls);
    expect(raw?.cost).toBe(summary.costUsd);
    expect(raw?.savings).toBe(summary.cacheSavingsUsd);
    expect(Number(raw?.unpriced)).toBe(summary.unpriced);
    expect(Number(raw?.errors)).toBe(summary.errors);
    expect(summary.unpriced).toBeGreaterThan(0);
    expect(summary.errors).toBeGreaterThan(0);
    expect(Number(summary.cacheSavingsUsd)).toBeGreaterThan(0);
  });

  it('feeds the daily rollup, per day, to the cent and beyond', async () => {
    const daily = await rows<{ day: string; cost: string; requests: string }>(
      store,
      `SELECT toString(day) AS day, toString(sum(cost_usd)) AS cost, sum(requests) AS requests
       FROM ${store.database}.ai_rollup_daily GROUP BY day ORDER BY day`,
    );
    expect(daily.map((d) => d.day)).toEqual(Object.keys(summary.byDay).sort());
    for (const d of daily) {
      expect(d.cost).toBe(summary.byDay[d.day]?.costUsd);
      expect(Number(d.requests)).toBe(summary.byDay[d.day]?.calls);
    }
  });

  it('puts the spike in its hour', () => {
    const spike = summary.byHour['2026-11-19 12:00:00']?.calls ?? 0;
    const typical = summary.byHour['2026-11-19 11:00:00']?.calls ?? 0;
    expect(spike).toBeGreaterThan(4 * typical);
  });

  it('seeding the same data again counts once', async () => {
    await seedCalls(store, { days: 3, end: END, seed: 7, spike: { at: new Date('2026-11-19T12:30:00Z'), factor: 10 } });
    const [r] = await rows<{ n: string }>(store, `SELECT count() AS n FROM ${store.database}.ai_calls`);
    expect(Number(r?.n)).toBe(summary.calls);
  });
});
