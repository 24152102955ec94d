import type { ProbeContext, Variant } from '../probe.ts';

/**
 * Merging t-digest states over a range, by which projection holds them: one per model and hour
 * (by_model_hour) or day (by_model_day), or pre-merged per provider and hour / per tenant and day
 * (projections a variant adds to a copy of the store: by_provider_hour, by_day).
 */
export function variants(c: ProbeContext): Variant[] {
  const from = Math.floor((c.end - 7 * 86_400_000) / 1000);
  const to = Math.floor(c.end / 1000);
  const from90 = Math.floor((c.end - 90 * 86_400_000) / 1000);
  const q = 'quantilesTDigestMerge(0.5, 0.95, 0.99)(duration_ms_quantiles)';
  const hourly = `FROM ai_rollup_hourly WHERE hour >= toDateTime(${from}) AND hour <= toDateTime(${to})`;
  const prefer = (p: string) => `\nSETTINGS preferred_optimize_projection_name = '${p}'`;
  return [
    { name: '7 d per model: by_model_hour', sql: `SELECT provider, model, ${q} ${hourly} GROUP BY provider, model` },
    {
      name: '7 d per model: by_model_day',
      sql: `SELECT provider, model, ${q} FROM ai_rollup_daily WHERE day >= toDate(toDateTime(${from})) AND day <= toDate(toDateTime(${to})) GROUP BY provider, model`,
    },
    {
      name: '7 d per provider and hour: by_model_hour',
      sql: `SELECT hour, provider, ${q} ${hourly} GROUP BY hour, provider${prefer('by_model_hour')}`,
    },
    {
      name: '7 d per provider and hour: by_provider_hour',
      sql: `SELECT hour, provider, ${q} ${hourly} GROUP BY hour, provider${prefer('by_provider_hour')}`,
    },
    {
      name: '90 d per day: by_model_day',
      sql: `SELECT day, ${q} FROM ai_rollup_daily WHERE day >= toDate(toDateTime(${from90})) GROUP BY day${prefer('by_model_day')}`,
    },
    {
      name: '90 d per day: by_day',
      sql: `SELECT day, ${q} FROM ai_rollup_daily WHERE day >= toDate(toDateTime(${from90})) GROUP BY day${prefer('by_day')}`,
    },
  ];
}
