import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetUser, mentions } from '../../ingest/src/retention/forget.ts';
import { syncRetention } from '../../ingest/src/retention/ttl.ts';
import { insertSettings, type Store } from '../../ingest/src/store/client.ts';
import { buildSeedRows, seedCalls } from '../support/seed.ts';
import { openTestStore, rows } from '../support/store.ts';
import { expectRollupsEqualRaw } from '../prices/consistency.ts';

const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const ago = (days: number) => new Date(today - days * DAY);

/** Raw spans for seeded calls (same trace and span ids), with the user on the span as instrumentations put it. */
async function insertSpans(store: Store, calls: ReturnType<typeof buildSeedRows>['rows'], token: string) {
  await store.writer.insert({
    table: `${store.database}.otel_traces`,
    format: 'JSONEachRow',
    values: calls.map((c) => ({
      Timestamp: c.timestamp,
      TraceId: c.trace_id,
      SpanId: c.span_id,
      SpanName: `chat ${c.model}`,
      ServiceName: c.service,
      SpanAttributes: { 'gen_ai.request.model': c.model, 'user.id': c.user_id },
      ResourceAttributes: { 'service.name': c.service },
      TenantId: c.tenant,
    })),
    clickhouse_settings: insertSettings(token),
  });
}

async function count(store: Store, sql: string): Promise<number> {
  const [r] = await rows<{ n: string }>(store, sql);
  return Number(r?.n ?? 0);
}

async function expireNow(store: Store) {
  for (const t of ['ai_calls', 'ai_user_calls', 'otel_traces']) {
    await store.writer.command({
      query: `ALTER TABLE ${store.database}.${t} MATERIALIZE TTL`,
      clickhouse_settings: { mutations_sync: '2' },
    });
    await store.writer.command({ query: `OPTIMIZE TABLE ${store.database}.${t} FINAL` });
  }
}

describe('retention: raw rows expire, rollups stay, and the TTL follows the setting', () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  const ages = [100, 40, 10] as const;
  const seeds = ages.map((age, i) => ({ days: 1, end: ago(age - 1), seed: 20 + i, callsPerHour: 3 }));

  beforeAll(async () => {
    store = await openTestStore('ttl', { ttlDays: 90 });
    for (const [i, s] of seeds.entries()) {
      await seedCalls(store, s);
      await insertSpans(store, buildSeedRows(s).rows, `spans-ttl-${i}`);
    }
  });
  afterAll(() => store.close());

  const rawDays = async (table = 'ai_calls') =>
    (
      await rows<{ d: string }>(
        store,
        `SELECT DISTINCT toString(toDate(timestamp)) AS d FROM ${store.database}.${table} ORDER BY d`,
      )
    ).map((r) => r.d);
  const spanDays = async () =>
    (
      await rows<{ d: string }>(
        store,
        `SELECT DISTINCT toString(toDate(Timestamp)) AS d FROM ${store.database}.otel_traces ORDER BY d`,
      )
    ).map((r) => r.d);
  const rollupRequests = async () =>
    rows<{ d: string; n: string }>(
      store,
      `SELECT toString(day) AS d, sum(requests) AS n FROM ${store.database}.ai_rollup_daily GROUP BY d ORDER BY d`,
    );
  const dayOf = (age: number) => ago(age).toISOString().slice(0, 10);

  it('drops partitions past 90 days from ai_calls and otel_traces; their rollups remain', async () => {
    expect(await syncRetention(store, 90)).toEqual([]);
    const before = await rollupRequests();
    await expireNow(store);
    expect(await rawDays()).toEqual([dayOf(40), dayOf(10)]);
    expect(await spanDays()).toEqual([dayOf(40), dayOf(10)]);
    const after = await rollupRequests();
    expect(after).toEqual(before);
    expect(after.map((r) => r.d)).toEqual([dayOf(100), dayOf(40), dayOf(10)]);
    expect(Number(after[0]!.n)).toBe(buildSeedRows(seeds[0]!).rows.length);
    expect(
      await count(
        store,
        `SELECT count() AS n FROM ${store.database}.ai_rollup_hourly WHERE toDate(hour) = '${dayOf(100)}'`,
      ),
    ).toBeGreaterThan(0);
  });

  it('a new TOKENMETER_TTL_DAYS is applied at start (MODIFY TTL), and old rows go', async () => {
    const changes = await syncRetention(store, 30);
    expect(changes.map((c) => [c.table, c.fromDays, c.toDays])).toEqual([
      ['otel_traces', 90, 30],
      ['otel_traces_trace_id_ts', 90, 30],
      ['ai_calls', 90, 30],
      ['ai_user_calls', 90, 30],
      ['ingest_stats', 90, 30],
    ]);
    const [t] = await rows<{ q: string }>(
      store,
      `SELECT create_table_query AS q FROM system.tables WHERE database = '${store.database}' AND name = 'ai_calls'`,
    );
    expect(t!.q).toContain('toIntervalDay(30)');
    expect(t!.q).not.toContain('toIntervalDay(90)');
    expect(await syncRetention(store, 30)).toEqual([]);
    await expireNow(store);
    expect(await rawDays()).toEqual([dayOf(10)]);
    // One user's calls keep raw retention too (row by row: their parts are monthly).
    expect(await rawDays('ai_user_calls')).toEqual([dayOf(10)]);
    expect(await spanDays()).toEqual([dayOf(10)]);
    expect((await rollupRequests()).map((r) => r.d)).toEqual([dayOf(100), dayOf(40), dayOf(10)]);
  });
});

