import type { ProbeContext, Variant } from '../probe.ts';

/** One user's distribution query (usage/users/:id, estimate?user=) with and without FINAL on ai_user_calls. */
export function variants(c: ProbeContext): Variant[] {
  const to = c.end / 1000;
  const from = to - 30 * 86_400;
  const q = (
    final: string,
    feature: string,
  ) => `SELECT count() AS calls, quantilesExact(0.1, 0.5, 0.9)(input_tokens + output_tokens) AS tq
FROM ai_user_calls ${final}
WHERE tenant = {tenant:String} AND timestamp >= toDateTime64({from:Float64}, 3, 'UTC') AND timestamp < toDateTime64({to:Float64}, 3, 'UTC')
  AND status != 'error' AND user_id = {user:String}${feature}`;
  const params = { tenant: c.tenant, user: c.user, from, to };
  return [
    { name: 'FINAL', sql: q('FINAL', ''), params },
    { name: 'no FINAL', sql: q('', ''), params },
    { name: 'FINAL, feature-3', sql: q('FINAL', " AND feature = 'feature-3'"), params },
    { name: 'no FINAL, feature-3', sql: q('', " AND feature = 'feature-3'"), params },
  ];
}
