import { execFileSync } from 'node:child_process';
import { expandPanelSql, grafanaInterval } from '@tokenmeter/dashboards';
import type { ProbeContext, Variant } from '../probe.ts';

/**
 * Migration 052: one user's calls from ai_user_calls (monthly parts) against ai_calls (daily parts),
 * alternately. The per-call distribution of usage/users/:id over the chosen user's last 36 days
 * (the days that hold 2,000 calls at 50 M), and Spend by custom property with the user chosen as
 * commit AT (environment; default `main`: ai_calls' by_property_user_day) and as now built.
 */
const AT = process.env.AT ?? 'main';

export function variants(c: ProbeContext): Variant[] {
  const to = c.end / 1000;
  const from = to - 36 * 86_400;
  const distribution = (table: string) => `SELECT count() AS calls,
  quantilesExact(0.1, 0.5, 0.9)(input_tokens + output_tokens) AS tq, varPop(toFloat64(input_tokens + output_tokens)) AS tvar,
  quantileExact(0.5)(input_tokens) AS in50, quantileExact(0.5)(output_tokens) AS out50,
  quantilesExactIf(0.1, 0.5, 0.9)(toFloat64(assumeNotNull(cost_usd)), priced) AS cq
FROM ${table}
WHERE tenant = {tenant:String} AND timestamp >= toDateTime64({from:Float64}, 3, 'UTC') AND timestamp < toDateTime64({to:Float64}, 3, 'UTC')
  AND status != 'error' AND user_id = {user:String}`;
  const params = { tenant: c.tenant, user: c.user, from, to };
  const out: Variant[] = [
    { name: 'distribution 36 d, ai_calls (by_user_calls)', sql: distribution('ai_calls'), params },
    { name: 'distribution 36 d, ai_user_calls FINAL', sql: distribution('ai_user_calls FINAL'), params },
  ];
  const json = JSON.parse(
    execFileSync('git', ['show', `${AT}:dashboards/generated/tokenmeter-users.json`], { encoding: 'utf8' }),
  ) as { panels: { title: string; targets: { rawSql: string }[] }[] };
  const sql = json.panels.find((p) => p.title === 'Spend by custom property')?.targets[0]?.rawSql ?? '';
  for (const days of [7, 30, 90]) {
    const now = c.panel('users', 'Spend by custom property', days, c.user);
    const start = new Date(c.end - days * 86_400_000);
    const end = new Date(c.end);
    const variables: Record<string, string[]> = Object.fromEntries(
      ['tenant', 'service', 'provider', 'model', 'user', 'feature', 'property'].map((v) => [v, ['$__all']]),
    );
    variables.user = [c.user];
    const old = expandPanelSql(sql, {
      from: start,
      to: end,
      intervalSeconds: grafanaInterval(start, end, 1000),
      variables,
    });
    out.push({ name: `${now.name} at ${AT}`, sql: old.sql, params: old.params }, now);
  }
  return out;
}