describe('forget-user', () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  const seed = { days: 2, end: ago(1), seed: 31, callsPerHour: 5 };
  const seeded = buildSeedRows(seed).rows;

  beforeAll(async () => {
    store = await openTestStore('forget');
    await seedCalls(store, seed);
    await insertSpans(store, seeded, 'spans-forget');
    // A budget scoped to the user and an alert about it.
    await store.writer.insert({
      table: `${store.database}.budgets`,
      format: 'JSONEachRow',
      values: [
        {
          id: 'b-carol',
          tenant: 'acme',
          name: 'carol monthly',
          scope_user: 'carol',
          period: 'month',
          amount_usd: '10',
          mode: 'soft',
          thresholds: [100],
          created_at: '2026-11-01 00:00:00',
          updated_at: '2026-11-01 00:00:00',
        },
        {
          id: 'b-team',
          tenant: 'acme',
          name: 'search',
          scope_team: 'search',
          period: 'month',
          amount_usd: '100',
          mode: 'soft',
          thresholds: [100],
          created_at: '2026-11-01 00:00:00',
          updated_at: '2026-11-01 00:00:00',
        },
      ],
      clickhouse_settings: insertSettings('budgets-forget'),
    });
    await store.writer.insert({
      table: `${store.database}.alert_events`,
      format: 'JSONEachRow',
      values: [
        {
          ts: '2026-11-02 00:00:00',
          tenant: 'acme',
          alertname: 'BudgetThreshold',
          severity: 'page',
          scope: 'user=carol',
          budget_id: 'b-carol',
          period_start: '2026-11-01 00:00:00',
          threshold: 100,
          observed: 11,
          limit_value: 10,
          state: 'firing',
          fingerprint: 'f1',
          details: '',
        },
        {
          ts: '2026-11-02 00:00:00',
          tenant: 'acme',
          alertname: 'BudgetThreshold',
          severity: 'page',
          scope: 'team=search',
          budget_id: 'b-team',
          period_start: '2026-11-01 00:00:00',
          threshold: 100,
          observed: 120,
          limit_value: 100,
          state: 'firing',
          fingerprint: 'f2',
          details: '',
        },
      ],
      clickhouse_settings: insertSettings('alerts-forget'),
    });
  });
  afterAll(() => store.close());

  it('leaves no row of that user in any table, and the others untouched', async () => {
    const carol = seeded.filter((r) => r.user_id === 'carol').length;
    const others = seeded.length - carol;
    expect(carol).toBeGreaterThan(5);
    const everyTable = () => mentions(store, 'carol');
    expect(Object.keys(await everyTable()).sort()).toEqual(
      ['ai_calls', 'ai_user_calls', 'ai_user_daily', 'alert_events', 'budgets', 'otel_traces'].sort(),
    );

    const result = await forgetUser(store, { userId: 'carol', tenant: '*', actor: 'test-admin' });
    expect(result.removed).toMatchObject({
      ai_calls: carol,
      ai_user_calls: carol,
      otel_traces: carol,
      budgets: 1,
      alert_events: 1,
    });
    expect(result.remaining).toEqual({});
    // Every table of the database, every text column: 'carol' appears nowhere.
    expect(await everyTable()).toEqual({});

    expect(await count(store, `SELECT count() AS n FROM ${store.database}.ai_calls`)).toBe(others);
    expect(await count(store, `SELECT count() AS n FROM ${store.database}.otel_traces`)).toBe(others);
    expect(await count(store, `SELECT sum(requests) AS n FROM ${store.database}.ai_rollup_daily`)).toBe(others);
    expect(await count(store, `SELECT count() AS n FROM ${store.database}.budgets`)).toBe(1);
    await expectRollupsEqualRaw(store);
  });

  it('records that it was done, with a hash and counts but not the id', async () => {
    const audit = await rows<{ action: string; actor: string; details: string }>(
      store,
      `SELECT action, actor, details FROM ${store.database}.audit_log WHERE action = 'forget_user'`,
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).not.toContain('carol');
    const d = JSON.parse(audit[0]!.details);
    // sha256('carol')
    expect(d.userSha256).toBe('4c26d9074c27d89ede59270c0ac14b71e071b15239519f75474b2f3ba63481f5');
    expect(d.removed.ai_calls).toBeGreaterThan(5);
  });
});
