import type { Store } from './client.js';

/**
 * The rollups fed by materialized views on ai_calls (migration 021), and their views' own
 * queries read back from ClickHouse, so that a backfill or a rebuild aggregates exactly as
 * inserts do, from one definition.
 */
export const ROLLUPS = [
  { table: 'ai_rollup_hourly', time: 'hour', perUser: false },
  { table: 'ai_rollup_daily', time: 'day', perUser: false },
  { table: 'ai_user_daily', time: 'day', perUser: true },
] as const;
export type RollupName = (typeof ROLLUPS)[number]['table'];

/** The views reprice and backfill know how to rebuild the targets of. */
export const ROLLUP_VIEWS = ROLLUPS.map((r) => `${r.table}_mv`);

/** The views' condition `ingested_at >= <the cutover in rollup_cutover>` (migration 021). */
const CUTOVER =
  /ingested_at >= ifNull\(\(SELECT maxOrNull\(cutover\) FROM [`\w.]+\), toDateTime64\('2200-01-01 00:00:00', 3, 'UTC'\)\)/;

export interface RollupView {
  /** The view's SELECT reading `source` instead of ai_calls, its cutover condition removed. */
  select(source: string): string;
}

export async function rollupView(store: Store, rollup: RollupName): Promise<RollupView> {
  const view = `${rollup}_mv${store.cluster ? '_local' : ''}`;
  const rs = await store.writer.query({
    query: 'SELECT as_select FROM system.tables WHERE database = {db:String} AND name = {view:String}',
    query_params: { db: store.database, view },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ as_select: string }>();
  const from = new RegExp(`\\sFROM\\s+\`?${store.database}\`?\\.\`?ai_calls(_local)?\`?\\s`, 'g');
  const found = row?.as_select.match(from) ?? [];
  if (!row || found.length !== 1 || !CUTOVER.test(row.as_select)) {
    throw new Error(
      `cannot read the ${view} query (FROM ai_calls, WHERE ingested_at >= cutover) to rebuild ${rollup} from`,
    );
  }
  return {
    select: (source) => row.as_select.replace(from, ` FROM ${source} `).replace(CUTOVER, '1'),
  };
}
