import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, rows } from '../../../test/support/store.js';
import { insertSettings, readOnlySettings, type Store } from './client.js';
import { loadMigrations, migrate, renderMigration } from './migrate.js';

let store: Store;
beforeAll(async () => {
  store = await openTestStore('store');
});
afterAll(async () => {
  await store?.close();
});

const count = async (sql: string) => Number((await rows<{ n: string }>(store, sql))[0]?.n);

describe('sticky per-query settings on embedded chdb (ARCHITECTURE.md pitfall)', () => {
  it('is real: a token set on one insert silently drops a later insert without one', async () => {
    // The pitfall itself, on a scratch table with the raw client: if chdb ever stops
    // doing this, the guard below is still right, but this test tells us.
    await store.writer.command({
      query:
        'CREATE TABLE sticky (a UInt32) ENGINE = MergeTree ORDER BY a SETTINGS non_replicated_deduplication_window = 100',
    });
    await store.writer.insert({
      table: 'sticky',
      values: [{ a: 1 }],
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: 'same' },
    });
    await store.writer.insert({ table: 'sticky', values: [{ a: 2 }], format: 'JSONEachRow' });
    expect(await count('SELECT count() AS n FROM sticky')).toBe(1);
  });

  it('cannot bite inserts made with insertSettings: each names its own token', async () => {
    const call = (span: string) => ({
      timestamp: '2026-11-20 10:00:00.000000000',
      tenant: 't',
      trace_id: 'a'.repeat(32),
      span_id: span,
      model: 'm',
      priced: true,
      cost_usd: '1',
    });
    await store.writer.insert({
      table: 'ai_calls',
      values: [call('0000000000000001')],
      format: 'JSONEachRow',
      clickhouse_settings: insertSettings('tok-1'),
    });
    await store.writer.insert({
      table: 'ai_calls',
      values: [call('0000000000000002')],
      format: 'JSONEachRow',
      clickhouse_settings: insertSettings('tok-2'),
    });
    // A retry of the first insert (same token) is dropped, in the table and in the rollups.
    await store.writer.insert({
      table: 'ai_calls',
      values: [call('0000000000000001')],
      format: 'JSONEachRow',
      clickhouse_settings: insertSettings('tok-1'),
    });
    expect(await count("SELECT count() AS n FROM ai_calls WHERE tenant = 't'")).toBe(2);
    for (const rollup of ['ai_rollup_hourly', 'ai_rollup_daily', 'ai_user_daily']) {
      expect(await count(`SELECT sum(requests) AS n FROM ${rollup} WHERE tenant = 't'`)).toBe(2);
    }
  });

  it('keeps readonly on the reader connection: the writer still writes after a read-only query', async () => {
    const limits = { maxExecutionSeconds: 5, maxMemoryBytes: 1e9, maxResultRows: 10 };
    await store.reader.query({ query: 'SELECT 1', clickhouse_settings: readOnlySettings(limits) });
    await expect(
      store.reader.command({
        query: 'CREATE TABLE nope (a UInt8) ENGINE = Memory',
        clickhouse_settings: readOnlySettings(limits),
      }),
    ).rejects.toThrow(/readonly/i);
    await store.writer.command({ query: 'CREATE TABLE yes (a UInt8) ENGINE = Memory' });
    expect(
      await count("SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'yes'"),
    ).toBe(1);
  });

  it('refuses an insert without a deduplication token', () => {
    expect(() => insertSettings('')).toThrow(/token/);
  });
});

