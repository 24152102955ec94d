import type { Store } from './client.js';
import { ROLLUPS, rollupView, type RollupView } from './rollup-views.js';

export type BackfillProgress = (done: number, total: number, label: string) => void;

/** The 003 rollups a backfill copies expired days from (dropped by migration 022). */
const OLD = { hourly: 'ai_usage_hourly', daily: 'ai_usage_daily' } as const;

/**
 * Fill the rollups of migration 021 with everything inserted before their views' cutover.
 *
 * Per UTC day, per tenant:
 * - `raw`: the day's calls are still in ai_calls (as many as the 003 rollups counted, or
 *   more): aggregate `ai_calls FINAL WHERE ingested_at < cutover` with each view's own query.
 *   Calls from the cutover on were counted by the views; none is counted by both.
 * - `copied`: fewer raw calls than the 003 rollups counted (the raw rows expired, wholly or
 *   part by part): copy the 003 rollup rows of that day, dropping user_id for the coarse
 *   rollups. Raw data of an expired day cannot arrive any more (ingest refuses timestamps
 *   beyond retention), so the views add nothing there.
 * Each (tenant, day) done is recorded in rollup_backfill; a resumed backfill skips those, and
 * the inserts carry deterministic tokens, so a crash between insert and record is not counted twice.
 * The 003 counts are read before the raw counts: calls arriving in between only raise the raw side.
 */
export async function backfillRollups(
  store: Store,
  opts: { settleMs: number; onProgress?: BackfillProgress; log?: (msg: string) => void },
): Promise<void> {
  const views = new Map<string, RollupView>();
  for (const r of ROLLUPS) views.set(r.table, await rollupView(store, r.table));
  const cutover = await setCutover(store, 'rollup_cutover', { rollups: '021' }, opts.log);
  const wait = Date.parse(`${cutover.replace(' ', 'T')}Z`) + opts.settleMs - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));

  const db = store.database;
  const [tables] = await rowsOf<{ n: string }>(
    store,
    `SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name IN ('${OLD.hourly}', '${OLD.daily}')`,
    { db },
  );
  const oldExists = Number(tables?.n) === 2;
  const oldCounts = oldExists
    ? await rowsOf<{ tenant: string; day: string; n: string }>(
        store,
        `SELECT tenant, toString(day) AS day, toString(sum(requests)) AS n FROM ${db}.${OLD.daily} GROUP BY tenant, day`,
      )
    : [];
  const rawCounts = await rowsOf<{ tenant: string; day: string; n: string }>(
    store,
    `SELECT tenant, toString(toDate(timestamp)) AS day, toString(count()) AS n FROM ${db}.ai_calls FINAL GROUP BY tenant, day`,
  );
  const done = new Set(
    (
      await rowsOf<{ tenant: string; day: string }>(
        store,
        `SELECT DISTINCT tenant, toString(day) AS day FROM ${db}.rollup_backfill`,
      )
    ).map((r) => `${r.tenant}\u0000${r.day}`),
  );

  const units = new Map<string, { raw: string[]; copied: string[]; requests: Map<string, bigint> }>();
  const old = new Map(oldCounts.map((r) => [`${r.tenant}\u0000${r.day}`, BigInt(r.n)]));
  const raw = new Map(rawCounts.map((r) => [`${r.tenant}\u0000${r.day}`, BigInt(r.n)]));
  for (const key of new Set([...old.keys(), ...raw.keys()])) {
    if (done.has(key)) continue;
    const [tenant = '', day = ''] = key.split('\u0000');
    const unit = units.get(day) ?? { raw: [], copied: [], requests: new Map() };
    const r = raw.get(key) ?? 0n;
    const o = old.get(key) ?? 0n;
    (r >= o ? unit.raw : unit.copied).push(tenant);
    unit.requests.set(tenant, r >= o ? r : o);
    units.set(day, unit);
  }
  const days = [...units.keys()].sort();
  if (days.length > 0) opts.log?.(`backfilling rollups for ${days.length} day(s) before ${cutover} UTC`);
  let n = 0;
  opts.onProgress?.(0, days.length, 'rollup backfill');
  for (const day of days) {
    const unit = units.get(day) as NonNullable<ReturnType<typeof units.get>>;
    if (unit.raw.length > 0) {
      const source = `(SELECT * FROM ${db}.ai_calls FINAL
        WHERE toDate(timestamp) = {day:Date} AND tenant IN {tenants:Array(String)}
          AND ingested_at < toDateTime64({cutover:String}, 3, 'UTC'))`;
      for (const r of ROLLUPS) {
        await insertSelect(store, r.table, (views.get(r.table) as RollupView).select(source), {
          params: { day, tenants: unit.raw, cutover },
          token: `backfill-raw-${r.table}-${day}-${unit.raw.join(',')}`,
        });
      }
    }
    if (unit.copied.length > 0) {
      for (const r of ROLLUPS) {
        await insertSelect(store, r.table, copyFromOld(db, r.table), {
          params: { day, tenants: unit.copied },
          token: `backfill-copy-${r.table}-${day}-${unit.copied.join(',')}`,
        });
      }
    }
    const record = [
      ...unit.raw.map((tenant) => ({ tenant, source: 'raw' })),
      ...unit.copied.map((tenant) => ({ tenant, source: 'copied' })),
    ].map((x) => ({ ...x, day, requests: String(unit.requests.get(x.tenant) ?? 0n), done_at: Date.now() }));
    await store.writer.insert({
      table: `${db}.rollup_backfill`,
      values: record,
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: `backfill-done-${day}`, insert_deduplicate: 1 },
    });
    opts.onProgress?.(++n, days.length, day);
  }
}

