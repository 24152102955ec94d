import { fingerprintOf } from '../alerts/fingerprint.js';
import type { DesiredAlert } from '../alerts/types.js';
import type { Store } from '../store/client.js';
import { costSpike, type ErrorRules, errorSpike, type SpikeRules } from './detect.js';
import { type HourlyKeyRow, hourlyByKey, unpricedModels } from './queries.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export const COST_SPIKE = 'CostSpike';
export const ERROR_RATE_SPIKE = 'ErrorRateSpike';
export const UNPRICED_MODEL = 'UnpricedModel';

export interface AnomalyOptions {
  spike: SpikeRules;
  errors: ErrorRules;
}

interface Series {
  tenant: string;
  scope: string;
  /** hour (epoch ms) → figures */
  hours: Map<number, { cost: number; requests: number; errors: number }>;
}

/**
 * Series per tenant (scope `total`) and per tenant, service and model (pure): the keys the
 * anomaly rules are applied to.
 */
export function seriesOf(rows: readonly HourlyKeyRow[]): Series[] {
  const all = new Map<string, Series>();
  const add = (tenant: string, scope: string, r: HourlyKeyRow) => {
    const id = `${tenant}\0${scope}`;
    let s = all.get(id);
    if (!s) {
      s = { tenant, scope, hours: new Map() };
      all.set(id, s);
    }
    const h = s.hours.get(r.hour) ?? { cost: 0, requests: 0, errors: 0 };
    h.cost += r.cost;
    h.requests += r.requests;
    h.errors += r.errors;
    s.hours.set(r.hour, h);
  };
  for (const r of rows) {
    add(r.tenant, 'total', r);
    add(r.tenant, `service=${r.service},model=${r.model}`, r);
  }
  return [...all.values()];
}

/**
 * Anomaly alerts for the hours `evaluated` (the current, partial hour and the last complete one),
 * each against its own trailing baseline (pure).
 */
export function anomalyAlerts(
  series: readonly Series[],
  evaluated: readonly number[],
  opts: AnomalyOptions,
): DesiredAlert[] {
  const out: DesiredAlert[] = [];
  for (const s of series) {
    for (const hour of evaluated) {
      const cur = s.hours.get(hour) ?? { cost: 0, requests: 0, errors: 0 };
      const baseline: number[] = [];
      for (let d = 1; d <= opts.spike.baselineDays; d++) baseline.push(s.hours.get(hour - d * DAY_MS)?.cost ?? 0);
      const v = costSpike(cur.cost, baseline, opts.spike);
      const hourIso = new Date(hour).toISOString();
      if (v.isSpike) {
        out.push({
          fingerprint: fingerprintOf(COST_SPIKE, s.tenant, s.scope, hour),
          labels: { alertname: COST_SPIKE, severity: 'page', tenant: s.tenant, scope: s.scope, hour: hourIso },
          annotations: {
            summary: `cost ${v.value.toFixed(4)} USD in the hour from ${hourIso} (${s.scope}), usual ${v.mean.toFixed(4)} USD`,
            description:
              `z = ${v.z.toFixed(1)} against the same hour on the trailing ${v.samples} days ` +
              `(mean ${v.mean.toFixed(4)}, sd ${v.stdDev.toFixed(4)}); pages above ${v.bound.toFixed(4)} USD.`,
          },
          budgetId: '',
          periodStart: new Date(hour),
          threshold: 0,
          observed: v.value,
          limit: v.bound,
        });
      }
      let base = { errors: 0, requests: 0 };
      for (let h = hour - opts.errors.baselineDays * DAY_MS; h < hour - HOUR_MS; h += HOUR_MS) {
        const x = s.hours.get(h);
        if (x) base = { errors: base.errors + x.errors, requests: base.requests + x.requests };
      }
      const e = errorSpike(cur, base, opts.errors);
      if (e.isSpike) {
        out.push({
          fingerprint: fingerprintOf(ERROR_RATE_SPIKE, s.tenant, s.scope, hour),
          labels: { alertname: ERROR_RATE_SPIKE, severity: 'page', tenant: s.tenant, scope: s.scope, hour: hourIso },
          annotations: {
            summary: `${(e.rate * 100).toFixed(1)}% of ${e.requests} calls failed in the hour from ${hourIso} (${s.scope})`,
            description: `baseline ${(e.baselineRate * 100).toFixed(2)}% over ${opts.errors.baselineDays} days, z = ${e.z.toFixed(1)}`,
          },
          budgetId: '',
          periodStart: new Date(hour),
          threshold: 0,
          observed: e.rate,
          limit: e.baselineRate,
        });
      }
    }
  }
  return out;
}

/** Everything the anomaly rules need, read once per evaluation. */
export async function evaluateAnomalies(store: Store, now: Date, opts: AnomalyOptions): Promise<DesiredAlert[]> {
  const current = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const evaluated = [current - HOUR_MS, current];
  const days = Math.max(opts.spike.baselineDays, opts.errors.baselineDays);
  const rows = await hourlyByKey(store, new Date(current - HOUR_MS - days * DAY_MS), new Date(current + HOUR_MS));
  const alerts = anomalyAlerts(seriesOf(rows), evaluated, opts);
  // An unpriced model (or one priced only by a default price): once per model and UTC day while
  // it keeps being seen (last 24 h).
  const day = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  for (const u of await unpricedModels(store, new Date(current - 23 * HOUR_MS), new Date(current + HOUR_MS))) {
    const scope = `provider=${u.provider},model=${u.model}`;
    const parts = [
      ...(u.requests > 0 ? [`${u.requests} call(s) have no price: their cost is unknown`] : []),
      ...(u.defaulted > 0 ? [`${u.defaulted} call(s) were priced by a default price only`] : []),
    ];
    alerts.push({
      fingerprint: fingerprintOf(UNPRICED_MODEL, u.tenant, scope, day),
      labels: { alertname: UNPRICED_MODEL, severity: 'warning', tenant: u.tenant, scope },
      annotations: {
        summary: `${u.provider}/${u.model} in the last 24 h: ${parts.join('; ')}`,
        unpriced: String(u.requests),
        defaulted: String(u.defaulted),
        description:
          'Add a price override (tokenmeter prices set) so that these calls are counted in spend and budgets at their real price.',
      },
      budgetId: '',
      periodStart: new Date(day),
      threshold: 0,
      observed: u.requests + u.defaulted,
      limit: 0,
    });
  }
  return alerts;
}

/**
 * The anomaly alerts the evaluator would have raised for each complete hour in [from, to),
 * had it been running then: for a store filled with history at once (the demo's past).
 */
export async function anomalyAlertsBetween(
  store: Store,
  from: Date,
  to: Date,
  opts: AnomalyOptions,
): Promise<DesiredAlert[]> {
  const first = Math.ceil(from.getTime() / HOUR_MS) * HOUR_MS;
  const hours: number[] = [];
  for (let h = first; h + HOUR_MS <= to.getTime(); h += HOUR_MS) hours.push(h);
  const days = Math.max(opts.spike.baselineDays, opts.errors.baselineDays);
  const rows = await hourlyByKey(store, new Date(first - days * DAY_MS), to);
  return anomalyAlerts(seriesOf(rows), hours, opts);
}