describe('migrations', () => {
  it('are recorded once and running them again applies nothing', async () => {
    const again = await migrate(store, { ttlDays: 90 });
    expect(again.applied).toEqual([]);
    expect(again.skipped).toEqual(loadMigrations().map((m) => m.name));
    const recorded = await rows<{ version: number }>(
      store,
      'SELECT version FROM schema_migrations FINAL ORDER BY version',
    );
    expect(recorded.map((r) => Number(r.version))).toEqual(loadMigrations().map((m) => m.version));
  });

  it('create the tables the design names, with a Decimal cost and rollups fed by views', async () => {
    const tables = await rows<{ name: string; engine: string }>(
      store,
      'SELECT name, engine FROM system.tables WHERE database = currentDatabase() ORDER BY name',
    );
    const byName = Object.fromEntries(tables.map((t) => [t.name, t.engine]));
    expect(byName).toMatchObject({
      otel_traces: 'MergeTree',
      ai_calls: 'ReplacingMergeTree',
      ai_rollup_hourly: 'AggregatingMergeTree',
      ai_rollup_daily: 'AggregatingMergeTree',
      ai_user_daily: 'AggregatingMergeTree',
      ai_rollup_hourly_mv: 'MaterializedView',
      ai_rollup_daily_mv: 'MaterializedView',
      ai_user_daily_mv: 'MaterializedView',
      ai_user_calls: 'ReplacingMergeTree',
      ai_user_calls_mv: 'MaterializedView',
    });
    // The 003 rollups (keyed by user) are gone after 022.
    expect(byName.ai_usage_hourly).toBeUndefined();
    expect(byName.ai_usage_daily_mv).toBeUndefined();
    const [cost] = await rows<{ type: string }>(
      store,
      "SELECT type FROM system.columns WHERE database = currentDatabase() AND table = 'ai_calls' AND name = 'cost_usd'",
    );
    expect(cost?.type).toBe('Nullable(Decimal(38, 12))');
  });

  it('render ON CLUSTER, Replicated engines and Distributed tables for a cluster', () => {
    const all = loadMigrations().flatMap((m) =>
      renderMigration(m.sql, { database: 'tm', cluster: 'prod', ttlDays: 30 }),
    );
    const calls = all.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS tm.ai_calls_local'))!;
    expect(calls).toContain("ON CLUSTER 'prod'");
    expect(calls).toContain(
      "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tm/ai_calls_local', '{replica}', ingested_at)",
    );
    expect(calls).toContain('toIntervalDay(30)');
    expect(all).toContain(
      "CREATE TABLE IF NOT EXISTS tm.ai_calls ON CLUSTER 'prod' AS tm.ai_calls_local ENGINE = Distributed('prod', 'tm', 'ai_calls_local', cityHash64(trace_id))",
    );
    // A column added to the shard-local table is added to the Distributed table over it too (040).
    const local = all.findIndex((s) => s.startsWith("ALTER TABLE tm.ai_calls_local ON CLUSTER 'prod' ADD COLUMN"));
    const dist = all.indexOf(
      "ALTER TABLE tm.ai_calls ON CLUSTER 'prod' ADD COLUMN IF NOT EXISTS properties Map(String, String) AFTER attributes",
    );
    expect(local).toBeGreaterThan(-1);
    expect(dist).toBeGreaterThan(local);
    for (const rollup of ['ai_rollup_hourly', 'ai_rollup_daily', 'ai_user_daily']) {
      const mv = all.find((s) => s.includes(`MATERIALIZED VIEW IF NOT EXISTS tm.${rollup}_mv_local`))!;
      expect(mv).toContain(`TO tm.${rollup}_local`);
      expect(mv).toContain('FROM tm.ai_calls_local');
      // The views count from the cutover every node holds locally (one replication path for all shards).
      expect(mv).toContain('WHERE ingested_at >= ifNull((SELECT maxOrNull(cutover) FROM tm.rollup_cutover_local)');
      expect(all.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS tm.${rollup}_local`))).toContain(
        `ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/tm/${rollup}_local', '{replica}')`,
      );
      expect(all).toContain(
        `CREATE TABLE IF NOT EXISTS tm.${rollup} ON CLUSTER 'prod' AS tm.${rollup}_local ENGINE = Distributed('prod', 'tm', '${rollup}_local', cityHash64(tenant))`,
      );
    }
    expect(all.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS tm.rollup_cutover_local'))).toContain(
      "ReplicatedReplacingMergeTree('/clickhouse/tables/all/tm/rollup_cutover_local', '{replica}', set_at)",
    );
    // 052: one user's calls by month, fed on each shard from its ai_calls_local from 052's own cutover.
    const userCallsMv = all.find((s) => s.includes('MATERIALIZED VIEW IF NOT EXISTS tm.ai_user_calls_mv_local'))!;
    expect(userCallsMv).toContain('TO tm.ai_user_calls_local');
    expect(userCallsMv).toContain('FROM tm.ai_calls_local');
    expect(userCallsMv).toContain('(SELECT maxOrNull(cutover) FROM tm.user_calls_cutover_local)');
    expect(all.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS tm.ai_user_calls_local'))).toContain(
      "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tm/ai_user_calls_local', '{replica}', ingested_at)",
    );
    expect(all.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS tm.user_calls_cutover_local'))).toContain(
      "ReplicatedReplacingMergeTree('/clickhouse/tables/all/tm/user_calls_cutover_local', '{replica}', set_at)",
    );
    expect(all).toContain(
      "CREATE TABLE IF NOT EXISTS tm.ai_user_calls ON CLUSTER 'prod' AS tm.ai_user_calls_local ENGINE = Distributed('prod', 'tm', 'ai_user_calls_local', cityHash64(trace_id))",
    );
    // 022 drops the 003 rollups: the Distributed tables and the shard tables, ON CLUSTER.
    expect(all).toContain("DROP TABLE IF EXISTS tm.ai_usage_hourly ON CLUSTER 'prod' SYNC");
    expect(all).toContain("DROP TABLE IF EXISTS tm.ai_usage_hourly_local ON CLUSTER 'prod' SYNC");
    expect(all.filter((s) => /ENGINE = (MergeTree|ReplacingMergeTree|AggregatingMergeTree)\b/.test(s))).toEqual([]);
    // Without a cluster: plain engines, no ON CLUSTER, no Distributed tables.
    const single = loadMigrations().flatMap((m) =>
      renderMigration(m.sql, { database: 'tm', cluster: undefined, ttlDays: 90 }),
    );
    expect(single.some((s) => s.includes('ON CLUSTER') || s.includes('Distributed(') || s.includes('Replicated'))).toBe(
      false,
    );
  });
});