/**
 * The moment the views reading `table` (a cutover table: `cutover`, `set_at` and `extra`'s
 * columns) count from: set once, a little ahead (the row must be visible to every view before
 * it; on a cluster it replicates to every node first), and read back on a resumed run. Until it
 * is set the views count nothing, and everything before it is the backfill's.
 */
export async function setCutover(
  store: Store,
  table: string,
  extra: Record<string, string>,
  log?: (msg: string) => void,
): Promise<string> {
  const local = `${store.database}.${store.cluster ? `${table}_local` : table}`;
  const read = async () =>
    (await rowsOf<{ c: string | null }>(store, `SELECT toString(maxOrNull(cutover)) AS c FROM ${local}`))[0]?.c ?? null;
  const existing = await read();
  if (existing) return existing;
  const at = new Date(Date.now() + (store.cluster ? 30_000 : 500));
  await store.writer.insert({
    table: local,
    values: [{ ...extra, cutover: at.getTime(), set_at: Date.now() }],
    format: 'JSONEachRow',
    clickhouse_settings: { insert_deduplication_token: `${table}-${at.getTime()}`, insert_deduplicate: 1 },
  });
  if (Date.now() >= at.getTime()) {
    log?.(
      `the ${table} moment (${at.toISOString()}) passed before it was stored: calls inserted in between may be missing from its views' tables`,
    );
  }
  return (await read()) ?? '';
}

/** The token columns every rollup sums (forget-user subtracts the same ones). */
export const ROLLUP_TOKEN_COLUMNS = [
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'input_audio_tokens',
  'output_audio_tokens',
] as const;

const SUMS = ['errors', 'unpriced_requests', 'estimated_requests', ...ROLLUP_TOKEN_COLUMNS];

/** One day of a 003 rollup, regrouped for a 021 rollup (the 003 columns are UInt64). */
function copyFromOld(db: string, target: string): string {
  const hourly = target === 'ai_rollup_hourly';
  const dims =
    target === 'ai_user_daily'
      ? ['user_id', 'service', 'provider', 'model', 'team', 'feature']
      : ['service', 'provider', 'model', 'operation', 'team', 'feature'];
  const time = hourly ? 'hour' : 'day';
  const measures = [
    ...(target === 'ai_user_daily' ? [] : [`toInt64(sumIf(o.requests, o.user_id = '')) AS anonymous_requests`]),
    'toInt64(sum(o.requests)) AS requests',
    ...SUMS.map((c) => `toInt64(sum(o.${c})) AS ${c}`),
    'sum(o.cost_usd) AS cost_usd',
    'sum(o.cache_savings_usd) AS cache_savings_usd',
    'quantilesTDigestMergeState(0.5, 0.95, 0.99)(o.duration_ms_quantiles) AS duration_ms_quantiles',
    'quantilesTDigestIfMergeState(0.5, 0.95, 0.99)(o.ttft_ms_quantiles) AS ttft_ms_quantiles',
  ];
  return `SELECT tenant, ${time}, ${dims.join(', ')},
  ${measures.join(',\n  ')}
FROM ${db}.${hourly ? OLD.hourly : OLD.daily} AS o
WHERE ${hourly ? 'toDate(hour)' : 'day'} = {day:Date} AND tenant IN {tenants:Array(String)}
GROUP BY tenant, ${time}, ${dims.join(', ')}`;
}

export async function insertSelect(
  store: Store,
  target: string,
  select: string,
  o: { params: Record<string, unknown>; token: string },
): Promise<void> {
  await store.writer.command({
    query: `INSERT INTO ${store.database}.${target} ${select}`,
    query_params: o.params,
    clickhouse_settings: { insert_deduplication_token: o.token, insert_deduplicate: 1 },
  });
}

export async function rowsOf<T>(store: Store, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await store.writer.query({ query, query_params: params, format: 'JSONEachRow' });
  return rs.json<T>();
}
