import type { ProbeContext, Variant } from '../probe.ts';

/**
 * The t-digest panels as built, and with an older projection preferred by name
 * (`preferred_optimize_projection_name`): Latency over 90 days with 029's by_model_day instead of
 * 048's by_day. On a copy with a by_provider_hour projection added by hand, the first pair compares it.
 */
export function variants(c: ProbeContext): Variant[] {
  const out: Variant[] = [];
  // The older projection preferred: in the panel's own SETTINGS clause when it has one.
  const prefer = (sql: string, name: string) =>
    sql.includes('preferred_optimize_projection_name')
      ? sql.replace(/preferred_optimize_projection_name = '\w+'/, `preferred_optimize_projection_name = '${name}'`)
      : `${sql}\nSETTINGS preferred_optimize_projection_name = '${name}'`;
  const pair = (v: Variant, older: string) =>
    out.push({ ...v, name: `${v.name} (${older})`, sql: prefer(v.sql, older) }, v);
  pair(c.panel('models', 'p95 latency by provider', 7), 'by_model_hour');
  pair(c.panel('overview', 'Latency p50 / p95', 90), 'by_model_day');
  pair(c.panel('models', 'Models in range', 7), 'by_model_hour');
  return out;
}
