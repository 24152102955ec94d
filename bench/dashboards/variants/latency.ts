import type { ProbeContext, Variant } from '../probe.ts';

/**
 * The t-digest panels with and without the per-provider hourly and per-day projections (048):
 * "without" forbids them by name (force_optimize_projection_name is not that; the setting
 * `preferred_optimize_projection_name` only prefers), so it names the older projection to prefer.
 */
export function variants(c: ProbeContext): Variant[] {
  const out: Variant[] = [];
  const pair = (v: Variant, older: string) =>
    out.push(
      { ...v, name: `${v.name} (${older})`, sql: `${v.sql}\nSETTINGS preferred_optimize_projection_name = '${older}'` },
      v,
    );
  pair(c.panel('models', 'p95 latency by provider', 7), 'by_model_hour');
  pair(c.panel('overview', 'Latency p50 / p95', 90), 'by_model_day');
  pair(c.panel('models', 'Models in range', 7), 'by_model_hour');
  return out;
}
