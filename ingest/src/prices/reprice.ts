import { randomUUID } from 'node:crypto';
import { formatScaled, type PriceOverride, parseUsd } from '@tokenmeter/instrumentation/prices';
import type { CallRow } from '../pipeline/rows.js';
import { type CostBounds, DEFAULT_COST_BOUNDS, exceedsCap } from '../pipeline/span-cost.js';
import { recordAudit } from '../retention/audit.js';
import { type Grain, rebuildRollups, rollupKey } from '../retention/rollups.js';
import { chDateTime, localTable, onCluster, select, table } from '../retention/sql.js';
import { insertSettings, type Store } from '../store/client.js';
import { ROLLUP_VIEWS } from '../store/rollup-views.js';
import { repriceCall } from './reprice-call.js';

export interface RepriceOptions {
  from: Date;
  to: Date;
  /** Only calls of this model: the stored model (response model, else request model), the requested one, or a dated snapshot of it. */
  model?: string;
  /** Only this tenant's calls; '*' for every tenant. */
  tenant: string;
  actor: string;
  overrides: readonly PriceOverride[];
  /** Raw retention: days about to expire are refused (their rollups could not be rebuilt whole). */
  ttlDays: number;
  /**
   * Ingest's per-call cap (TOKENMETER_MAX_CALL_COST_USD): a new cost above it is not written
   * (the call keeps the cost it has and is counted in `aboveCap`), so no override can store a
   * cost ingest would have refused, and no sum can wrap.
   */
  bounds?: CostBounds;
  now?: Date;
  onProgress?: (done: number, total: number, label: string) => void;
}

export interface RepriceResult {
  runId: string;
  examined: number;
  changed: number;
  /** Calls whose new cost would be above the per-call cap: left as they were. */
  aboveCap: number;
  costBeforeUsd: string;
  costAfterUsd: string;
  byModel: Record<string, { changed: number; costBeforeUsd: string; costAfterUsd: string }>;
  days: string[];
}

export class RepriceError extends Error {}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Re-price stored calls in [from, to) with the prices now in force, then rebuild the rollup
 * rows they feed. How, and why it stays exact:
 * 1. each changed call is written again with a newer `ingested_at`: ai_calls is a
 *    ReplacingMergeTree(ingested_at), so FINAL (and, after step 3, a plain read) sees only
 *    the new version; the materialized views also count the new row, which step 2 undoes;
 * 2. the rollup rows (coarse hourly and daily, per user daily) of every (tenant, hour|day, provider, model) that
 *    changed are deleted and recomputed from ai_calls FINAL;
 * 3. the touched day partitions of ai_calls are merged (OPTIMIZE … FINAL), so the old
 *    versions are gone for readers without FINAL too;
 * 4. an audit row says who changed what, with the totals before and after.
 */
