import { chDateTime } from '../budgets/period.js';
import { insertSettings, type Store } from '../store/client.js';
import { readRows } from '../usage/read.js';
import type { AlertState, DesiredAlert } from './types.js';

/**
 * The `alert_events` history: one `firing` row when an alert starts and one `resolved` row when
 * it ends, per fingerprint. Inserts carry a token derived from fingerprint and state, so a retry
 * never records twice.
 */
export async function recordAlertEvent(store: Store, a: DesiredAlert, state: AlertState, at: Date): Promise<void> {
  const row = {
    ts: at.toISOString(),
    tenant: a.labels.tenant,
    alertname: a.labels.alertname,
    severity: a.labels.severity,
    scope: a.labels.scope,
    budget_id: a.budgetId,
    period_start: chDateTime(a.periodStart),
    threshold: a.threshold,
    observed: a.observed,
    limit_value: a.limit,
    state,
    fingerprint: a.fingerprint,
    details: JSON.stringify({ labels: a.labels, annotations: a.annotations }),
  };
  await store.writer.insert({
    table: `${store.database}.alert_events`,
    format: 'JSONEachRow',
    values: [row],
    clickhouse_settings: insertSettings(`alert-${a.fingerprint}-${state}`),
  });
}

interface EventRow {
  fingerprint: string;
  state: AlertState;
  budget_id: string;
  period_start: string;
  threshold: number;
  observed: number;
  limit_value: number;
  details: string;
}

/**
 * Every fingerprint ever recorded under these alertnames, and those whose latest state is still
 * `firing` (to resume after a restart). Other writers' alerts (reconciliation's drift alerts)
 * are theirs to resolve: never loaded here.
 */
export async function loadAlertState(
  store: Store,
  alertnames: readonly string[],
): Promise<{ seen: Set<string>; firing: DesiredAlert[] }> {
  const rows = await readRows<EventRow>(
    store,
    `SELECT fingerprint, argMax(state, (ts, state = 'resolved')) AS state, any(budget_id) AS budget_id,
            toString(any(period_start)) AS period_start, any(threshold) AS threshold,
            argMax(observed, ts) AS observed, any(limit_value) AS limit_value, any(details) AS details
     FROM alert_events WHERE alertname IN {names:Array(String)} GROUP BY fingerprint`,
    { names: alertnames },
  );
  const seen = new Set<string>();
  const firing: DesiredAlert[] = [];
  for (const r of rows) {
    seen.add(r.fingerprint);
    if (r.state !== 'firing') continue;
    const details = JSON.parse(r.details) as Pick<DesiredAlert, 'labels' | 'annotations'>;
    firing.push({
      fingerprint: r.fingerprint,
      labels: details.labels,
      annotations: details.annotations,
      budgetId: r.budget_id,
      periodStart: new Date(`${r.period_start.replace(' ', 'T')}Z`),
      threshold: Number(r.threshold),
      observed: Number(r.observed),
      limit: Number(r.limit_value),
    });
  }
  return { seen, firing };
}

export interface AlertEventView {
  ts: string;
  tenant: string;
  alertname: string;
  severity: string;
  scope: string;
  budget_id: string;
  period_start: string;
  threshold: number;
  observed: number;
  limit_value: number;
  state: AlertState;
  fingerprint: string;
}

/** The history of one tenant, newest first. */
export async function listAlertEvents(store: Store, tenant: string, limit = 500): Promise<AlertEventView[]> {
  return readRows<AlertEventView>(
    store,
    `SELECT toString(ts) AS ts, tenant, alertname, severity, scope, budget_id, toString(period_start) AS period_start,
            threshold, observed, limit_value, state, fingerprint
     FROM alert_events FINAL WHERE tenant = {tenant:String} ORDER BY ts DESC, state LIMIT {limit:UInt32}`,
    { tenant, limit },
  );
}
