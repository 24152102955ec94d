import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCalls } from '../../../test/support/seed.js';
import { migrateWhileInserting, openTestStore, rows } from '../../../test/support/store.js';
import { MIGRATIONS_DIR, migrate } from './migrate.js';

/**
 * Upgrading a store made by the previous schema (every migration but this change's, 021 to 029, and the later
 * ones that alter 021's tables: rollups keyed by user)
 * to the rollups of 021: every total is kept, days whose raw calls expired included, and calls
 * inserted while the migration runs are counted once.
 */
const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const day = (ago: number) => new Date(today - ago * DAY).toISOString().slice(0, 10);

type Totals = Record<string, string>;
let store: Awaited<ReturnType<typeof openTestStore>>;
const old: { daily: Totals; hourly: Totals; user: Totals } = { daily: {}, hourly: {}, user: {} };
let progress: [number, number][] = [];
let liveBatches = 0;

/** key → "requests|cost|input" for a GROUP BY query returning k, n, cost, input. */
async function totals(sql: string): Promise<Totals> {
  const out: Totals = {};
  for (const r of await rows<{ k: string; n: string; cost: string; input: string }>(store, sql)) {
    if (r.n === '0' && r.cost === '0') continue; // nothing left in the key
    out[r.k] = `${r.n}|${r.cost}|${r.input}`;
  }
  return out;
}
const MEASURES = 'sum(requests) AS n, toString(sum(cost_usd)) AS cost, sum(input_tokens) AS input';
const RAW_MEASURES = 'count() AS n, toString(sum(ifNull(cost_usd, 0))) AS cost, sum(input_tokens) AS input';
const rollup = (table: string, key: string) =>
  totals(`SELECT ${key} AS k, ${MEASURES} FROM ${store.database}.${table} GROUP BY k`);
const raw = (key: string) =>
  totals(`SELECT ${key} AS k, ${RAW_MEASURES} FROM ${store.database}.ai_calls FINAL GROUP BY k`);
const DAY_KEY = "concat(tenant, '/', toString(toDate(day)))";
const HOUR_KEY = "concat(tenant, '/', toString(hour))";
const USER_KEY = "concat(tenant, '/', toString(day), '/', user_id)";
const RAW_DAY = "concat(tenant, '/', toString(toDate(timestamp)))";
const RAW_HOUR = "concat(tenant, '/', toString(toStartOfHour(timestamp)))";
const RAW_USER = "concat(tenant, '/', toString(toDate(timestamp)), '/', user_id)";

beforeAll(async () => {
  store = await openTestStore('backfill', { migrate: false, ttlDays: 120 });
  const previous = mkdtempSync(join(tmpdir(), 'tm-migrations-previous-'));
  for (const f of readdirSync(MIGRATIONS_DIR).filter(
    (f) =>
      (/^\d{3}_/.test(f) && Number(f.slice(0, 3)) < 21) ||
      (Number(f.slice(0, 3)) > 29 &&
        !/ai_rollup_hourly|ai_rollup_daily|ai_user_daily/.test(readFileSync(join(MIGRATIONS_DIR, f), 'utf8'))),
  )) {
    copyFileSync(join(MIGRATIONS_DIR, f), join(previous, f));
  }
  await migrate(store, { ttlDays: 120, dir: previous });
  for (const [i, ago] of [100, 40, 10, 9].entries()) {
    await seedCalls(store, {
      tenant: 'acme',
      days: 1,
      end: new Date(today - (ago - 1) * DAY),
      seed: 40 + i,
      callsPerHour: 4,
    });
  }
  await seedCalls(store, { tenant: 'globex', days: 2, end: new Date(today - 8 * DAY), seed: 50, callsPerHour: 3 });
  // Day 100's raw calls expired whole; day 40's in part (alice's calls are gone).
  await store.writer.command({ query: `ALTER TABLE ${store.database}.ai_calls DROP PARTITION '${day(100)}'` });
  await store.writer.command({
    query: `ALTER TABLE ${store.database}.ai_calls DELETE WHERE toDate(timestamp) = '${day(40)}' AND user_id = 'alice'`,
    clickhouse_settings: { mutations_sync: '2' },
  });
  old.daily = await rollup('ai_usage_daily', DAY_KEY);
  old.hourly = await rollup('ai_usage_hourly', HOUR_KEY);
  old.user = await rollup('ai_usage_daily', USER_KEY);

  // Calls keep arriving while the store migrates: before the cutover, after it, during the backfill.
  ({ batches: liveBatches, progress } = await migrateWhileInserting(store, {
    ttlDays: 120,
    seed: 1000,
    callsPerHour: 1,
  }));
}, 120_000);
afterAll(() => store?.close());

