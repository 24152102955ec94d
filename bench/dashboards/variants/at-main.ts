import { execFileSync } from 'node:child_process';
import { expandPanelSql, grafanaInterval } from '@tokenmeter/dashboards';
import type { ProbeContext, Variant } from '../probe.ts';

/**
 * Panels as commit AT (environment; default `main`) has them and as this checkout builds them,
 * alternately: PANELS (dashboard, title) over DAYS, "All" and one user. Edit the lists for the
 * cells in question. A panel whose old SQL needs a projection a later migration dropped reads
 * the rollup's rows instead: compare those cells another way.
 */
const AT = process.env.AT ?? 'main';
const PANELS: [string, string][] = [
  ['models', 'Models in range'],
  ['budgets', 'Percent used'],
  ['budgets', 'Burn rate and forecast'],
  ['budgets', 'Hard-limited scopes'],
];
const DAYS = [7, 90];

export function variants(c: ProbeContext): Variant[] {
  const out: Variant[] = [];
  for (const [dashboard, title] of PANELS) {
    const json = JSON.parse(
      execFileSync('git', ['show', `${AT}:dashboards/generated/tokenmeter-${dashboard}.json`], { encoding: 'utf8' }),
    ) as { panels: { title: string; targets: { rawSql: string }[] }[] };
    const sql = json.panels.find((p) => p.title === title)?.targets[0]?.rawSql ?? '';
    for (const days of DAYS) {
      for (const user of [undefined, c.user]) {
        if (user && dashboard === 'budgets') continue;
        const now = c.panel(dashboard, title, days, user);
        const from = new Date(c.end - days * 86_400_000);
        const to = new Date(c.end);
        const variables: Record<string, string[]> = Object.fromEntries(
          ['tenant', 'service', 'provider', 'model', 'user', 'feature', 'property'].map((v) => [v, ['$__all']]),
        );
        if (user) variables.user = [user];
        const old = expandPanelSql(sql, { from, to, intervalSeconds: grafanaInterval(from, to, 1000), variables });
        out.push({ name: `${now.name} at ${AT}`, sql: old.sql, params: old.params }, now);
      }
    }
  }
  return out;
}
