import type { ProbeContext, Variant } from '../probe.ts';

/**
 * p95 latency by provider, "All" over 7 days: the panel as built (a point per hour from
 * by_model_hour's states) against the same states merged into fewer, wider points, to see whether
 * the time goes into merging states (the same either way) or into finishing one digest per point.
 */
export function variants(c: ProbeContext): Variant[] {
  const now = c.panel('models', 'p95 latency by provider', 7);
  const bucket = (hours: number): Variant => ({
    name: `${now.name}, a point per ${hours} h`,
    sql: now.sql.replaceAll('INTERVAL 600 second', `INTERVAL ${hours * 3600} second`),
    params: now.params,
  });
  return [now, bucket(4), bucket(24)];
}
