import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCalls } from '../../../test/support/seed.js';
import { migrateWhileInserting, openTestStore, rows } from '../../../test/support/store.js';
import { callDistribution, DISTRIBUTION_MIN_CALLS } from '../usage/queries.js';
import { MIGRATIONS_DIR, migrate } from './migrate.js';

/**
 * Upgrading a store made before migration 052 (every migration before it) to ai_user_calls: the
 * calls already stored are copied, a call stored twice (re-inserted with a newer ingested_at, as
 * reprice does) is one row, and calls inserted while the migration runs are there once.
 */
const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;

let store: Awaited<ReturnType<typeof openTestStore>>;
let progress: [number, number][] = [];
let liveBatches = 0;

/** "tenant/user/day" → "calls|cost|input|properties" of a table read with FINAL. */
async function perUserDay(table: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const r of await rows<{ k: string; v: string }>(
    store,
    `SELECT concat(tenant, '/', user_id, '/', toString(toDate(timestamp))) AS k,
       concat(toString(count()), '|', toString(sum(ifNull(cost_usd, 0))), '|', toString(sum(input_tokens)), '|',
         toString(countIf(length(properties) > 0))) AS v
     FROM ${store.database}.${table} FINAL WHERE user_id != '' GROUP BY k`,
  )) {
    out[r.k] = r.v;
  }
  return out;
}

beforeAll(async () => {
  store = await openTestStore('user_calls_backfill', { migrate: false, ttlDays: 120 });
  const previous = mkdtempSync(join(tmpdir(), 'tm-migrations-before-052-'));
  for (const f of readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{3}_/.test(f) && Number(f.slice(0, 3)) < 52)) {
    copyFileSync(join(MIGRATIONS_DIR, f), join(previous, f));
  }
  await migrate(store, { ttlDays: 120, dir: previous });
  for (const [i, ago] of [40, 3, 1].entries()) {
    await seedCalls(store, { tenant: 'acme', days: 1, end: new Date(today - (ago - 1) * DAY), seed: 60 + i });
  }
  // One call stored again with a newer ingested_at and another cost (what reprice writes).
  await store.writer.command({
    query: `INSERT INTO ${store.database}.ai_calls
      SELECT * REPLACE (toDecimal128(7, 12) AS cost_usd, ingested_at + INTERVAL 1 SECOND AS ingested_at)
      FROM ${store.database}.ai_calls WHERE user_id = 'alice' ORDER BY timestamp LIMIT 1`,
  });

  // Calls keep arriving while the store migrates: before the cutover, after it, during the copy.
  ({ batches: liveBatches, progress } = await migrateWhileInserting(store, { ttlDays: 120, seed: 900 }));
}, 120_000);
afterAll(() => store?.close());

describe('migration 052: one user’s calls by month', () => {
  it('ran with calls arriving throughout, and showed its progress to the end', () => {
    expect(liveBatches).toBeGreaterThan(5);
    expect(progress.at(-1)).toEqual([progress.at(-1)?.[1], progress.at(-1)?.[1]]);
    expect(progress.at(-1)?.[1]).toBeGreaterThanOrEqual(3);
  });

  it('holds every call with a user that ai_calls holds, once, the re-inserted one at its newer cost', async () => {
    const calls = await perUserDay('ai_calls');
    expect(Object.keys(calls).some((k) => k.startsWith('live/'))).toBe(true);
    expect(Object.keys(calls).some((k) => k.startsWith('acme/alice/'))).toBe(true);
    expect(await perUserDay('ai_user_calls')).toEqual(calls);
    const [r] = await rows<{ n: string }>(
      store,
      `SELECT count() AS n FROM ${store.database}.ai_user_calls FINAL WHERE cost_usd = 7`,
    );
    expect(Number(r?.n)).toBe(1);
    const [anon] = await rows<{ n: string }>(
      store,
      `SELECT count() AS n FROM ${store.database}.ai_user_calls WHERE user_id = ''`,
    );
    expect(Number(anon?.n)).toBe(0);
    // Live calls came in on both sides of the cutover: copied, and counted by the view.
    const [sides] = await rows<{ before: string; after: string }>(
      store,
      `SELECT countIf(ingested_at < c) AS before, countIf(ingested_at >= c) AS after
       FROM ${store.database}.ai_user_calls, (SELECT max(cutover) AS c FROM ${store.database}.user_calls_cutover) AS x
       WHERE tenant = 'live'`,
    );
    expect(Number(sides?.before)).toBeGreaterThan(0);
    expect(Number(sides?.after)).toBeGreaterThan(0);
  });

  it('records each day copied, and is a no-op when run again', async () => {
    const [done] = await rows<{ n: string }>(store, `SELECT count() AS n FROM ${store.database}.user_calls_backfill`);
    expect(Number(done?.n)).toBeGreaterThanOrEqual(3);
    const before = await perUserDay('ai_user_calls');
    expect((await migrate(store, { ttlDays: 120 })).applied).toEqual([]);
    expect(await perUserDay('ai_user_calls')).toEqual(before);
  });
});

describe("one user's per-call distribution reads ai_user_calls, from the window start the rollup finds", () => {
  it('starts at the latest whole UTC day from which on the user has DISTRIBUTION_MIN_CALLS calls', async () => {
    // A heavy user: ~2,600 calls yesterday (more than DISTRIBUTION_MIN_CALLS alone) and ~1,300 the day before.
    for (const [i, ago] of [2, 1].entries()) {
      await seedCalls(store, {
        tenant: 'acme',
        days: 1,
        end: new Date(today - (ago - 1) * DAY),
        seed: 80 + i,
        callsPerHour: ago === 1 ? 110 : 55,
        users: ['heavy'],
      });
    }
    const to = new Date(today + DAY);
    const from = new Date(to.getTime() - 30 * DAY);
    const filters = { model: '', provider: '', service: '', user: 'heavy', team: '', feature: '' };
    const d = await callDistribution(store, { tenant: 'acme', from, to, filters });
    const yesterday = new Date(today - DAY);
    const [raw] = await rows<{ n: string; med: number }>(
      store,
      `SELECT count() AS n, quantileExact(0.5)(input_tokens + output_tokens) AS med FROM ${store.database}.ai_calls FINAL
       WHERE tenant = 'acme' AND user_id = 'heavy' AND status != 'error' AND timestamp >= {s:DateTime64(3, 'UTC')}`,
      { s: yesterday.getTime() / 1000 },
    );
    expect(Number(raw?.n)).toBeGreaterThanOrEqual(DISTRIBUTION_MIN_CALLS);
    expect(d.from.toISOString()).toBe(yesterday.toISOString());
    expect(d.calls).toBe(Number(raw?.n));
    expect(d.tokensP50).toBe(Number(raw?.med));
    // With a feature too: fewer calls, so the window reaches back to `from`.
    const chat = await callDistribution(store, { tenant: 'acme', from, to, filters: { ...filters, feature: 'chat' } });
    const [c] = await rows<{ n: string }>(
      store,
      `SELECT count() AS n FROM ${store.database}.ai_calls FINAL
       WHERE tenant = 'acme' AND user_id = 'heavy' AND feature = 'chat' AND status != 'error'`,
    );
    expect(Number(c?.n)).toBeLessThan(DISTRIBUTION_MIN_CALLS);
    expect(chat.from.toISOString()).toBe(from.toISOString());
    expect(chat.calls).toBe(Number(c?.n));
  });
});
