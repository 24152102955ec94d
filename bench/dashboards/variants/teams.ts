import type { ProbeContext, Variant } from '../probe.ts';

/** The Teams panel with 036's uniq states and with fixed-size sketches (projections a migration adds). */
export function variants(c: ProbeContext): Variant[] {
  const out: Variant[] = [];
  for (const days of [7, 90]) {
    const p = c.panel('users', 'Teams', days);
    out.push(
      { ...p, name: `${p.name} uniq`, sql: p.sql.replace(/uniq\w*(\(\d+\))?\(user_id\)/, 'uniq(user_id)') },
      { ...p, name: `${p.name} uniqHLL12`, sql: p.sql.replace(/uniq\w*(\(\d+\))?\(user_id\)/, 'uniqHLL12(user_id)') },
    );
  }
  return out;
}
