import { insertSettings, type Store } from '../../ingest/src/store/client.ts';
import { type SeedSummary, seedCalls } from '../../test/support/seed.ts';

/**
 * The data the dashboard and alert tests run on: 40 days of calls for two tenants
 * (with a cost spike, errors, unpriced calls and cache reads), plus budgets,
 * reconciliation, alert history and pipeline counters. All relative to END.
 */
export const END = new Date('2026-11-20T12:00:00Z');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export interface Fixture {
  acme: SeedSummary;
  globex: SeedSummary;
}

const iso = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

async function insert(store: Store, table: string, values: Record<string, unknown>[], token: string) {
  await store.writer.insert({
    table: `${store.database}.${table}`,
    format: 'JSONEachRow',
    values,
    clickhouse_settings: insertSettings(`fixture-${table}-${token}`),
  });
}

export async function seedFixture(store: Store, opts: { spike?: boolean } = {}): Promise<Fixture> {
  const acme = await seedCalls(store, {
    tenant: 'acme',
    days: 40,
    end: END,
    callsPerHour: 8,
    seed: 11,
    spike: opts.spike === false ? undefined : { at: new Date(END.getTime() - 2 * HOUR), factor: 15 },
  });
  const globex = await seedCalls(store, {
    tenant: 'globex',
    days: 10,
    end: END,
    callsPerHour: 3,
    seed: 12,
    users: ['gus', 'hana'],
    teams: ['ops'],
    unpricedRate: 0,
  });
  const now = iso(END);
  await insert(
    store,
    'budgets',
    [
      budget('b-month', 'acme', 'Acme monthly', { period: 'month', amount: '50', mode: 'soft' }),
      budget('b-day-alice', 'acme', 'Alice daily', { period: 'day', amount: '0.05', mode: 'hard', user: 'alice' }),
      budget('b-week-search', 'acme', 'Search weekly', {
        period: 'week',
        amount: '1000',
        mode: 'hard',
        team: 'search',
      }),
      budget('b-gone', 'acme', 'Deleted budget', { period: 'month', amount: '1', mode: 'hard', deleted: 1 }),
      budget('b-globex', 'globex', 'Globex monthly', { period: 'month', amount: '500', mode: 'soft' }),
    ].map((b) => ({ ...b, created_at: now, updated_at: now })),
    'v1',
  );
  const recon: Record<string, unknown>[] = [];
  for (let d = 1; d <= 5; d++) {
    const day = new Date(END.getTime() - d * DAY).toISOString().slice(0, 10);
    for (const provider of ['openai', 'anthropic']) {
      const drift = provider === 'anthropic' && d === 1 ? 12.5 : 0.4;
      recon.push({
        day,
        tenant: 'acme',
        provider,
        dimension: 'total',
        key: '',
        tracked_usd: '10',
        billed_usd: String(10 * (1 + drift / 100)),
        drift_pct: drift,
        status: drift > 5 ? 'drift' : 'match',
        checked_at: now,
        details: '',
      });
    }
  }
  // A day whose Google bill could not be read: unknown (NULL), never $0.
  recon.push({
    day: new Date(END.getTime() - 2 * DAY).toISOString().slice(0, 10),
    tenant: 'acme',
    provider: 'google',
    dimension: 'total',
    key: '',
    tracked_usd: '10',
    billed_usd: null,
    drift_pct: null,
    status: 'error',
    checked_at: now,
    details: '{"billed":"unknown"}',
  });
  await insert(store, 'reconciliation', recon, 'v1');
  await insert(
    store,
    'alert_events',
    [
      alert(
        'acme',
        'BudgetThreshold',
        'warning',
        'budget b-month',
        'fp-1',
        'firing',
        END.getTime() - 30 * HOUR,
        40,
        50,
      ),
      alert(
        'acme',
        'BudgetThreshold',
        'warning',
        'budget b-month',
        'fp-1',
        'resolved',
        END.getTime() - 20 * HOUR,
        30,
        50,
      ),
      alert('acme', 'CostSpike', 'page', 'tenant acme', 'fp-2', 'firing', END.getTime() - 2 * HOUR, 9.5, 2.1),
      alert('acme', 'UnpricedModel', 'warning', 'custom/acme-llm-7b', 'fp-3', 'firing', END.getTime() - 5 * DAY, 3, 0),
    ],
    'v1',
  );
  await insert(store, 'ingest_stats', ingestStats(END.getTime() - 6 * HOUR, END.getTime()), 'v1');
  return { acme, globex };
}

function budget(
  id: string,
  tenant: string,
  name: string,
  o: { period: string; amount: string; mode: string; user?: string; team?: string; deleted?: number },
) {
  return {
    id,
    tenant,
    name,
    scope_team: o.team ?? '',
    scope_user: o.user ?? '',
    scope_feature: '',
    scope_model: '',
    period: o.period,
    amount_usd: o.amount,
    mode: o.mode,
    thresholds: [75, 90, 100],
    deleted: o.deleted ?? 0,
  };
}

function alert(
  tenant: string,
  alertname: string,
  severity: string,
  scope: string,
  fingerprint: string,
  state: string,
  at: number,
  observed: number,
  limit: number,
) {
  return {
    ts: iso(new Date(at)),
    tenant,
    alertname,
    severity,
    scope,
    budget_id: '',
    period_start: iso(new Date(Math.floor(at / DAY) * DAY)).slice(0, 19),
    threshold: 90,
    observed,
    limit_value: limit,
    state,
    fingerprint,
    details: '',
  };
}

/** One row per minute per metric from two instances; counters are per-minute deltas. */
export function ingestStats(fromMs: number, toMs: number, opts: { stopAcceptingAt?: number } = {}) {
  const rows: Record<string, unknown>[] = [];
  for (let t = fromMs; t < toMs; t += 60_000) {
    for (const instance of ['ingest-0', 'ingest-1']) {
      const accepting = opts.stopAcceptingAt === undefined || t < opts.stopAcceptingAt;
      const ts = iso(new Date(t)).slice(0, 19);
      const received = accepting ? 120 : 0;
      rows.push({ ts, instance, metric: 'spans_received', reason: '', value: received });
      rows.push({ ts, instance, metric: 'spans_accepted', reason: '', value: accepting ? 117 : 0 });
      rows.push({ ts, instance, metric: 'spans_rejected', reason: 'invalid_usage', value: accepting ? 2 : 0 });
      rows.push({ ts, instance, metric: 'spans_rejected', reason: 'payload_too_large', value: accepting ? 1 : 0 });
      rows.push({ ts, instance, metric: 'dedup_hits', reason: '', value: accepting ? 3 : 0 });
      rows.push({ ts, instance, metric: 'values_repaired', reason: 'lone_surrogate', value: accepting ? 1 : 0 });
      const refused = accepting && (t / 60_000) % 10 === 0 ? 1 : 0;
      rows.push({ ts, instance, metric: 'span_costs_refused', reason: 'above_cap', value: refused });
      rows.push({ ts, instance, metric: 'batches_written', reason: '', value: accepting ? 4 : 0 });
      rows.push({ ts, instance, metric: 'spool_bytes', reason: '', value: 4096 });
      rows.push({ ts, instance, metric: 'spool_age_seconds', reason: '', value: 2 });
      rows.push({ ts, instance, metric: 'insert_ms_p99', reason: '', value: 35 });
    }
  }
  return rows;
}
