import { execFileSync } from 'node:child_process';
import { expandPanelSql, grafanaInterval } from '@tokenmeter/dashboards';
import type { ProbeContext, Variant } from '../probe.ts';

/** The Budgets panels as at `main` and as now built. */
export function variants(c: ProbeContext): Variant[] {
  const json = JSON.parse(
    execFileSync('git', ['show', 'main:dashboards/generated/tokenmeter-budgets.json'], { encoding: 'utf8' }),
  ) as { panels: { title: string; targets: { rawSql: string }[] }[] };
  const out: Variant[] = [];
  for (const title of ['Percent used', 'Burn rate and forecast', 'Hard-limited scopes']) {
    for (const days of [1, 30]) {
      const now = c.panel('budgets', title, days);
      const from = new Date(c.end - days * 86_400_000);
      const to = new Date(c.end);
      const sql = json.panels.find((p) => p.title === title)?.targets[0]?.rawSql ?? '';
      const variables = { tenant: ['$__all'] };
      const old = expandPanelSql(sql, { from, to, intervalSeconds: grafanaInterval(from, to, 1000), variables });
      out.push({ name: `${now.name} main`, sql: old.sql, params: old.params }, now);
    }
  }
  return out;
}