export async function reprice(store: Store, opts: RepriceOptions): Promise<RepriceResult> {
  const now = opts.now ?? new Date();
  const from = opts.from.getTime();
  const to = opts.to.getTime();
  if (!(from < to)) throw new RepriceError('from must be before to');
  const currentHour = Math.floor(now.getTime() / HOUR) * HOUR;
  if (to > currentHour) {
    throw new RepriceError(
      `to (${opts.to.toISOString()}) is after the start of the current hour: reprice closed hours only, so live ingest cannot race the rollup rebuild`,
    );
  }
  const oldest = Math.floor(now.getTime() / DAY) * DAY - (opts.ttlDays - 1) * DAY;
  if (from < oldest) {
    throw new RepriceError(
      `from (${opts.from.toISOString()}) reaches days whose raw calls expire within a day (TOKENMETER_TTL_DAYS=${opts.ttlDays}); their rollups are kept as they are`,
    );
  }
  if (to - from > 400 * DAY) throw new RepriceError('a reprice window may span at most 400 days');

  await checkViews(store);
  const runId = randomUUID();
  const ingestedAt = chDateTime(now);
  const hours: number[] = [];
  for (let h = Math.floor(from / HOUR) * HOUR; h < to; h += HOUR) hours.push(h);
  const total = hours.length + 2;
  let done = 0;
  const result: RepriceResult = {
    runId,
    examined: 0,
    changed: 0,
    aboveCap: 0,
    costBeforeUsd: '0',
    costAfterUsd: '0',
    byModel: {},
    days: [],
  };
  const bounds = opts.bounds ?? DEFAULT_COST_BOUNDS;
  const sums = { before: 0n, after: 0n, models: new Map<string, { n: number; before: bigint; after: bigint }>() };
  const keys: Record<Grain, Set<string>> = { hourly: new Set(), daily: new Set() };
  const days = new Set<string>();

  for (const hour of hours) {
    const rows = await select<CallRow>(
      store,
      `SELECT * EXCEPT (cost_usd, cache_savings_usd, ingested_at),
              toString(cost_usd) AS cost_usd, toString(cache_savings_usd) AS cache_savings_usd
       FROM ${table(store, 'ai_calls')} FINAL
       WHERE timestamp >= {lo:DateTime64(9, 'UTC')} AND timestamp < {hi:DateTime64(9, 'UTC')}
         AND ({tenant:String} = '*' OR tenant = {tenant:String})
         AND ({model:String} = '' OR model = {model:String} OR request_model = {model:String}
              OR replaceRegexpOne(model, '-20[0-9]{2}-?[0-9]{2}-?[0-9]{2}$', '') = {model:String})`,
      {
        lo: chDateTime(new Date(Math.max(hour, from))),
        hi: chDateTime(new Date(Math.min(hour + HOUR, to))),
        tenant: opts.tenant,
        model: opts.model ?? '',
      },
    );
    result.examined += rows.length;
    const changed: (CallRow & { ingested_at: string })[] = [];
    for (const row of rows) {
      const next = repriceCall(row, opts.overrides);
      if (!next) continue;
      if (next.cost_usd !== null && exceedsCap(next.cost_usd, bounds)) {
        result.aboveCap++;
        continue;
      }
      // What the cache saved is bounded like a cost, as at ingest.
      if (exceedsCap(next.cache_savings_usd, bounds)) next.cache_savings_usd = bounds.maxCallUsd;
      const before = row.cost_usd === null ? 0n : parseUsd(row.cost_usd);
      const after = next.cost_usd === null ? 0n : parseUsd(next.cost_usd);
      sums.before += before;
      sums.after += after;
      const m = sums.models.get(`${row.provider}/${row.model}`) ?? { n: 0, before: 0n, after: 0n };
      m.n++;
      m.before += before;
      m.after += after;
      sums.models.set(`${row.provider}/${row.model}`, m);
      changed.push({ ...row, ...next, ingested_at: ingestedAt });
      const day = row.timestamp.slice(0, 10);
      days.add(day);
      keys.hourly.add(rollupKey(row.tenant, `${row.timestamp.slice(0, 13)}:00:00`, row.provider, row.model));
      keys.daily.add(rollupKey(row.tenant, day, row.provider, row.model));
    }
    if (changed.length > 0) {
      await store.writer.insert({
        table: table(store, 'ai_calls'),
        format: 'JSONEachRow',
        values: changed,
        clickhouse_settings: insertSettings(`reprice-${runId}-${hour}`),
      });
      result.changed += changed.length;
    }
    opts.onProgress?.(++done, total, new Date(hour).toISOString().slice(0, 13));
  }

  await rebuildRollups(store, 'hourly', [...keys.hourly], `reprice-${runId}`);
  await rebuildRollups(store, 'daily', [...keys.daily], `reprice-${runId}`);
  opts.onProgress?.(++done, total, 'rollups rebuilt');
  for (const day of [...days].sort()) {
    await store.writer.command({
      query: `OPTIMIZE TABLE ${localTable(store, 'ai_calls')}${onCluster(store)} PARTITION ID {id:String} FINAL`,
      query_params: { id: day.replaceAll('-', '') },
    });
  }
  opts.onProgress?.(done + 1, total, 'raw versions merged');

  result.days = [...days].sort();
  result.costBeforeUsd = formatScaled(sums.before);
  result.costAfterUsd = formatScaled(sums.after);
  for (const [k, m] of [...sums.models].sort()) {
    result.byModel[k] = { changed: m.n, costBeforeUsd: formatScaled(m.before), costAfterUsd: formatScaled(m.after) };
  }
  await recordAudit(store, {
    tenant: opts.tenant,
    action: 'reprice',
    actor: opts.actor,
    details: {
      from: opts.from.toISOString(),
      to: opts.to.toISOString(),
      model: opts.model ?? null,
      overrides: opts.overrides.map((o) => o.id),
      ...result,
    },
    token: `reprice-${runId}`,
    now,
  });
  return result;
}

/**
 * The materialized views on ai_calls whose targets reprice rebuilds (migration 021), and
 * ai_user_calls_mv (052): its table is a ReplacingMergeTree keyed on the call, read with FINAL,
 * so a re-inserted call replaces its old row there without a rebuild.
 */
const REBUILT_VIEWS: readonly string[] = [...ROLLUP_VIEWS, 'ai_user_calls_mv'];

/**
 * Re-inserted calls also reach every materialized view on ai_calls; reprice rebuilds only
 * the rollups. A view added later would count re-priced calls twice, so refuse until
 * reprice knows how to rebuild its target.
 */
async function checkViews(store: Store): Promise<void> {
  const [row] = await select<{ views: string[] }>(
    store,
    `SELECT dependencies_table AS views FROM system.tables WHERE database = {db:String} AND name = {name:String}`,
    { db: store.database, name: store.cluster ? 'ai_calls_local' : 'ai_calls' },
  );
  const unknown = (row?.views ?? []).map((v) => v.replace(/_local$/, '')).filter((v) => !REBUILT_VIEWS.includes(v));
  if (unknown.length > 0) {
    throw new RepriceError(
      `materialized view(s) ${unknown.join(', ')} read ai_calls and reprice cannot rebuild them; re-pricing would count calls twice there`,
    );
  }
}