describe('migrating the rollups of 003 to those of 021', () => {
  it('ran with calls arriving throughout, and showed its progress to the end', () => {
    expect(liveBatches).toBeGreaterThan(10);
    expect(progress.at(-1)).toEqual([progress.at(-1)?.[1], progress.at(-1)?.[1]]);
    expect(progress.at(-1)?.[1]).toBeGreaterThanOrEqual(5);
  });

  it('keeps the 003 totals of days whose raw calls expired, wholly or in part', async () => {
    const expired = (t: Totals, d: string) => Object.entries(t).filter(([k]) => k.includes(`/${d}`));
    for (const d of [day(100), day(40)]) {
      expect(expired(old.daily, d).length).toBe(1);
      expect(expired(await rollup('ai_rollup_daily', DAY_KEY), d)).toEqual(expired(old.daily, d));
      expect(expired(await rollup('ai_rollup_hourly', HOUR_KEY), d)).toEqual(expired(old.hourly, d));
      expect(expired(await rollup('ai_user_daily', USER_KEY), d)).toEqual(expired(old.user, d));
    }
    // The partly expired day still counts alice, from the old rollup.
    expect(Object.keys(old.user).some((k) => k.endsWith(`${day(40)}/alice`))).toBe(true);
    expect(Object.keys(await rollup('ai_user_daily', USER_KEY)).some((k) => k.endsWith(`${day(40)}/alice`))).toBe(true);
  });

  it('equals the raw sums on every other day, live calls included, each counted once', async () => {
    const notExpired = (t: Totals) =>
      Object.fromEntries(Object.entries(t).filter(([k]) => !k.includes(`/${day(100)}`) && !k.includes(`/${day(40)}`)));
    expect(notExpired(await rollup('ai_rollup_daily', DAY_KEY))).toEqual(notExpired(await raw(RAW_DAY)));
    expect(notExpired(await rollup('ai_rollup_hourly', HOUR_KEY))).toEqual(notExpired(await raw(RAW_HOUR)));
    expect(notExpired(await rollup('ai_user_daily', USER_KEY))).toEqual(notExpired(await raw(RAW_USER)));
    const [liveRaw] = await rows<{ n: string }>(
      store,
      `SELECT count() AS n FROM ${store.database}.ai_calls FINAL WHERE tenant = 'live'`,
    );
    expect(Number(liveRaw?.n)).toBeGreaterThan(20);
  });

  it('records where each tenant-day came from, and drops the old rollups', async () => {
    const done = await rows<{ tenant: string; day: string; source: string }>(
      store,
      `SELECT tenant, toString(day) AS day, source FROM ${store.database}.rollup_backfill FINAL ORDER BY tenant, day`,
    );
    const source = Object.fromEntries(done.map((r) => [`${r.tenant}/${r.day}`, r.source]));
    expect(source[`acme/${day(100)}`]).toBe('copied');
    expect(source[`acme/${day(40)}`]).toBe('copied');
    expect(source[`acme/${day(10)}`]).toBe('raw');
    expect(source[`globex/${day(9)}`]).toBe('raw');
    const left = await rows(
      store,
      `SELECT name FROM system.tables WHERE database = {db:String} AND name LIKE 'ai_usage_%'`,
      { db: store.database },
    );
    expect(left).toEqual([]);
  });

  it('is a no-op when run again', async () => {
    const before = await rollup('ai_rollup_daily', DAY_KEY);
    const result = await migrate(store, { ttlDays: 120 });
    expect(result.applied).toEqual([]);
    expect(await rollup('ai_rollup_daily', DAY_KEY)).toEqual(before);
  });
});
