import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOverrides, putOverride } from '../../ingest/src/prices/overrides.ts';
import { reprice } from '../../ingest/src/prices/reprice.ts';
import { parseUsd } from '../../instrumentation/src/prices/index.ts';
import { buildSeedRows, seedCalls } from '../support/seed.ts';
import { openTestStore, rows } from '../support/store.ts';
import { expectRollupsEqualRaw } from './consistency.ts';

const DAY = 86_400_000;
// A closed day well inside retention: two days before today (UTC).
const END = new Date(Math.floor(Date.now() / DAY) * DAY - DAY);
const START = new Date(END.getTime() - DAY);
const MIDDAY = new Date(START.getTime() + 12 * 3_600_000 + 30 * 60_000);
const SEED = { days: 1, end: END, seed: 11, callsPerHour: 8 } as const;

/** The hand-written price of the override: $1 / $2 per 1M input / output tokens, cache reads $0.50. */
function overridePrice(r: { input_tokens: string; output_tokens: string; cache_read_tokens: string }): bigint {
  const input = BigInt(r.input_tokens);
  const cached = BigInt(r.cache_read_tokens);
  // 12-decimal scale: 1 USD/M tokens = 1_000_000 units per token.
  return (input - cached) * 1_000_000n + cached * 500_000n + BigInt(r.output_tokens) * 2_000_000n;
}

