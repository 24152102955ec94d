import type { ProbeContext, Variant } from '../probe.ts';

/** Merging 7 days of t-digest states: one per model and hour (by_model_hour) or per model and day (by_model_day). */
export function variants(c: ProbeContext): Variant[] {
  const from = Math.floor((c.end - 7 * 86_400_000) / 1000);
  const to = Math.floor(c.end / 1000);
  const q = 'quantilesTDigestMerge(0.5, 0.95, 0.99)(duration_ms_quantiles)';
  return [
    {
      name: 'hourly states',
      sql: `SELECT provider, model, ${q} FROM ai_rollup_hourly WHERE hour >= toDateTime(${from}) AND hour <= toDateTime(${to}) GROUP BY provider, model`,
    },
    {
      name: 'daily states',
      sql: `SELECT provider, model, ${q} FROM ai_rollup_daily WHERE day >= toDate(toDateTime(${from})) AND day <= toDate(toDateTime(${to})) GROUP BY provider, model`,
    },
    {
      name: 'hourly sums only',
      sql: `SELECT provider, model, sum(requests), sum(cost_usd) FROM ai_rollup_hourly WHERE hour >= toDateTime(${from}) AND hour <= toDateTime(${to}) GROUP BY provider, model`,
    },
  ];
}
