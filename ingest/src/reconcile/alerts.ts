import type { Logger } from 'pino';
import type { AlertSink } from '../alerts/alertmanager.js';
import { recordAlertEvent } from '../alerts/events.js';
import { fingerprintOf } from '../alerts/fingerprint.js';
import type { DesiredAlert } from '../alerts/types.js';
import { formatScaled } from '@tokenmeter/instrumentation/prices';
import { select, table } from '../retention/sql.js';
import type { Store } from '../store/client.js';
import type { ReconciliationRow } from './types.js';

export const DRIFT_ALERT = 'ReconciliationDrift';

/**
 * A provider-day whose total drifts beyond the threshold becomes an alert: a row in
 * `alert_events` (the history Grafana shows) and an Alertmanager alert (the page). A later
 * check of the same day that matches resolves it, in both places. Per-model drift is in
 * the annotations, not separate alerts. Alertmanager being down never fails the check: the
 * event is kept and the failure logged.
 */
export async function alertOnDrift(
  deps: { store: Store; sink: AlertSink | undefined; log: Logger; onDeliveryFailure?: () => void },
  rows: ReconciliationRow[],
  ctx: { thresholdPct: number; now: Date },
): Promise<{ fired: number; resolved: number }> {
  const out = { fired: 0, resolved: 0 };
  for (const total of rows.filter((r) => r.dimension === 'total')) {
    const fingerprint = fingerprintOf(DRIFT_ALERT, total.tenant, total.provider, total.day);
    let state: 'firing' | 'resolved';
    if (total.status === 'drift') state = 'firing';
    else if (total.status === 'match' && (await isFiring(deps.store, total.tenant, fingerprint))) state = 'resolved';
    else continue;
    const drifting = rows
      .filter((r) => r.dimension === 'model' && r.status !== 'match')
      .map(
        (r) =>
          `${r.key}: ${r.status} ${pct(r.driftPct)} (tracked $${usd(r.trackedUsd)}, billed ${billed(r.billedUsd)})`,
      );
    const summary = `${total.provider} bill for ${total.day}: ${billed(total.billedUsd)}; tokenmeter tracked $${usd(total.trackedUsd)} (drift ${pct(total.driftPct)} = (billed − tracked) / tracked, threshold ${ctx.thresholdPct} %)`;
    const scope = `provider=${total.provider},day=${total.day}`;
    const alert: DesiredAlert = {
      fingerprint,
      labels: {
        alertname: DRIFT_ALERT,
        severity: 'warning',
        tenant: total.tenant,
        scope,
        provider: total.provider,
        day: total.day,
      },
      annotations: {
        summary,
        tracked_usd: usd(total.trackedUsd),
        billed_usd: total.billedUsd === null ? 'unknown' : usd(total.billedUsd),
        drift_pct: total.driftPct === null ? 'unknown' : String(total.driftPct),
        ...(drifting.length ? { models: drifting.join('\n') } : {}),
      },
      budgetId: '',
      periodStart: new Date(`${total.day}T00:00:00Z`),
      threshold: Math.round(ctx.thresholdPct),
      observed: total.driftPct ?? 0,
      limit: ctx.thresholdPct,
    };
    // The shared alert_events writer (alerts/events.ts), so every reader sees one row format.
    await recordAlertEvent(deps.store, alert, state, ctx.now);
    out[state === 'firing' ? 'fired' : 'resolved']++;
    if (!deps.sink) continue;
    try {
      await deps.sink.push([
        {
          labels: alert.labels,
          annotations: alert.annotations,
          startsAt: ctx.now,
          // A daily check does not re-send: the alert stands for a day unless a re-check resolves it.
          endsAt: state === 'firing' ? new Date(ctx.now.getTime() + 86_400_000) : ctx.now,
        },
      ]);
    } catch (err) {
      deps.onDeliveryFailure?.();
      deps.log.warn({ err: (err as Error).message, fingerprint }, 'drift alert not delivered to Alertmanager');
    }
  }
  return out;
}

const usd = (v: bigint) => formatScaled(v);
const billed = (v: bigint | null) => (v === null ? 'unknown' : `$${formatScaled(v)}`);
/** Signed, as the table, the panels and the CLI show it: +5.00 % is a bill 5 % above tracked. */
const pct = (v: number | null) => (v === null ? 'unknown' : `${v > 0 ? '+' : ''}${v.toFixed(2)} %`);

async function isFiring(store: Store, tenant: string, fingerprint: string): Promise<boolean> {
  const rows = await select<{ state: string }>(
    store,
    `SELECT argMax(state, ts) AS state FROM ${table(store, 'alert_events')}
     WHERE tenant = {tenant:String} AND fingerprint = {fingerprint:String}`,
    { tenant, fingerprint },
  );
  return rows[0]?.state === 'firing';
}
