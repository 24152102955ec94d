import { insertSettings, type Store } from '../../ingest/src/store/client.ts';
import { seedCalls, type SeedSummary } from '../support/seed.ts';
import { ADMIN_KEY } from './support.ts';

/**
 * Everything the dashboards draw, for two tenants: calls (the shared seeder), budgets through
 * the budgets API, and rows in alert_events, reconciliation and ingest_stats, so that no
 * panel of any generated dashboard is empty.
 */
export interface WebSeed {
  end: Date;
  acme: SeedSummary;
  globex: SeedSummary;
  budgetIds: string[];
}

const iso = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

export async function seedWeb(svc: { url: string; store: Store }, days = 10): Promise<WebSeed> {
  const end = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  const acme = await seedCalls(svc.store, { tenant: 'acme', days, end, callsPerHour: 12, seed: 7 });
  const globex = await seedCalls(svc.store, {
    tenant: 'globex',
    days,
    end,
    callsPerHour: 5,
    seed: 8,
    spike: { at: new Date(end.getTime() - 5 * 3_600_000), factor: 12 },
  });
  const budgetIds: string[] = [];
  for (const b of [
    { name: 'acme monthly', period: 'month', amountUsd: '40', mode: 'hard' },
    { name: 'search team daily', period: 'day', amountUsd: '0.5', mode: 'soft', scope: { team: 'search' } },
    { name: 'alice weekly', period: 'week', amountUsd: '2', mode: 'hard', scope: { user: 'alice' } },
  ]) {
    const res = await fetch(`${svc.url}/api/v1/budgets?tenant=acme`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...b, tenant: 'acme' }),
    });
    const body = (await res.json()) as { id?: string; error?: string };
    if (!res.ok || !body.id) throw new Error(`budget create failed ${res.status}: ${body.error}`);
    budgetIds.push(body.id);
  }
  const h = (n: number) => new Date(end.getTime() - n * 3_600_000);
  const alerts = [
    {
      ts: h(30),
      alertname: 'BudgetThreshold',
      severity: 'warning',
      scope: 'global',
      budget_id: budgetIds[0],
      threshold: 75,
      observed: 30,
      limit_value: 40,
      state: 'firing',
      fingerprint: 'b1-75',
    },
    {
      ts: h(6),
      alertname: 'BudgetThreshold',
      severity: 'page',
      scope: 'user=alice',
      budget_id: budgetIds[2],
      threshold: 90,
      observed: 1.8,
      limit_value: 2,
      state: 'firing',
      fingerprint: 'b3-90',
    },
    {
      ts: h(50),
      alertname: 'BudgetThreshold',
      severity: 'warning',
      scope: 'team=search',
      budget_id: budgetIds[1],
      threshold: 75,
      observed: 0.4,
      limit_value: 0.5,
      state: 'firing',
      fingerprint: 'b2-75',
    },
    {
      ts: h(26),
      alertname: 'BudgetThreshold',
      severity: 'warning',
      scope: 'team=search',
      budget_id: budgetIds[1],
      threshold: 75,
      observed: 0.4,
      limit_value: 0.5,
      state: 'resolved',
      fingerprint: 'b2-75',
    },
  ].map((a) => ({ ...a, tenant: 'acme', period_start: iso(h(100)).slice(0, 19), details: '' }));
  alerts.push({
    ts: h(5),
    tenant: 'globex',
    alertname: 'CostSpike',
    severity: 'page',
    scope: 'service=chat-api',
    budget_id: '',
    threshold: 0,
    observed: 3.2,
    limit_value: 0.9,
    state: 'firing',
    fingerprint: 'spike-1',
    period_start: iso(h(5)).slice(0, 19),
    details: '',
  } as never);
  await svc.store.writer.insert({
    table: 'alert_events',
    values: alerts.map((a) => ({ ...a, ts: iso(a.ts) })),
    format: 'JSONEachRow',
    clickhouse_settings: insertSettings('web-seed-alerts'),
  });
  const recon = [];
  for (let d = 1; d <= 6; d++) {
    const day = new Date(end.getTime() - d * 86_400_000).toISOString().slice(0, 10);
    for (const provider of ['openai', 'anthropic']) {
      const tracked = 1 + d / 10;
      const billed = provider === 'openai' && d % 3 === 0 ? tracked * 1.08 : tracked;
      const drift = (100 * (billed - tracked)) / tracked;
      recon.push({
        day,
        tenant: 'acme',
        provider,
        dimension: 'total',
        key: '',
        tracked_usd: tracked.toFixed(6),
        billed_usd: billed.toFixed(6),
        drift_pct: drift,
        status: Math.abs(drift) > 2 ? 'drift' : 'match',
        checked_at: iso(end),
        details: '',
      });
    }
  }
  await svc.store.writer.insert({
    table: 'reconciliation',
    values: recon,
    format: 'JSONEachRow',
    clickhouse_settings: insertSettings('web-seed-recon'),
  });
  const stats = [];
  for (let m = 0; m < 6 * 60; m += 5) {
    const ts = iso(new Date(Date.now() - m * 60_000)).slice(0, 19);
    const received = 600 + ((m * 37) % 200);
    const rejected = m % 60 === 0 ? 12 : 0;
    stats.push(
      { ts, instance: 'web-test', metric: 'spans_received', reason: '', value: received },
      { ts, instance: 'web-test', metric: 'spans_accepted', reason: '', value: received - rejected },
      { ts, instance: 'web-test', metric: 'spans_rejected', reason: 'invalid_usage', value: rejected },
      { ts, instance: 'web-test', metric: 'dedup_hits', reason: '', value: m % 30 === 0 ? 3 : 0 },
      { ts, instance: 'web-test', metric: 'auth_failures', reason: '', value: m % 45 === 0 ? 1 : 0 },
      { ts, instance: 'web-test', metric: 'values_repaired', reason: 'lone_surrogate', value: m % 20 === 0 ? 2 : 0 },
      { ts, instance: 'web-test', metric: 'span_costs_refused', reason: 'above_cap', value: m % 60 === 0 ? 1 : 0 },
      { ts, instance: 'web-test', metric: 'spool_bytes', reason: '', value: (m % 90) * 4096 },
      { ts, instance: 'web-test', metric: 'spool_age_seconds', reason: '', value: m % 90 },
      { ts, instance: 'web-test', metric: 'insert_ms_p99', reason: '', value: 20 + (m % 17) },
    );
  }
  await svc.store.writer.insert({
    table: 'ingest_stats',
    values: stats,
    format: 'JSONEachRow',
    clickhouse_settings: insertSettings('web-seed-stats'),
  });
  return { end, acme, globex, budgetIds };
}