describe('reprice after a mid-day price change', () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  const seeded = buildSeedRows(SEED).rows;
  const before = new Map(seeded.map((r) => [r.span_id, r]));
  let result: Awaited<ReturnType<typeof reprice>>;

  beforeAll(async () => {
    store = await openTestStore('reprice');
    await seedCalls(store, SEED);
    await putOverride(store, {
      id: 'mini-negotiated',
      provider: 'openai',
      model: 'gpt-4o-mini',
      effectiveFrom: MIDDAY.toISOString(),
      prices: { input_mtok: 1, output_mtok: 2, cache_read_mtok: 0.5 },
      note: 'test: a price correction effective mid-day',
    });
    result = await reprice(store, {
      from: START,
      to: END,
      tenant: '*',
      actor: 'test',
      overrides: await listOverrides(store),
      ttlDays: 90,
    });
  });
  afterAll(() => store.close());

  it('changes exactly the gpt-4o-mini calls after the effective time, to the override price', async () => {
    const expectedChanged = seeded.filter(
      (r) =>
        r.model === 'gpt-4o-mini' &&
        r.status !== 'error' &&
        `${r.timestamp.replace(' ', 'T')}Z` >= MIDDAY.toISOString(),
    );
    expect(expectedChanged.length).toBeGreaterThan(10);
    // Error calls have zero tokens: re-priced to the same $0, so not changed.
    expect(result.changed).toBe(expectedChanged.length);
    expect(result.examined).toBe(seeded.length);

    const stored = await rows<{
      span_id: string;
      timestamp: string;
      model: string;
      cost: string | null;
      price_id: string;
      input_tokens: string;
      output_tokens: string;
      cache_read_tokens: string;
    }>(
      store,
      `SELECT span_id, toString(timestamp) AS timestamp, model, toString(cost_usd) AS cost, price_id,
              input_tokens, output_tokens, cache_read_tokens
       FROM ${store.database}.ai_calls FINAL`,
    );
    expect(stored.length).toBe(seeded.length);
    let after = 0;
    let earlier = 0;
    for (const s of stored) {
      const orig = before.get(s.span_id)!;
      const isAfter = `${s.timestamp.replace(' ', 'T')}Z` >= MIDDAY.toISOString();
      if (s.model === 'gpt-4o-mini' && isAfter) {
        after++;
        expect(parseUsd(s.cost!)).toBe(overridePrice(s));
        expect(s.price_id).toBe('override:mini-negotiated');
      } else {
        if (s.model === 'gpt-4o-mini') earlier++;
        expect(s.cost === null ? null : parseUsd(s.cost)).toBe(orig.cost_usd === null ? null : parseUsd(orig.cost_usd));
        expect(s.price_id).toBe(orig.price_id);
      }
    }
    expect(after).toBeGreaterThan(10);
    expect(earlier).toBeGreaterThan(10);
  });

  it('leaves one version of each call, even for readers without FINAL', async () => {
    const [r] = await rows<{ n: string; distinct_spans: string }>(
      store,
      `SELECT count() AS n, uniqExact(span_id) AS distinct_spans FROM ${store.database}.ai_calls`,
    );
    expect(Number(r?.n)).toBe(seeded.length);
    expect(Number(r?.distinct_spans)).toBe(seeded.length);
  });

  it('rollups equal the raw sums afterwards, hour by hour and day by day', async () => {
    await expectRollupsEqualRaw(store);
    const [raw] = await rows<{ cost: string }>(
      store,
      `SELECT toString(sum(cost_usd)) AS cost FROM ${store.database}.ai_calls FINAL`,
    );
    // The totals moved by exactly what the result reports.
    const seededTotal = seeded.reduce((a, r) => a + (r.cost_usd === null ? 0n : parseUsd(r.cost_usd)), 0n);
    expect(parseUsd(raw!.cost)).toBe(seededTotal - parseUsd(result.costBeforeUsd) + parseUsd(result.costAfterUsd));
    expect(parseUsd(result.costAfterUsd)).toBeGreaterThan(parseUsd(result.costBeforeUsd));
  });

  it('keeps an audit row of what changed', async () => {
    const audit = await rows<{ action: string; actor: string; details: string }>(
      store,
      `SELECT action, actor, details FROM ${store.database}.audit_log WHERE action = 'reprice'`,
    );
    expect(audit).toHaveLength(1);
    const d = JSON.parse(audit[0]!.details);
    expect(d.changed).toBe(result.changed);
    expect(d.overrides).toEqual(['mini-negotiated']);
    expect(d.byModel['openai/gpt-4o-mini'].changed).toBe(result.changed);
  });

  it('is idempotent: a second run changes nothing and rollups still match', async () => {
    const again = await reprice(store, {
      from: START,
      to: END,
      tenant: '*',
      actor: 'test',
      overrides: await listOverrides(store),
      ttlDays: 90,
    });
    expect(again.changed).toBe(0);
    await expectRollupsEqualRaw(store);
  });

  it('never writes a cost above the per-call cap: those calls keep theirs and are counted', async () => {
    const costs = async () =>
      rows<{ span_id: string; cost: string | null }>(
        store,
        `SELECT span_id, toString(cost_usd) AS cost FROM ${store.database}.ai_calls FINAL ORDER BY span_id`,
      );
    const kept = await costs();
    // An override a million times dearer, from the start of the window: every gpt-4o-mini call
    // with tokens would cost more than a $0.01 cap.
    const absurd = {
      id: 'absurd',
      provider: 'openai',
      model: 'gpt-4o-mini',
      effectiveFrom: START.toISOString(),
      prices: { input_mtok: 1_000_000, output_mtok: 1_000_000 },
    };
    const minis = seeded.filter(
      (r) => r.model === 'gpt-4o-mini' && Number(r.input_tokens) + Number(r.output_tokens) > 0,
    );
    expect(minis.length).toBeGreaterThan(10);
    const capped = await reprice(store, {
      from: START,
      to: END,
      tenant: '*',
      actor: 'test',
      overrides: [absurd],
      bounds: { factor: 10, maxCallUsd: '0.01' },
      ttlDays: 90,
    });
    expect(capped.aboveCap).toBe(minis.length);
    // Nothing else changes in cost: only zero-token (error) calls, $0 at any price, take the new price id.
    const zero = seeded.filter(
      (r) => r.model === 'gpt-4o-mini' && Number(r.input_tokens) + Number(r.output_tokens) === 0,
    );
    expect(capped.changed).toBeLessThanOrEqual(zero.length);
    expect(capped.costAfterUsd).toBe('0');
    expect(capped.costBeforeUsd).toBe('0');
    const after = new Map((await costs()).map((r) => [r.span_id, r.cost]));
    for (const r of kept) if (minis.some((m) => m.span_id === r.span_id)) expect(after.get(r.span_id)).toBe(r.cost);
    for (const cost of after.values()) if (cost !== null) expect(parseUsd(cost) <= parseUsd('1000')).toBe(true);
    await expectRollupsEqualRaw(store);
  });

  it('refuses while a materialized view it cannot rebuild reads ai_calls', async () => {
    const db = store.database;
    await store.writer.command({
      query: `CREATE MATERIALIZED VIEW ${db}.extra_mv ENGINE = SummingMergeTree ORDER BY model AS SELECT model, count() AS n FROM ${db}.ai_calls GROUP BY model`,
    });
    const args = { from: START, to: END, tenant: '*', actor: 't', overrides: [], ttlDays: 90 };
    await expect(reprice(store, args)).rejects.toThrow(/extra_mv/);
    await store.writer.command({ query: `DROP VIEW ${db}.extra_mv` });
  });

  it('refuses the current hour and days about to expire', async () => {
    const args = { tenant: '*', actor: 't', overrides: [], ttlDays: 90 };
    await expect(reprice(store, { ...args, from: START, to: new Date(Date.now() + 3_600_000) })).rejects.toThrow(
      /current hour/,
    );
    await expect(reprice(store, { ...args, from: new Date(Date.now() - 95 * DAY), to: START })).rejects.toThrow(
      /expire/,
    );
  });
});
