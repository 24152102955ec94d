import { formatScaled } from '@tokenmeter/instrumentation/prices';
import { chDateTime, select, table } from '../retention/sql.js';
import { insertSettings, type Store } from '../store/client.js';
import type { ReconciliationRow } from './types.js';

/** The typed query module of `reconciliation` (migration 006). */
export async function writeReconciliation(store: Store, rows: ReconciliationRow[], checkedAt: Date): Promise<void> {
  if (rows.length === 0) return;
  const first = rows[0]!;
  await store.writer.insert({
    table: table(store, 'reconciliation'),
    format: 'JSONEachRow',
    values: rows.map((r) => ({
      day: r.day,
      tenant: r.tenant,
      provider: r.provider,
      dimension: r.dimension,
      key: r.key,
      tracked_usd: formatScaled(r.trackedUsd),
      billed_usd: r.billedUsd === null ? null : formatScaled(r.billedUsd),
      drift_pct: r.driftPct,
      status: r.status,
      checked_at: chDateTime(checkedAt),
      details: JSON.stringify(r.details),
    })),
    clickhouse_settings: insertSettings(
      `reconcile-${first.tenant}-${first.provider}-${first.day}-${checkedAt.getTime()}`,
    ),
  });
}

export interface StoredReconciliation {
  day: string;
  tenant: string;
  provider: string;
  dimension: string;
  key: string;
  tracked_usd: string;
  /** null: the bill could not be read. */
  billed_usd: string | null;
  /** (billed − tracked) / tracked × 100; null when it has no value. */
  drift_pct: number | null;
  status: string;
  checked_at: string;
  details: string;
}

/** The latest check of each (tenant, day, provider), every row of it; tenant '*' reads all tenants. */
export async function readReconciliation(
  store: Store,
  q: { tenant: string; from: string; to: string; provider?: string },
): Promise<StoredReconciliation[]> {
  return select<StoredReconciliation>(
    store,
    `SELECT day, tenant, provider, dimension, key, toString(tracked_usd) AS tracked_usd,
            toString(billed_usd) AS billed_usd, drift_pct, status, checked_at, details
     FROM ${table(store, 'reconciliation')} FINAL
     WHERE day >= {from:Date} AND day <= {to:Date}
       AND ({tenant:String} = '*' OR tenant = {tenant:String})
       AND ({provider:String} = '' OR provider = {provider:String})
       AND (tenant, day, provider, checked_at) IN (
         SELECT tenant, day, provider, max(checked_at) FROM ${table(store, 'reconciliation')}
         WHERE day >= {from:Date} AND day <= {to:Date} GROUP BY tenant, day, provider)
     ORDER BY day, tenant, provider, dimension = 'total' DESC, dimension, key`,
    { ...q, provider: q.provider ?? '' },
  );
}

/**
 * Days in [from, to] to check (again) for this provider: never checked (the service was down
 * at the daily slot), or whose latest total check failed.
 */
export async function daysToCheck(
  store: Store,
  q: { tenant: string; provider: string; from: string; to: string },
): Promise<string[]> {
  const rows = await select<{ day: string; status: string }>(
    store,
    `SELECT day, argMax(status, checked_at) AS status FROM ${table(store, 'reconciliation')}
     WHERE dimension = 'total' AND tenant = {tenant:String} AND provider = {provider:String}
       AND day >= {from:Date} AND day <= {to:Date}
     GROUP BY day`,
    q,
  );
  const latest = new Map(rows.map((r) => [r.day, r.status]));
  const days: string[] = [];
  for (let t = Date.parse(`${q.from}T00:00:00Z`); t <= Date.parse(`${q.to}T00:00:00Z`); t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    const status = latest.get(day);
    if (status === undefined || status === 'error') days.push(day);
  }
  return days;
}
